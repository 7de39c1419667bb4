"""``GAN``: a ``keras.Model`` with two networks and two optimisers that trains with ``fit()``.

The notebooks pass their own train step (what students write in 01 and 02); without one the
model runs a reference non-saturating BCE step (DCGAN, or cDCGAN when ``num_classes`` is
set), so the harness is testable and later assignments can train a baseline::

    gan = GAN(generator, discriminator, latent_dim=100, train_step_fn=my_step)
    gan.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    gan.fit(dataset, epochs=5)

A train step function has the signature ``step(gan, real_images, labels) -> dict`` and uses
``gan.generator``, ``gan.discriminator``, ``gan.g_optimizer``, ``gan.d_optimizer`` and
``gan.sample_noise``; every value of the dict it returns is averaged per epoch by a
``keras.metrics.Mean`` and shown by ``fit()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf
from keras import ops

from medganlab.runtime import jit_compile_default
from medganlab.training.spectral import unit_spectral_vectors
from medganlab.training.step_logs import StepLogs
from medganlab.training.updates import apply_gradients

__all__ = [
    "GAN",
    "TrainStepFn",
    "tile_labels",
    "generator_inputs",
    "discriminator_inputs",
    "reference_train_step",
]

TrainStepFn = Callable[["GAN", Any, Any], dict]


def tile_labels(labels, height: int, width: int) -> Any:
    """Tile one-hot labels ``(batch, classes)`` to channels ``(batch, height, width, classes)``.

    This is how a conditional discriminator sees the class: one constant channel per class,
    concatenated to the image channels.

    Raises:
        ValueError: ``labels`` is not 2-D.
    """
    labels = ops.convert_to_tensor(labels)
    if len(labels.shape) != 2:
        raise ValueError(
            f"tile_labels: expected one-hot labels of shape (batch, classes), got {labels.shape}"
        )
    tiled = ops.reshape(labels, (-1, 1, 1, labels.shape[-1]))
    return ops.tile(tiled, (1, height, width, 1))


def generator_inputs(generator, z, labels=None):
    """What to call ``generator`` with: ``z``, ``concat(z, labels)`` or ``[z, labels]``.

    A conditional generator may take one input (noise and one-hot concatenated) or two
    separate inputs ``[z, c]``; the harness supports both.
    """
    if labels is None:
        return z
    labels = ops.cast(labels, z.dtype)
    if len(generator.inputs) == 2:
        return [z, labels]
    return ops.concatenate([z, labels], axis=-1)


def discriminator_inputs(discriminator, images, labels=None):
    """What to call ``discriminator`` with: images, images + tiled label channels, or ``[images, c]``."""
    if labels is None:
        return images
    if len(discriminator.inputs) == 2:
        return [images, ops.cast(labels, images.dtype)]
    height, width = images.shape[1], images.shape[2]
    channels = ops.cast(tile_labels(labels, height, width), images.dtype)
    return ops.concatenate([images, channels], axis=-1)


def _bce(labels, logits, from_logits: bool):
    """Mean binary cross-entropy in float32."""
    logits = ops.cast(logits, "float32")
    labels = ops.cast(labels, "float32")
    return ops.mean(keras.losses.binary_crossentropy(labels, logits, from_logits=from_logits))


def _ce(labels, logits):
    """Mean categorical cross-entropy of class logits, in float32."""
    logits = ops.cast(logits, "float32")
    labels = ops.cast(labels, "float32")
    return ops.mean(keras.losses.categorical_crossentropy(labels, logits, from_logits=True))


def _class_accuracy(labels, logits):
    """Share of rows whose arg-max class logit is the one-hot label's class."""
    read = ops.argmax(logits, axis=-1)
    return ops.mean(ops.cast(ops.equal(read, ops.argmax(labels, axis=-1)), "float32"))


def reference_train_step(
    gan: GAN, real_images, labels=None, class_weight: float = 0.0, class_log_prior=None
) -> dict:
    """One non-saturating BCE DCGAN (or cDCGAN) step: update D once, then G once.

    Each update calls D once, in training mode, on ``concat([real, fake])`` (batch norm sees
    the same mixed batches in both updates; spectral normalisation updates once per call).
    G gets ``concat(z, one_hot)`` and D the image concatenated with :func:`tile_labels`
    channels when ``gan.num_classes`` is set. Discriminator outputs are logits unless
    ``compile(from_logits=False)``. Losses and accuracies are computed in float32.

    A discriminator that returns ``[score, class logits]`` (an auxiliary classifier,
    :mod:`medganlab.training.auxiliary`) adds ``class_weight`` x the class cross-entropy on
    the reals to D's loss and on the fakes to G's, and logs ``class_loss`` (reals) and
    ``class_accuracy`` (the fakes of D's update read as the label G was given).
    ``class_log_prior`` (log of each class's share of the training set), if given, is
    subtracted from the head's logits in G's term only (logit adjustment; see
    :func:`medganlab.training.auxiliary.log_prior`).
    """
    batch = ops.shape(real_images)[0]
    from_logits = gan.from_logits
    threshold = 0.0 if from_logits else 0.5

    def generate(training: bool):
        z = gan.sample_noise(batch)
        return gan.generator(generator_inputs(gan.generator, z, labels), training=training)

    def discriminate(images, training: bool):
        both = None if labels is None else ops.concatenate([labels, labels], axis=0)
        return gan.discriminator(
            discriminator_inputs(gan.discriminator, images, both), training=training
        )

    def scores_and_classes(images):
        out = discriminate(images, True)
        classes = None
        if isinstance(out, (list, tuple)) and len(out) == 2:  # [score, class logits]: AC-GAN
            out, classes = out
        elif isinstance(out, (list, tuple)):  # a model built with outputs=[score]
            (out,) = out
        return ops.reshape(ops.cast(out, "float32"), (2 * batch, -1)), classes  # 1 or per patch

    real_images = ops.cast(real_images, "float32")
    fake_images = ops.cast(generate(training=True), "float32")  # outside the tape: no G grads
    with tf.GradientTape() as tape:
        scores, classes = scores_and_classes(ops.concatenate([real_images, fake_images], axis=0))
        real_scores, fake_scores = scores[:batch], scores[batch:]
        d_loss = _bce(ops.ones_like(real_scores), real_scores, from_logits) + _bce(
            ops.zeros_like(fake_scores), fake_scores, from_logits
        )
        d_total = d_loss
        if classes is not None:
            class_loss = _ce(labels, classes[:batch])
            d_total = d_loss + class_weight * class_loss
    apply_gradients(gan.d_optimizer, tape, d_total, gan.discriminator.trainable_variables)

    with tf.GradientTape() as tape:
        fakes = ops.cast(generate(training=True), "float32")
        both = ops.concatenate([real_images, fakes], axis=0)  # same D call shape as above
        g_scores, g_classes = scores_and_classes(both)
        g_loss = _bce(ops.ones_like(g_scores[batch:]), g_scores[batch:], from_logits)
        g_total = g_loss  # non-saturating
        if g_classes is not None:
            g_read = ops.cast(g_classes[batch:], "float32")
            if class_log_prior is not None:
                g_read = g_read - class_log_prior
            g_total = g_loss + class_weight * _ce(labels, g_read)
    apply_gradients(gan.g_optimizer, tape, g_total, gan.generator.trainable_variables)

    logs = {
        "d_loss": d_loss,
        "g_loss": g_loss,
        "d_real_accuracy": ops.mean(ops.cast(real_scores > threshold, "float32")),
        "d_fake_accuracy": ops.mean(ops.cast(fake_scores <= threshold, "float32")),
    }
    if classes is not None:
        logs["class_loss"] = class_loss
        logs["class_accuracy"] = _class_accuracy(labels, classes[batch:])
    return logs


class GAN(keras.Model):
    """A generator and a discriminator trained together by ``fit()``.

    Args:
        generator: maps ``(batch, latent_dim [+ num_classes])`` to images in [-1, 1].
        discriminator: maps images (``+ num_classes`` label channels when conditional) to a
            score per image.
        latent_dim: size of the noise vector ``z``.
        train_step_fn: ``step(gan, real_images, labels) -> dict`` of scalar tensors; ``None``
            runs :func:`reference_train_step`.
        num_classes: number of classes of a conditional GAN (labels become one-hot); ``None``
            for an unconditional GAN.
        seed: seed of the noise generator (stored with the model, so it is checkpointed).
        name: model name.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int,
        train_step_fn: TrainStepFn | None = None,
        num_classes: int | None = None,
        name: str = "gan",
        seed: int = 1337,
    ):
        super().__init__(name=name)
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim: expected a positive int, got {latent_dim!r}")
        if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 2):
            raise ValueError(f"num_classes: expected None or an int >= 2, got {num_classes!r}")
        if train_step_fn is not None and not callable(train_step_fn):
            raise ValueError(
                f"train_step_fn: expected a function step(gan, real_images, labels), "
                f"got {type(train_step_fn).__name__}"
            )
        self.generator = generator
        self.discriminator = discriminator
        unit_spectral_vectors(generator, discriminator)  # float16 would underflow short ones
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.train_step_fn = train_step_fn
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.global_step = self.add_weight(
            shape=(), dtype="int64", initializer="zeros", trainable=False, name="global_step"
        )
        self.g_optimizer = None
        self.d_optimizer = None
        self.from_logits = True
        self._step_logs = StepLogs()  # made now: a variable made while tracing doubles the trace
        self.built = True  # both networks are built; fit() need not trace call()

    def compile(
        self,
        g_optimizer: keras.optimizers.Optimizer,
        d_optimizer: keras.optimizers.Optimizer,
        from_logits: bool = True,
        **kwargs,
    ) -> None:
        """Attach the two optimisers (loss-scaled under the ``mixed_float16`` policy).

        Args:
            g_optimizer: the generator's optimiser.
            d_optimizer: the discriminator's optimiser.
            from_logits: whether the discriminator outputs logits (used by the reference step).
            **kwargs: passed to ``keras.Model.compile``; ``jit_compile`` defaults to what
            :func:`medganlab.setup` decided (XLA on a GPU, or ``MEDGANLAB_XLA=1``).
        """
        for label, opt in (("g_optimizer", g_optimizer), ("d_optimizer", d_optimizer)):
            if not isinstance(opt, keras.optimizers.Optimizer):
                raise ValueError(
                    f"{label}: expected a keras.optimizers.Optimizer, got {type(opt).__name__}"
                )
        if g_optimizer is d_optimizer:
            raise ValueError("g_optimizer and d_optimizer must be two different optimizers")
        if keras.config.dtype_policy().name == "mixed_float16":
            if not isinstance(g_optimizer, keras.optimizers.LossScaleOptimizer):
                g_optimizer = keras.optimizers.LossScaleOptimizer(g_optimizer)
            if not isinstance(d_optimizer, keras.optimizers.LossScaleOptimizer):
                d_optimizer = keras.optimizers.LossScaleOptimizer(d_optimizer)
        kwargs.setdefault("jit_compile", jit_compile_default())
        super().compile(**kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.from_logits = from_logits

    def build_optimizers(self) -> None:
        """Create both optimisers' variables now (before tracing, under the active strategy).

        A ``LossScaleOptimizer`` traced before it is built would bake its initial scale into
        the step; checkpoints also need the slots to exist before they restore into them.
        """
        for optimizer, network in (
            (self.g_optimizer, self.generator),
            (self.d_optimizer, self.discriminator),
        ):
            if optimizer is not None and not optimizer.built:
                with tf.distribute.get_strategy().scope():
                    optimizer.build(network.trainable_variables)

    def fit(self, x=None, *args, **kwargs):
        """``keras.Model.fit``; a ``tf.data.Dataset`` keeps its own order (no shuffle warning)."""
        if isinstance(x, tf.data.Dataset):
            kwargs.setdefault("shuffle", False)
        self.build_optimizers()
        return super().fit(x, *args, **kwargs)

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        """The running means of the values the train step returns (reset by ``fit()`` every
        epoch); its result is ``{key: mean}``."""
        return [self._step_logs]

    def call(self, inputs, training: bool = False):
        """Generate images from ``inputs`` (noise, plus one-hot labels when conditional)."""
        return self.generator(inputs, training=training)

    def sample_noise(self, batch_size) -> Any:
        """Normal noise ``(batch_size, latent_dim)`` from the model's seeded generator.

        Under a ``tf.distribute`` strategy with N replicas each replica draws the noise of the
        global batch (N x ``batch_size``) and keeps its own slice, so replicas never share
        noise vectors and the run matches a one-device run with the global batch.
        """
        context = tf.distribute.get_replica_context()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if context is None or replicas == 1:
            return keras.random.normal(
                (batch_size, self.latent_dim), dtype="float32", seed=self.seed_generator
            )
        noise = keras.random.normal(
            (batch_size * replicas, self.latent_dim), dtype="float32", seed=self.seed_generator
        )
        start = context.replica_id_in_sync_group * batch_size
        return noise[start : start + batch_size]

    def one_hot(self, labels):
        """Return float32 one-hot labels from integer or one-hot ``labels``.

        Raises:
            ValueError: the GAN is unconditional, or the labels have an unexpected shape.
        """
        if self.num_classes is None:
            raise ValueError("one_hot: this GAN is unconditional (num_classes=None)")
        labels = ops.convert_to_tensor(labels)
        rank = len(labels.shape)
        if rank == 2 and labels.shape[-1] == 1:
            labels, rank = ops.squeeze(labels, axis=-1), 1
        if rank == 1:
            return ops.one_hot(ops.cast(labels, "int32"), self.num_classes, dtype="float32")
        if rank == 2 and labels.shape[-1] == self.num_classes:
            return ops.cast(labels, "float32")
        raise ValueError(
            f"labels: expected integers (batch,) or one-hot (batch, {self.num_classes}), "
            f"got shape {labels.shape}"
        )

    def _unpack(self, data):
        if isinstance(data, (tuple, list)):
            data = list(data)
            while data and data[-1] is None:  # train_on_batch packs (x, None, None)
                data.pop()
            if len(data) == 1:
                images, labels = data[0], None
            elif len(data) == 2:
                images, labels = data
            else:
                raise ValueError(
                    f"GAN data: expected images or (images, labels), got a tuple of {len(data)}"
                )
        else:
            images, labels = data, None
        if len(images.shape) != 4:
            raise ValueError(
                f"GAN data: expected images of shape (batch, height, width, channels), "
                f"got shape {images.shape}"
            )
        if self.num_classes is not None:
            if labels is None:
                raise ValueError(
                    f"GAN data: this GAN is conditional (num_classes={self.num_classes}); "
                    "expected (images, labels), got images only"
                )
            labels = self.one_hot(labels)
        return images, labels

    def train_step(self, data) -> dict:
        """One GAN step on a batch: the student's ``train_step_fn`` or the reference step."""
        if self.g_optimizer is None:
            raise ValueError("GAN: call compile(g_optimizer=..., d_optimizer=...) before fit()")
        images, labels = self._unpack(data)
        if self.train_step_fn is None:
            ref_labels = labels if self.num_classes is not None else None
            results = reference_train_step(self, images, ref_labels)
        else:
            results = self.train_step_fn(self, images, labels)
        if not isinstance(results, dict) or not results:
            raise ValueError(
                "train_step_fn: expected a non-empty dict of scalar tensors such as "
                f"{{'d_loss': ..., 'g_loss': ...}}, got {type(results).__name__}: {results!r}"
            )
        self.global_step.assign_add(1)
        values = {}
        for key, value in results.items():
            value = ops.cast(value, "float32")
            if len(value.shape) != 0:
                raise ValueError(
                    f"train_step_fn: expected scalar values, got {key!r} with shape {value.shape}"
                )
            values[key] = value
        self._step_logs.update_state(values)
        return self._step_logs.means(values)
