"""The GAN model and its callbacks on tiny models (16x16 images, widths 8) and random data."""

from __future__ import annotations

import json
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers, ops

from medganlab.training import (
    GAN,
    HealthMonitor,
    LossHistory,
    ModeCollapseWarning,
    SampleGrid,
    default_verbose,
    tile_labels,
)
from medganlab.training.step_logs import StepLogs

SIZE, LATENT, BATCH = 16, 8, 8


def tiny_generator(num_classes: int = 0, width: int = 8) -> keras.Model:
    z = keras.Input((LATENT + num_classes,))
    x = layers.Dense(4 * 4 * 2 * width)(z)
    x = layers.Reshape((4, 4, 2 * width))(x)
    x = layers.Conv2DTranspose(width, 4, 2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    out = layers.Conv2DTranspose(1, 4, 2, padding="same", activation="tanh", dtype="float32")(x)
    return keras.Model(z, out)


def tiny_discriminator(num_classes: int = 0, width: int = 8) -> keras.Model:
    image = keras.Input((SIZE, SIZE, 1 + num_classes))
    x = layers.Conv2D(width, 4, 2, padding="same")(image)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(2 * width, 4, 2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    out = layers.Dense(1, dtype="float32")(layers.Flatten()(x))
    return keras.Model(image, out)


def images(n: int = 3 * BATCH, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, SIZE, SIZE, 1)).astype("float32")


def compiled(gan: GAN) -> GAN:
    gan.compile(
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    )
    return gan


def snapshot(model: keras.Model) -> list[np.ndarray]:
    return [w.numpy() for w in model.trainable_weights]


def changed(before: list[np.ndarray], model: keras.Model) -> bool:
    return any(not np.allclose(a, b) for a, b in zip(before, snapshot(model), strict=True))


def student_step(gan: GAN, real_images, labels) -> dict:
    """What a student writes in notebook 01 (sigmoid-free BCE on logits)."""
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    batch = tf.shape(real_images)[0]
    z = gan.sample_noise(batch)
    with tf.GradientTape() as tape:
        fake = gan.generator(z, training=True)
        real_logits = gan.discriminator(real_images, training=True)
        fake_logits = gan.discriminator(fake, training=True)
        d_loss = bce(tf.ones_like(real_logits), real_logits) + bce(
            tf.zeros_like(fake_logits), fake_logits
        )
    grads = tape.gradient(d_loss, gan.discriminator.trainable_variables)
    gan.d_optimizer.apply_gradients(zip(grads, gan.discriminator.trainable_variables, strict=True))
    with tf.GradientTape() as tape:
        fake_logits = gan.discriminator(gan.generator(z, training=True), training=True)
        g_loss = bce(tf.ones_like(fake_logits), fake_logits)
    grads = tape.gradient(g_loss, gan.generator.trainable_variables)
    gan.g_optimizer.apply_gradients(zip(grads, gan.generator.trainable_variables, strict=True))
    # the number of steps done before this one: its epoch mean shows whether metrics reset
    return {"d_loss": d_loss, "g_loss": g_loss, "steps_before": tf.identity(gan.global_step.value)}


def test_tile_labels_repeats_one_hot_over_the_image():
    onehot = np.eye(3, dtype="float32")[[2, 0]]
    tiled = np.asarray(tile_labels(onehot, 4, 5))
    assert tiled.shape == (2, 4, 5, 3), f"expected (2, 4, 5, 3), got {tiled.shape}"
    np.testing.assert_array_equal(tiled[0, 3, 4], [0, 0, 1])
    np.testing.assert_array_equal(tiled[1, 0, 0], [1, 0, 0])
    with pytest.raises(ValueError, match="expected one-hot labels"):
        tile_labels(np.zeros(3), 4, 4)


def test_reference_step_trains_both_networks_and_logs_per_epoch():
    gan = compiled(GAN(tiny_generator(), tiny_discriminator(), LATENT))
    g0, d0 = snapshot(gan.generator), snapshot(gan.discriminator)
    history = gan.fit(images(), batch_size=BATCH, epochs=2, verbose=0)
    assert changed(g0, gan.generator), "the generator's weights did not change"
    assert changed(d0, gan.discriminator), "the discriminator's weights did not change"
    assert set(history.history) == {"d_loss", "g_loss", "d_real_accuracy", "d_fake_accuracy"}
    assert len(history.history["d_loss"]) == 2
    assert 0.0 <= history.history["d_real_accuracy"][-1] <= 1.0
    assert int(gan.global_step.numpy()) == 6, "expected 2 epochs x 3 steps"
    assert gan.sample_noise(5).shape == (5, LATENT)


def test_custom_step_is_used_changes_weights_and_metrics_reset_each_epoch():
    gan = compiled(GAN(tiny_generator(), tiny_discriminator(), LATENT, train_step_fn=student_step))
    g0, d0 = snapshot(gan.generator), snapshot(gan.discriminator)
    data = tf.data.Dataset.from_tensor_slices(images()).batch(BATCH)  # 3 steps per epoch
    history = gan.fit(data, epochs=2, verbose=0)
    assert changed(g0, gan.generator) and changed(d0, gan.discriminator)
    # epoch 1 sees steps 0, 1, 2 (mean 1); epoch 2 steps 3, 4, 5 (mean 4, or 2.5 without reset)
    assert history.history["steps_before"] == [1.0, 4.0], history.history["steps_before"]
    assert sorted(gan.get_metrics_result()) == ["d_loss", "g_loss", "steps_before"]


def test_the_step_is_traced_once_per_fit():
    """No variable is made while the step is traced: TensorFlow would trace it twice (for
    notebook 03's tree, ~15 s more per run on a CPU)."""
    traces = []

    def step(gan, real_images, labels):
        traces.append(real_images.shape)
        return student_step(gan, real_images, labels)

    gan = compiled(GAN(tiny_generator(), tiny_discriminator(), LATENT, train_step_fn=step))
    gan.fit(tf.data.Dataset.from_tensor_slices(images()).batch(BATCH), epochs=2, verbose=0)
    assert len(traces) == 1, f"the train step was traced {len(traces)} times, expected once"


def test_step_logs_keep_one_mean_per_key_and_refuse_too_many_keys():
    logs = StepLogs(capacity=2)
    logs.update_state({"a": 1.0, "b": 10.0})
    logs.update_state({"a": 3.0, "b": 20.0})
    assert {k: float(v) for k, v in logs.result().items()} == {"a": 2.0, "b": 15.0}
    logs.reset_state()
    logs.update_state({"b": 4.0})
    assert float(logs.result()["b"]) == 4.0 and float(logs.result()["a"]) == 0.0
    with pytest.raises(ValueError, match="at most 2 logged values"):
        logs.update_state({"c": 1.0})


def test_conditional_gan_feeds_one_hot_labels_to_both_networks():
    seen = {}

    def step(gan, real_images, labels):
        seen["labels"] = labels.shape
        z = tf.concat([gan.sample_noise(tf.shape(real_images)[0]), labels], axis=-1)
        fake = gan.generator(z)
        scores = gan.discriminator(
            tf.concat([fake, tile_labels(labels, SIZE, SIZE)], axis=-1), training=True
        )
        return {"fake_shape_ok": tf.reduce_mean(tf.ones_like(scores))}

    k = 3
    labels = np.arange(3 * BATCH) % k
    ref = compiled(GAN(tiny_generator(k), tiny_discriminator(k), LATENT, num_classes=k))
    g0, d0 = snapshot(ref.generator), snapshot(ref.discriminator)
    ref.fit(images(), labels, batch_size=BATCH, epochs=1, verbose=0)  # integer labels
    assert changed(g0, ref.generator) and changed(d0, ref.discriminator)

    custom = compiled(
        GAN(tiny_generator(k), tiny_discriminator(k), LATENT, train_step_fn=step, num_classes=k)
    )
    onehot = np.eye(k, dtype="float32")[labels]
    custom.fit(images(), onehot, batch_size=BATCH, epochs=1, verbose=0)  # one-hot labels
    assert tuple(seen["labels"])[-1] == k, f"expected one-hot labels (batch, {k}), got {seen}"
    assert ref.one_hot(np.array([2, 0])).shape == (2, k)


def test_bad_inputs_get_clear_value_errors():
    bad = compiled(
        GAN(tiny_generator(), tiny_discriminator(), LATENT, train_step_fn=lambda g, x, y: 1.0)
    )
    with pytest.raises(ValueError, match="expected a non-empty dict"):
        bad.fit(images(BATCH), batch_size=BATCH, epochs=1, verbose=0)
    gan = compiled(GAN(tiny_generator(), tiny_discriminator(), LATENT))
    with pytest.raises(ValueError, match="expected images of shape"):
        gan.train_step(tf.zeros((BATCH, SIZE, SIZE)))
    cond = compiled(GAN(tiny_generator(3), tiny_discriminator(3), LATENT, num_classes=3))
    with pytest.raises(ValueError, match="expected \\(images, labels\\)"):
        cond.train_step(tf.zeros((BATCH, SIZE, SIZE, 1)))
    with pytest.raises(ValueError, match="one-hot"):
        cond.one_hot(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="latent_dim"):
        GAN(tiny_generator(), tiny_discriminator(), 0)
    with pytest.raises(ValueError, match="compile"):
        GAN(tiny_generator(), tiny_discriminator(), LATENT).train_step(tf.zeros((2, 16, 16, 1)))


def test_mixed_float16_wraps_both_optimizers_in_loss_scaling():
    gan = GAN(tiny_generator(), tiny_discriminator(), LATENT)
    try:
        keras.mixed_precision.set_dtype_policy("mixed_float16")
        compiled(gan)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    plain = compiled(GAN(tiny_generator(), tiny_discriminator(), LATENT))
    assert not isinstance(plain.g_optimizer, keras.optimizers.LossScaleOptimizer)


def test_sample_grid_and_loss_history_write_their_files(tmp_path):
    gan = compiled(GAN(tiny_generator(), tiny_discriminator(), LATENT))
    grid = SampleGrid(tmp_path / "samples", num_samples=6, every=1)
    every_other = SampleGrid(tmp_path / "sparse", num_samples=4, every=2)
    history = LossHistory(tmp_path / "curves")
    gan.fit(
        images(2 * BATCH), batch_size=BATCH, epochs=3, verbose=0,
        callbacks=[grid, every_other, history],
    )  # fmt: skip
    names = sorted(p.name for p in (tmp_path / "samples").iterdir())
    assert names == [
        "samples.gif",
        "samples_epoch_001.png",
        "samples_epoch_002.png",
        "samples_epoch_003.png",
    ], names
    assert len(grid.grids) == 3 and grid.grids[0].ndim == 2, "one grayscale grid per epoch"
    assert 0.0 <= grid.grids[0].min() and grid.grids[0].max() <= 1.0
    assert not np.allclose(grid.grids[0], grid.grids[-1]), "the samples did not change"
    from PIL import Image

    with Image.open(tmp_path / "samples" / "samples.gif") as gif:
        assert gif.n_frames == 3
    assert sorted(p.name for p in (tmp_path / "sparse").iterdir()) == [
        "samples.gif",
        "samples_epoch_002.png",
    ]
    saved = json.loads((tmp_path / "curves" / "history.json").read_text())
    assert saved["epoch"] == [1, 2, 3] and len(saved["g_loss"]) == 3
    assert (tmp_path / "curves" / "loss_curves.png").stat().st_size > 0


def _fixed_generator(constant: bool) -> keras.Model:
    z = keras.Input((LATENT,))
    kernel = "zeros" if constant else keras.initializers.RandomNormal(stddev=1.0)
    x = layers.Dense(SIZE * SIZE, kernel_initializer=kernel, bias_initializer="random_uniform")(z)
    out = layers.Reshape((SIZE, SIZE, 1))(layers.Activation("tanh")(x))
    return keras.Model(z, out)


@pytest.mark.parametrize("constant", [True, False])
def test_health_monitor_warns_on_a_collapsed_generator_only(constant):
    gan = GAN(_fixed_generator(constant), tiny_discriminator(), LATENT)
    monitor = HealthMonitor(num_samples=16, reference_images=images(), warmup_epochs=0)
    monitor.set_model(gan)
    logs = {"d_real_accuracy": 0.9, "d_fake_accuracy": 0.8}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monitor.on_epoch_end(0, logs)
    collapse = [w for w in caught if issubclass(w.category, ModeCollapseWarning)]
    assert bool(collapse) == constant, (logs["diversity"], [str(w.message) for w in caught])
    assert monitor.records[0]["d_real_accuracy"] == 0.9
    assert monitor.history == [logs["diversity"]]
    if constant:
        assert logs["diversity"] < 1e-6
    else:
        assert logs["diversity"] > 0.5, f"random samples should be diverse, got {logs}"


def test_default_verbose_is_quiet_under_grading_and_ci(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert default_verbose() == "auto"
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert default_verbose() == 2
    monkeypatch.delenv("NBGRADER_EXECUTION")
    monkeypatch.setenv("CI", "true")
    assert default_verbose() == 2


def test_two_input_conditional_networks_train_and_sample(tmp_path):
    """Generators taking [z, c] and discriminators taking [image, c] work like concatenated ones."""
    from keras import layers

    from medganlab.training import GAN, SampleGrid

    z, c = keras.Input((4,)), keras.Input((3,))
    x = layers.Dense(8 * 8)(layers.Concatenate()([z, c]))
    g = keras.Model([z, c], layers.Activation("tanh")(layers.Reshape((8, 8, 1))(x)))
    image, c2 = keras.Input((8, 8, 1)), keras.Input((3,))
    d = keras.Model(
        [image, c2], layers.Dense(1)(layers.Concatenate()([layers.Flatten()(image), c2]))
    )
    gan = GAN(g, d, latent_dim=4, num_classes=3)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-2), d_optimizer=keras.optimizers.Adam(1e-2))
    images = np.random.default_rng(0).uniform(-1, 1, (12, 8, 8, 1)).astype("float32")
    labels = np.eye(3, dtype="float32")[np.arange(12) % 3]
    before = [w.numpy().copy() for w in g.trainable_weights]
    grid = SampleGrid(tmp_path, num_samples=6)
    gan.fit(images, labels, batch_size=6, epochs=1, verbose=0, callbacks=[grid])
    assert any(
        not np.allclose(a, b.numpy()) for a, b in zip(before, g.trainable_weights, strict=True)
    )
    assert grid.grids and (tmp_path / "samples_epoch_001.png").is_file()


def _multiscale_generator() -> keras.Model:
    """[z, c] -> [8x8, 16x16] images: a two-output generator like 03's tree."""
    z, c = keras.Input((LATENT,)), keras.Input((3,))
    x = layers.Dense(8 * 8 * 4)(layers.Concatenate()([z, c]))
    x = layers.Reshape((8, 8, 4))(x)
    low = layers.Conv2D(1, 3, padding="same", activation="tanh")(x)
    high = layers.Conv2D(1, 3, padding="same", activation="tanh")(layers.UpSampling2D()(x))
    return keras.Model([z, c], [low, high])


def _generator_only_step(gan, real_images, labels):
    """Train G alone towards the real images at both scales (enough to run the callbacks)."""
    z = gan.sample_noise(ops.shape(real_images)[0])
    small = ops.image.resize(real_images, (8, 8), interpolation="area")
    with tf.GradientTape() as tape:
        low, high = gan.generator([z, labels], training=True)
        loss = ops.mean((low - small) ** 2) + ops.mean((high - real_images) ** 2)
    grads = tape.gradient(loss, gan.generator.trainable_variables)
    gan.g_optimizer.apply_gradients(zip(grads, gan.generator.trainable_variables, strict=True))
    return {"g_loss": loss}


def test_multi_output_generators_draw_the_chosen_output(tmp_path):
    """SampleGrid and HealthMonitor draw one output of a multi-scale generator (output_index)."""
    g = _multiscale_generator()
    d = tiny_discriminator()
    gan = GAN(g, d, latent_dim=LATENT, num_classes=3, train_step_fn=_generator_only_step)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    images = np.random.default_rng(0).uniform(-1, 1, (12, SIZE, SIZE, 1)).astype("float32")
    labels = np.eye(3, dtype="float32")[np.arange(12) % 3]
    top = SampleGrid(tmp_path / "top", num_samples=3, output_index=-1, ncols=3)
    low = SampleGrid(tmp_path / "low", num_samples=3, output_index=0, ncols=3)
    health = HealthMonitor(num_samples=4, output_index=-1, warmup_epochs=5)
    gan.fit(images, labels, batch_size=6, epochs=1, verbose=0, callbacks=[top, low, health])
    pad = 2
    assert top.grids[-1].shape == (SIZE + 2 * pad, 3 * (SIZE + pad) + pad)
    assert low.grids[-1].shape == (8 + 2 * pad, 3 * (8 + pad) + pad)
    assert len(health.history) == 1 and np.isfinite(health.history[0])


def test_multi_output_generator_without_output_index_is_a_clear_error(tmp_path):
    gan = GAN(_multiscale_generator(), tiny_discriminator(), latent_dim=LATENT, num_classes=3)
    grid = SampleGrid(tmp_path, num_samples=3)
    grid.set_model(gan)
    with pytest.raises(ValueError, match="output_index"):
        grid.on_epoch_end(0)
    bad = SampleGrid(tmp_path, num_samples=3, output_index=2)
    bad.set_model(gan)
    with pytest.raises(ValueError, match="2 outputs"):
        bad.on_epoch_end(0)
