"""The course's GAN harness against a plain training loop: what does ``GAN.fit`` cost?

Same generator, discriminator, optimisers, data and batch, in one process, alternating:

- ``harness``: ``medganlab.training.GAN`` with its reference step, trained by ``fit()``
  (metric trackers, callbacks machinery, ``apply_gradients``);
- ``plain``: the same step (D then G, one D call on concat([real, fake])) as a bare
  ``tf.function`` over ``GradientTape``s, iterated in Python;
- ``tutorial``: the TensorFlow DCGAN tutorial's step (both losses from one forward pass,
  D called separately on reals and fakes) as a bare ``tf.function``.

The ratio ``plain / harness`` is the harness's speed relative to the plain loop (goal ≥ 1.0:
the harness costs nothing). Timings are noisy on a shared machine: read the ratio, which
both runs share.
"""

from __future__ import annotations

import time
from pathlib import Path

STEPS = 20
BATCH = 32
SIZE = 32
LATENT = 64


def _models(keras, layers):
    def generator():
        z = keras.Input((LATENT,))
        x = layers.Reshape((4, 4, 128))(layers.Dense(4 * 4 * 128, use_bias=False)(z))
        x = layers.ReLU()(layers.BatchNormalization()(x))
        for filters in (64, 32):
            x = layers.Conv2DTranspose(filters, 4, 2, padding="same", use_bias=False)(x)
            x = layers.ReLU()(layers.BatchNormalization()(x))
        out = layers.Conv2DTranspose(1, 4, 2, padding="same", activation="tanh", dtype="float32")
        return keras.Model(z, out(x))

    def discriminator():
        image = keras.Input((SIZE, SIZE, 1))
        x = image
        for filters in (32, 64, 128):
            x = layers.LeakyReLU(0.2)(layers.Conv2D(filters, 4, 2, padding="same")(x))
        return keras.Model(image, layers.Dense(1, dtype="float32")(layers.Flatten()(x)))

    return generator(), discriminator()


def _plain_step(tf, keras, generator, discriminator, g_opt, d_opt, tutorial: bool):
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(real):
        n = tf.shape(real)[0]
        if tutorial:  # TF DCGAN tutorial: both losses from one forward pass
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                fake = generator(tf.random.normal((n, LATENT)), training=True)
                real_logits = discriminator(real, training=True)
                fake_logits = discriminator(fake, training=True)
                g_loss = bce(tf.ones_like(fake_logits), fake_logits)
                d_loss = bce(tf.ones_like(real_logits), real_logits) + bce(
                    tf.zeros_like(fake_logits), fake_logits
                )
            g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
            g_opt.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars, strict=True))
            d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars, strict=True))
            return d_loss
        fake = generator(tf.random.normal((n, LATENT)), training=True)
        with tf.GradientTape() as tape:
            logits = discriminator(tf.concat([real, fake], 0), training=True)
            d_loss = bce(tf.ones_like(logits[:n]), logits[:n]) + bce(
                tf.zeros_like(logits[n:]), logits[n:]
            )
        d_vars = discriminator.trainable_variables
        d_opt.apply_gradients(zip(tape.gradient(d_loss, d_vars), d_vars, strict=True))
        with tf.GradientTape() as tape:
            fake = generator(tf.random.normal((n, LATENT)), training=True)
            logits = discriminator(tf.concat([real, fake], 0), training=True)[n:]
            g_loss = bce(tf.ones_like(logits), logits)
        g_vars = generator.trainable_variables
        g_opt.apply_gradients(zip(tape.gradient(g_loss, g_vars), g_vars, strict=True))
        return d_loss

    return step


def _time_harness(tf, keras, layers, dataset) -> float:
    from medganlab.training import GAN

    keras.utils.set_random_seed(0)
    generator, discriminator = _models(keras, layers)
    gan = GAN(generator, discriminator, latent_dim=LATENT)
    gan.compile(
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        jit_compile=False,
    )
    gan.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)  # trace + warm-up
    start = time.perf_counter()
    gan.fit(dataset, epochs=1, steps_per_epoch=STEPS, verbose=0)
    return (time.perf_counter() - start) / STEPS


def _time_plain(tf, keras, layers, dataset, tutorial: bool) -> float:
    keras.utils.set_random_seed(0)
    generator, discriminator = _models(keras, layers)
    g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    step = _plain_step(tf, keras, generator, discriminator, g_opt, d_opt, tutorial)
    iterator = iter(dataset)
    for _ in range(2):
        step(next(iterator))
    start = time.perf_counter()
    for _ in range(STEPS):
        loss = step(next(iterator))
    float(loss)  # wait for the last step
    return (time.perf_counter() - start) / STEPS


def run(out_dir: Path) -> dict:
    import numpy as np

    from medganlab.runtime import quiet_tensorflow_logs

    quiet_tensorflow_logs()
    import keras
    import tensorflow as tf
    from keras import layers

    images = np.random.default_rng(0).uniform(-1, 1, (BATCH * 4, SIZE, SIZE, 1)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(BATCH, drop_remainder=True).repeat()
    times: dict[str, list[float]] = {"harness": [], "plain": [], "tutorial": []}
    for _ in range(2):  # alternate, keep the best of each
        times["harness"].append(_time_harness(tf, keras, layers, dataset))
        times["plain"].append(_time_plain(tf, keras, layers, dataset, tutorial=False))
        times["tutorial"].append(_time_plain(tf, keras, layers, dataset, tutorial=True))
    best = {k: min(v) for k, v in times.items()}
    print(f"DCGAN {SIZE}x{SIZE}, batch {BATCH}, {STEPS} steps (best of 2, s/step):")
    for name, seconds in best.items():
        print(f"  {name:<10}{seconds:>8.4f}")
    ratio = best["plain"] / best["harness"]
    print(f"plain / harness = {ratio:.2f} (>= 1.0: the harness costs nothing)")
    print(f"tutorial / harness = {best['tutorial'] / best['harness']:.2f} (a different step)")
    return {
        "seconds_per_step": {k: round(v, 4) for k, v in best.items()},
        "plain_over_harness": round(ratio, 3),
        "tutorial_over_harness": round(best["tutorial"] / best["harness"], 3),
    }
