"""Training recipes for GANs on a small step budget (issue 18): levers, not architectures.

Every lever here leaves the published networks and losses alone, so a notebook turns it on
from its ``cfg`` and says why:

- :class:`DiffAugment` / :func:`augmented_discriminator` — differentiable augmentation
  (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"): the same
  random brightness, contrast, translation and cutout are applied to *every* image the
  discriminator sees, real or generated, in D's step and in G's step. D can no longer win by
  memorising the few thousand training images, and the gradient still reaches G because each
  transform is differentiable. Only in training mode; never at sampling time.
- :class:`GeneratorEMA` — an exponential moving average of the generator's weights (Karras
  et al. 2018; Yazıcı et al. 2019). The averaged generator is used to *draw* samples; the
  training generator is unchanged. It smooths the step-to-step oscillation of adversarial
  training, which is largest when the learning rate is sized for few steps.

Both work under mixed precision and on several replicas (the augmentation is per image; the
average is updated after each optimiser step by the callback, outside the train step).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keras
import tensorflow as tf

__all__ = ["DiffAugment", "augmented_discriminator", "GeneratorEMA", "POLICIES"]

POLICIES = ("color", "translation", "cutout")


class DiffAugment(keras.layers.Layer):
    """Differentiable augmentation of a batch of images in [-1, 1] (training mode only).

    Args:
        policy: transforms to apply, any of :data:`POLICIES`, in that order.
        translation: largest shift, as a fraction of the side (DiffAugment: 1/8); pixels that
            come in from outside are the background value -1 (air on a radiograph).
        cutout: side of the erased square, as a fraction of the image side (DiffAugment: 1/2).
        seed: seed of the layer's random generator.

    Raises:
        ValueError: an unknown transform name or a fraction outside [0, 1).
    """

    def __init__(
        self,
        policy: tuple[str, ...] | list[str] = POLICIES,
        translation: float = 0.125,
        cutout: float = 0.5,
        seed: int | None = None,
        **kwargs,
    ):
        kwargs.setdefault("autocast", False)  # keep the images' dtype (float16/bfloat16)
        super().__init__(**kwargs)
        unknown = [p for p in policy if p not in POLICIES]
        if unknown:
            raise ValueError(f"DiffAugment: unknown transform(s) {unknown}; expected {POLICIES}")
        for name, value in (("translation", translation), ("cutout", cutout)):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"DiffAugment: {name} must be in [0, 1), got {value}")
        self.policy = tuple(policy)
        self.translation = float(translation)
        self.cutout = float(cutout)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def get_config(self):
        return {
            **super().get_config(),
            "policy": list(self.policy),
            "translation": self.translation,
            "cutout": self.cutout,
        }

    def _uniform(self, shape, low=0.0, high=1.0):
        return keras.random.uniform(shape, low, high, seed=self.seed_generator)

    def call(self, images, training=None):
        if not training:
            return images
        dtype = images.dtype
        x = tf.cast(images, "float32")
        n = tf.shape(x)[0]
        height, width = tf.shape(x)[1], tf.shape(x)[2]
        if "color" in self.policy:
            x = x + self._uniform((n, 1, 1, 1), -0.5, 0.5)  # brightness (range 2: +-0.5)
            mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
            x = (x - mean) * self._uniform((n, 1, 1, 1), 0.5, 1.5) + mean  # contrast
        if "translation" in self.policy and self.translation > 0:
            x = self._translate(x, n, height, width)
        if "cutout" in self.policy and self.cutout > 0:
            x = self._cut(x, n, height, width)
        return tf.cast(x, dtype)

    def _shifts(self, n, side):
        limit = tf.cast(tf.cast(side, "float32") * self.translation + 0.5, "int32")
        raw = self._uniform((n, 1), 0.0, 1.0) * tf.cast(2 * limit + 1, "float32")
        return tf.cast(tf.floor(raw), "int32") - limit

    def _translate(self, x, n, height, width):
        """Shift each image by whole pixels; what comes in is background (-1)."""
        rows = tf.range(height)[None, :] - self._shifts(n, height)  # (n, H) source rows
        cols = tf.range(width)[None, :] - self._shifts(n, width)
        row_ok = (rows >= 0) & (rows < height)
        col_ok = (cols >= 0) & (cols < width)
        x = tf.gather(x, tf.clip_by_value(rows, 0, height - 1), axis=1, batch_dims=1)
        x = tf.gather(x, tf.clip_by_value(cols, 0, width - 1), axis=2, batch_dims=1)
        inside = tf.cast(row_ok[:, :, None, None] & col_ok[:, None, :, None], x.dtype)
        return x * inside - (1.0 - inside)

    def _cut(self, x, n, height, width):
        """Erase one square per image (set it to background, -1)."""
        size_h = tf.cast(tf.cast(height, "float32") * self.cutout + 0.5, "int32")
        size_w = tf.cast(tf.cast(width, "float32") * self.cutout + 0.5, "int32")
        top = tf.cast(self._uniform((n, 1)) * tf.cast(height, "float32"), "int32") - size_h // 2
        left = tf.cast(self._uniform((n, 1)) * tf.cast(width, "float32"), "int32") - size_w // 2
        r, c = tf.range(height)[None, :], tf.range(width)[None, :]
        in_rows = (r >= top) & (r < top + size_h)
        in_cols = (c >= left) & (c < left + size_w)
        cut = tf.cast(in_rows[:, :, None, None] & in_cols[:, None, :, None], x.dtype)
        return x * (1.0 - cut) - cut


class _AugmentedDiscriminator(keras.Model):
    """``discriminator(augment(images), ...)`` in training mode (or always); else D alone."""

    def __init__(
        self,
        discriminator: keras.Model,
        augment: DiffAugment,
        image_channels: int | None = None,
        image_inputs: int = 1,
        always: bool = False,
        **kwargs,
    ):
        super().__init__(name=f"{discriminator.name}_diffaugment", **kwargs)
        self.discriminator = discriminator
        self.augment = augment
        self.image_channels = image_channels
        self.image_inputs = image_inputs
        self.always = always
        self.multi_input = len(discriminator.inputs) > 1
        self.built = True  # the discriminator is built; nothing of its own to build

    @property
    def inputs(self):
        return self.discriminator.inputs

    def _augment(self, images, training):
        if self.image_channels is None:
            return self.augment(images, training=training)
        picture = self.augment(images[..., : self.image_channels], training=training)
        return keras.ops.concatenate([picture, images[..., self.image_channels :]], axis=-1)

    def call(self, inputs, training=None):
        augment = True if self.always else training
        if self.multi_input:  # [images..., labels]: augment the leading image inputs only
            return self.discriminator(
                [self._augment(x, augment) if i < self.image_inputs else x
                 for i, x in enumerate(inputs)],
                training=training,
            )  # fmt: skip
        return self.discriminator(self._augment(inputs, augment), training=training)

    @property
    def input_shape(self):
        return self.discriminator.input_shape

    @property
    def output_shape(self):
        return self.discriminator.output_shape


def augmented_discriminator(
    discriminator: keras.Model,
    policy: tuple[str, ...] | list[str] = POLICIES,
    image_channels: int | None = None,
    *,
    image_inputs: int = 1,
    always: bool = False,
    **options,
) -> keras.Model:
    """Wrap ``discriminator`` so that every image it sees in training mode is augmented.

    A train step calls the wrapper exactly as it calls the discriminator (``D(x,
    training=True)``, or ``D([images, labels], ...)`` for a conditional one, whose image input
    comes first); real and generated images get the same kind of random transform, in D's
    update and in G's. The wrapper's weights are the discriminator's.

    Args:
        discriminator: a built Keras model.
        policy, options: see :class:`DiffAugment`.
        image_channels: augment only the first ``image_channels`` channels of the image input
            and pass the rest through unchanged: for a discriminator that takes the label as
            extra constant channels (``concat(image, tiled one-hot)``), which must not move.
        image_inputs: how many leading inputs are images, each augmented with its own draw
            (notebook 03's discriminators take one image per scale, then the label).
        always: augment also when D is called with ``training=False``: notebook 03's G update
            reads D that way (so spectral normalisation does not renormalise), and DiffAugment
            must reach G's update too. Do not sample or evaluate through such a wrapper.
    """
    augment = DiffAugment(policy, **options)
    return _AugmentedDiscriminator(discriminator, augment, image_channels, image_inputs, always)


class GeneratorEMA(keras.callbacks.Callback):
    """Keep ``ema = d * ema + (1 - d) * weights`` of the generator after every batch.

    The decay warms up as ``min(decay, (1 + t) / (10 + t))`` for step ``t``, so the average
    is not dominated by the random initial weights in a short run: over a run of ``T`` steps
    (``T`` well below ``9 / (1 - decay)``) it weighs about the last tenth of them.
    Non-trainable weights (batch-norm statistics) are averaged too, except the weights named
    in ``copy``: a schedule such as notebook 03's attention ``tau`` is set on the generator
    by a callback and copied into the average as it is. The step ``t`` is saved with the
    average, so a resumed run continues the same warm-up.

    Attributes:
        generator: the averaged generator (a clone of the model's generator): draw samples
            and export this one.

    Args:
        decay: the long-run decay (0.999 is common for thousands of steps).
        folder: where to save the average at the end of every epoch and load it from when a
            run resumes (``ema.weights.h5``, and its step in ``ema.step.json``); ``None``
            keeps it in memory only.
        copy: names of weights that are schedules, not learnt (e.g. ``("tau",)``): copied
            from the generator after every batch instead of averaged.
    """

    def __init__(
        self,
        decay: float = 0.999,
        folder: str | os.PathLike | None = None,
        copy: tuple[str, ...] = (),
    ):
        super().__init__()
        if not 0.0 < decay < 1.0:
            raise ValueError(f"GeneratorEMA: decay must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self.folder = Path(folder) if folder is not None else None
        self.copy = frozenset(copy)
        self.generator: keras.Model | None = None
        self._step = None
        self._update = None

    @property
    def _file(self) -> Path | None:
        return None if self.folder is None else self.folder / "ema.weights.h5"

    @property
    def _step_file(self) -> Path:
        return self._file.with_name("ema.step.json")

    def attach(self, source: keras.Model) -> keras.Model:
        """Create the averaged copy of ``source`` (called at the start of training)."""
        if self.generator is None:
            self.generator = keras.models.clone_model(source)
            self.generator.set_weights(source.get_weights())
            step = 0.0
            if self._file is not None and self._file.is_file():
                self.generator.load_weights(self._file)
                if self._step_file.is_file():  # older runs saved no step: the warm-up restarts
                    step = float(json.loads(self._step_file.read_text())["step"])
            self._step = tf.Variable(step, trainable=False, dtype="float32")
            pairs = list(zip(self.generator.weights, source.weights, strict=True))

            @tf.function
            def update():
                t = self._step
                d = tf.minimum(self.decay, (1.0 + t) / (10.0 + t))
                for average, weight in pairs:
                    w = tf.cast(weight, average.dtype)
                    if average.name in self.copy:
                        average.assign(w)
                    else:
                        average.assign(tf.cast(d, average.dtype) * average + (1 - d) * w)
                self._step.assign_add(1.0)

            self._update = update
        return self.generator

    def on_train_begin(self, logs=None):
        self.attach(self.model.generator)

    def on_train_batch_end(self, batch, logs=None):
        self._update()

    def on_epoch_end(self, epoch, logs=None):
        if self._file is not None:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._file.with_name("ema.tmp.weights.h5")
            self.generator.save_weights(tmp)
            step_tmp = self._step_file.with_name("ema.step.tmp.json")
            step_tmp.write_text(json.dumps({"step": float(self._step.numpy())}))
            tmp.replace(self._file)
            step_tmp.replace(self._step_file)
