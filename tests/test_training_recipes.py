"""The GAN recipe levers: differentiable augmentation and the generator's moving average."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from medganlab.training.recipes import DiffAugment, GeneratorEMA, augmented_discriminator


def _images(n=4, size=16):
    rng = np.random.default_rng(0)
    return tf.constant(rng.uniform(-0.9, 0.9, (n, size, size, 1)).astype("float32"))


def test_diffaugment_is_identity_outside_training():
    x = _images()
    out = DiffAugment(seed=1)(x, training=False)
    np.testing.assert_array_equal(out.numpy(), x.numpy())


def test_translation_shifts_whole_pixels_and_fills_with_background():
    x = _images(n=8)
    out = DiffAugment(["translation"], translation=0.25, seed=3)(x, training=True).numpy()
    src = x.numpy()
    shifted = 0
    for got, image in zip(out, src, strict=True):
        matches = []
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                want = np.full_like(image, -1.0)
                h, w = image.shape[:2]
                ys, xs = slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0))
                yt, xt = slice(max(-dy, 0), h + min(-dy, 0)), slice(max(-dx, 0), w + min(-dx, 0))
                want[ys, xs] = image[yt, xt]
                if np.allclose(got, want):
                    matches.append((dy, dx))
        assert matches, "each augmented image must be its source shifted by whole pixels"
        shifted += matches[0] != (0, 0)
    assert shifted >= 4, "most images should move with translation=0.25"


def test_cutout_erases_one_square_of_the_given_side():
    x = tf.zeros((6, 16, 16, 1))
    out = DiffAugment(["cutout"], cutout=0.5, seed=2)(x, training=True).numpy()
    for image in out[..., 0]:
        erased = image == -1.0
        rows, cols = np.nonzero(erased)
        assert erased.sum() > 0
        # a (possibly clipped) 8x8 square: the erased pixels fill their bounding box
        box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert erased.sum() == box and rows.max() - rows.min() < 8 and cols.max() - cols.min() < 8


def test_color_keeps_shape_and_changes_intensity():
    x = _images()
    out = DiffAugment(["color"], seed=5)(x, training=True)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert not np.allclose(out.numpy(), x.numpy())


def test_gradients_flow_through_every_transform_in_graph_mode_and_xla():
    layer = DiffAugment(seed=7)
    x = tf.Variable(_images())

    def grad():
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(layer(x, training=True) ** 2)
        return tape.gradient(y, x)

    for fn in (tf.function(grad), tf.function(grad, jit_compile=True)):
        g = fn().numpy()
        assert np.isfinite(g).all() and np.abs(g).sum() > 0


def test_mixed_precision_input_keeps_its_dtype():
    x = tf.cast(_images(), "float16")
    assert DiffAugment(seed=1)(x, training=True).dtype == tf.float16


@pytest.mark.parametrize("bad", [dict(policy=["flip"]), dict(translation=1.0), dict(cutout=-0.1)])
def test_bad_options_say_what_was_expected(bad):
    with pytest.raises(ValueError, match="DiffAugment"):
        DiffAugment(**bad)


def _critic(conditional=False):
    image = keras.Input((16, 16, 1))
    x = layers.Flatten()(layers.Conv2D(4, 3, 2)(image))
    if conditional:
        label = keras.Input((3,))
        x = layers.Concatenate()([x, label])
        return keras.Model([image, label], layers.Dense(1, dtype="float32")(x))
    return keras.Model(image, layers.Dense(1, dtype="float32")(x))


@pytest.mark.parametrize("conditional", [False, True])
def test_augmented_discriminator_augments_only_in_training(conditional):
    keras.utils.set_random_seed(0)
    critic = _critic(conditional)
    wrapped = augmented_discriminator(critic, seed=4)
    x = _images()
    inputs = [x, tf.one_hot([0, 1, 2, 0], 3)] if conditional else x
    np.testing.assert_allclose(wrapped(inputs, training=False), critic(inputs, training=False))
    assert not np.allclose(wrapped(inputs, training=True), critic(inputs, training=True))
    assert {id(v) for v in wrapped.trainable_variables} == {
        id(v) for v in critic.trainable_variables
    }


def _generator():
    z = keras.Input((2,))
    x = layers.BatchNormalization()(layers.Dense(3)(z))
    return keras.Model(z, x)


def test_ema_follows_the_average_with_warm_up():
    g = _generator()
    ema = GeneratorEMA(decay=0.5)
    averaged = ema.attach(g)
    start = [w.copy() for w in averaged.get_weights()]
    g.set_weights([w + 1.0 for w in g.get_weights()])
    ema._update()  # t = 0: d = min(0.5, 1/10) = 0.1
    for got, before in zip(averaged.get_weights(), start, strict=True):
        np.testing.assert_allclose(got, 0.1 * before + 0.9 * (before + 1.0), rtol=1e-6)
    ema._update()  # t = 1: d = min(0.5, 2/11)
    d = 2 / 11
    for got, before in zip(averaged.get_weights(), start, strict=True):
        once = 0.1 * before + 0.9 * (before + 1.0)
        np.testing.assert_allclose(got, d * once + (1 - d) * (before + 1.0), rtol=1e-5)


def test_ema_saves_every_epoch_and_resumes(tmp_path):
    g = _generator()
    ema = GeneratorEMA(decay=0.9, folder=tmp_path)
    ema.attach(g)
    g.set_weights([w * 3.0 + 1.0 for w in g.get_weights()])
    ema._update()
    ema.on_epoch_end(0)
    ema._update()
    ema.on_epoch_end(1)  # two steps done
    saved = ema.generator.get_weights()
    resumed = GeneratorEMA(decay=0.9, folder=tmp_path)
    again = resumed.attach(_generator())
    for got, want in zip(again.get_weights(), saved, strict=True):
        np.testing.assert_allclose(got, want)
    # the warm-up continues where it stopped: the next step's decay is min(0.9, 3/12)
    g2 = _generator()
    g2.set_weights([w + 5.0 for w in saved])
    resumed = GeneratorEMA(decay=0.9, folder=tmp_path)
    resumed.attach(g2)
    resumed._update()
    d = 3 / 12
    for got, before in zip(resumed.generator.get_weights(), saved, strict=True):
        np.testing.assert_allclose(got, d * before + (1 - d) * (before + 5.0), rtol=1e-5)


def test_ema_copies_schedule_weights_and_averages_the_rest():
    """A weight named in ``copy`` (03's attention tau) follows G exactly; the others, and
    batch-norm statistics, are averaged."""

    class Scheduled(layers.Layer):
        def build(self, input_shape):
            self.tau = self.add_weight(shape=(), initializer="zeros", trainable=False, name="tau")

        def call(self, x):
            return x * self.tau

    z = keras.Input((2,))
    g = keras.Model(z, Scheduled()(layers.BatchNormalization()(layers.Dense(3)(z))))
    ema = GeneratorEMA(decay=0.5, copy=("tau",))
    averaged = ema.attach(g)
    start = [w.copy() for w in averaged.get_weights()]
    g.set_weights([w + 1.0 for w in g.get_weights()])
    ema._update()  # t = 0: d = 0.1
    for variable, got, before in zip(averaged.weights, averaged.get_weights(), start, strict=True):
        want = before + 1.0 if variable.name == "tau" else 0.1 * before + 0.9 * (before + 1.0)
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=variable.path)
    assert any(v.name == "tau" for v in averaged.weights)


def test_ema_rejects_a_decay_outside_zero_one():
    with pytest.raises(ValueError, match="decay"):
        GeneratorEMA(decay=1.0)


def test_label_channels_pass_through_unchanged():
    image = keras.Input((16, 16, 4))  # 1 image channel + 3 tiled label channels
    critic = keras.Model(image, layers.Lambda(lambda t: t)(image))
    wrapped = augmented_discriminator(critic, image_channels=1, seed=3)
    x = tf.concat([_images(), tf.ones((4, 16, 16, 3)) * tf.constant([1.0, -1.0, -1.0])], -1)
    out = wrapped(x, training=True).numpy()
    np.testing.assert_array_equal(out[..., 1:], x.numpy()[..., 1:])
    assert not np.allclose(out[..., :1], x.numpy()[..., :1])


def test_sample_grid_and_health_draw_from_the_moving_average(tmp_path):
    from medganlab.training import GAN, HealthMonitor, SampleGrid
    from medganlab.training.callbacks import _generate, images_to_grid

    keras.utils.set_random_seed(0)
    z = keras.Input((8,))
    x = layers.Reshape((4, 4, 1))(layers.Dense(16)(z))
    out = layers.Conv2DTranspose(1, 4, 4, padding="same", activation="tanh", dtype="float32")
    generator = keras.Model(z, out(x))
    gan = GAN(generator, augmented_discriminator(_critic(), seed=1), latent_dim=8)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-2), d_optimizer=keras.optimizers.Adam(1e-2))
    ema = GeneratorEMA(decay=0.99)
    grid = SampleGrid(tmp_path, num_samples=4, generator=ema)
    health = HealthMonitor(num_samples=4, generator=ema)
    data = tf.data.Dataset.from_tensor_slices(_images(8)).batch(4).repeat(5)
    gan.fit(data, epochs=1, verbose=0, callbacks=[ema, grid, health])
    inputs = grid._fixed_inputs()
    averaged, live = _generate(gan, *inputs, None, ema), _generate(gan, *inputs)
    np.testing.assert_allclose(grid.grids[-1], images_to_grid(averaged), atol=1 / 255)
    assert np.abs(averaged - live).max() > 1e-3, "the average must differ from the live G"
    assert health.history, "the health monitor measured the averaged generator"


def test_every_image_input_is_augmented_and_the_label_passes():
    """03's discriminators take one image per scale and a label: each scale is augmented."""
    small, top, label = keras.Input((8, 8, 1)), keras.Input((16, 16, 1)), keras.Input((3,))
    echo = keras.Model([small, top, label], [layers.Identity()(t) for t in (small, top, label)])
    x = _images()
    inputs = [tf.image.resize(x, (8, 8)), x, tf.one_hot([0, 1, 2, 0], 3)]
    first_only = augmented_discriminator(echo, ("translation",), seed=2)
    out = [np.asarray(t) for t in first_only(inputs, training=True)]
    np.testing.assert_array_equal(out[1], np.asarray(inputs[1]))  # 02's default: the image only
    wrapped = augmented_discriminator(echo, ("translation",), image_inputs=2, seed=2)
    out = [np.asarray(t) for t in wrapped(inputs, training=True)]
    assert not np.allclose(out[0], np.asarray(inputs[0])), "the small scale is augmented"
    assert not np.allclose(out[1], np.asarray(inputs[1])), "the top scale is augmented"
    np.testing.assert_array_equal(out[2], np.asarray(inputs[2]))


def test_always_augments_a_discriminator_read_in_inference_mode():
    """03's G update reads D with training=False; with always=True DiffAugment still applies,
    while D itself still runs in inference mode (spectral normalisation does not renormalise)."""
    seen = {}

    class Probe(layers.Layer):
        def call(self, x, training=None):
            seen["training"] = training
            return x

    image = keras.Input((16, 16, 1))
    critic = keras.Model(image, Probe()(image))
    x = _images()
    plain = augmented_discriminator(critic, ("translation",), seed=5)
    np.testing.assert_array_equal(np.asarray(plain(x, training=False)), np.asarray(x))
    always = augmented_discriminator(critic, ("translation",), always=True, seed=5)
    assert not np.allclose(np.asarray(always(x, training=False)), np.asarray(x))
    assert not seen["training"], "D itself must still be called in inference mode"
