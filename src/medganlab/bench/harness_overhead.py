"""The course's GAN harness against a plain training loop: what does ``GAN.fit`` cost?

Same generator, discriminator, optimisers, data and batch, in one process, alternating:

- ``harness``: ``medganlab.training.GAN`` with its reference step, trained by ``fit()``
  (metric trackers, callbacks machinery, ``apply_gradients``);
- ``plain``: the same step (D then G, one D call on concat([real, fake])) as a bare
  ``tf.function`` over ``GradientTape``s, iterated in Python;
- ``tutorial``: the TensorFlow DCGAN tutorial's step (both losses from one forward pass,
  D called separately on reals and fakes) as a bare ``tf.function``.

The ratio ``plain / harness`` is the harness's speed per step relative to the plain loop
(goal ≥ 1.0: the harness costs nothing). Per step means the slope between a call of 20 and
of 60 steps: what one ``fit()`` call costs once (its epoch machinery, a new data iterator —
the plain loop also makes one per call) is reported separately, since a course epoch of
hundreds of steps amortises it. Timings are noisy on a shared machine: read the ratio, which
both runs share.

The same comparison for the two other training loops of the course:

- **Pix2Pix** (notebook 07): the harness is ``GAN(..., train_step_fn=step).fit()`` with the
  one-D-call step notebook 07 teaches; ``plain`` is that step as a bare ``tf.function``;
  ``tutorial`` is the TensorFlow pix2pix tutorial's step (D called on real and fake pairs
  separately).
- **Segmentation** (notebook 08): ``model.fit()`` of a compiled U-Net against a bare
  ``tf.function`` + ``GradientTape`` loop with the same loss and optimiser.
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


def _time_harness(tf, keras, layers, dataset) -> tuple[float, float]:
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
    return _per_step(lambda n: gan.fit(dataset, epochs=1, steps_per_epoch=n, verbose=0))


def _time_plain(tf, keras, layers, dataset, tutorial: bool) -> tuple[float, float]:
    keras.utils.set_random_seed(0)
    generator, discriminator = _models(keras, layers)
    g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    step = _plain_step(tf, keras, generator, discriminator, g_opt, d_opt, tutorial)
    iterator = iter(dataset)
    for _ in range(2):
        step(next(iterator))

    def run(n):
        batches = iter(dataset)  # a new iterator per call, as fit() makes one per epoch
        for _ in range(n):
            loss = step(next(batches))
        float(loss)  # wait for the last step

    return _per_step(run)


def _per_step(run) -> tuple[float, float]:
    """(seconds per step, seconds per call) of ``run(n)``, which trains ``n`` steps with
    whatever one call sets up (``fit()``'s epoch machinery, a new data iterator): the slope
    between ``STEPS`` and ``3 * STEPS`` steps, so a per-call cost that an epoch of hundreds of
    steps amortises is reported beside the steps instead of being charged to them."""
    elapsed = {}
    for n in (STEPS, 3 * STEPS):
        start = time.perf_counter()
        run(n)
        elapsed[n] = time.perf_counter() - start
    per_step = (elapsed[3 * STEPS] - elapsed[STEPS]) / (2 * STEPS)
    return per_step, max(elapsed[STEPS] - STEPS * per_step, 0.0)


P2P_SIZE = 64
P2P_BATCH = 8
SEG_SIZE = 64
SEG_BATCH = 16


def _pix2pix_models(keras, layers):
    def generator():
        cond = keras.Input((P2P_SIZE, P2P_SIZE, 3))
        d1 = layers.LeakyReLU(0.2)(layers.Conv2D(16, 4, 2, padding="same")(cond))
        d2 = layers.BatchNormalization()(layers.Conv2D(32, 4, 2, padding="same")(d1))
        u1 = layers.Conv2DTranspose(16, 4, 2, padding="same")(layers.LeakyReLU(0.2)(d2))
        u1 = layers.ReLU()(layers.Dropout(0.5)(layers.BatchNormalization()(u1)))
        out = layers.Conv2DTranspose(1, 4, 2, padding="same", activation="tanh", dtype="float32")
        return keras.Model(cond, out(layers.Concatenate()([u1, d1])))

    def discriminator():
        cond = keras.Input((P2P_SIZE, P2P_SIZE, 3))
        image = keras.Input((P2P_SIZE, P2P_SIZE, 1))
        x = layers.Concatenate()([cond, image])
        for filters in (16, 32):
            x = layers.LeakyReLU(0.2)(layers.Conv2D(filters, 4, 2, padding="same")(x))
        return keras.Model([cond, image], layers.Conv2D(1, 4, padding="same", dtype="float32")(x))

    return generator(), discriminator()


def _pix2pix_step(tf, keras, tutorial: bool, apply):
    """The Pix2Pix step: one D call on concat(real, fake) pairs, or the tutorial's two."""

    def bce(labels, logits):
        return tf.reduce_mean(keras.losses.binary_crossentropy(labels, logits, from_logits=True))

    def step(gan, real, cond):
        n = tf.shape(real)[0]
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = gan.generator(cond, training=True)
            if tutorial:
                real_logits = gan.discriminator([cond, real], training=True)
                fake_logits = gan.discriminator([cond, fake], training=True)
            else:
                logits = gan.discriminator(
                    [tf.concat([cond, cond], 0), tf.concat([real, fake], 0)], training=True
                )
                real_logits, fake_logits = logits[:n], logits[n:]
            g_loss = bce(tf.ones_like(fake_logits), fake_logits) + 100.0 * tf.reduce_mean(
                tf.abs(real - fake)
            )
            d_loss = 0.5 * (
                bce(tf.ones_like(real_logits), real_logits)
                + bce(tf.zeros_like(fake_logits), fake_logits)
            )
        apply(gan.g_optimizer, g_tape, g_loss, gan.generator.trainable_variables)
        apply(gan.d_optimizer, d_tape, d_loss, gan.discriminator.trainable_variables)
        return {"g_loss": g_loss, "d_loss": d_loss}

    return step


def _bare_apply(optimizer, tape, loss, variables):
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))


def _time_pix2pix(tf, keras, layers, dataset, mode: str) -> tuple[float, float]:
    from medganlab.training import GAN, apply_gradients

    keras.utils.set_random_seed(0)
    generator, discriminator = _pix2pix_models(keras, layers)
    if mode == "harness":
        step = _pix2pix_step(tf, keras, tutorial=False, apply=apply_gradients)
        gan = GAN(generator, discriminator, latent_dim=1, train_step_fn=step)
        gan.compile(
            g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
            d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
            jit_compile=False,
        )
        gan.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)
        return _per_step(lambda n: gan.fit(dataset, epochs=1, steps_per_epoch=n, verbose=0))

    class Pair:  # what the step needs of a GAN: the networks and their optimisers
        pass

    pair = Pair()
    pair.generator, pair.discriminator = generator, discriminator
    pair.g_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
    pair.d_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
    raw = _pix2pix_step(tf, keras, tutorial=mode == "tutorial", apply=_bare_apply)
    step = tf.function(lambda real, cond: raw(pair, real, cond))
    iterator = iter(dataset)
    for _ in range(2):
        step(*next(iterator))

    def run(n):
        batches = iter(dataset)
        for _ in range(n):
            out = step(*next(batches))
        float(out["d_loss"])

    return _per_step(run)


def _time_segmentation(tf, keras, dataset, mode: str) -> tuple[float, float]:
    from medganlab.models import heavy_unet

    keras.utils.set_random_seed(0)
    model = heavy_unet((SEG_SIZE, SEG_SIZE, 1), base=8, depth=3)
    optimizer = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    if mode == "harness":
        model.compile(optimizer=optimizer, loss=loss_fn, jit_compile=False)
        model.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)
        return _per_step(lambda n: model.fit(dataset, epochs=1, steps_per_epoch=n, verbose=0))

    @tf.function
    def step(images, masks):
        with tf.GradientTape() as tape:
            loss = loss_fn(masks, model(images, training=True))
        variables = model.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    iterator = iter(dataset)
    for _ in range(2):
        step(*next(iterator))

    def run(n):
        batches = iter(dataset)
        for _ in range(n):
            loss = step(*next(batches))
        float(loss)

    return _per_step(run)


def _report(title: str, runs: dict[str, list[tuple[float, float]]]) -> dict:
    """The best of the repeats per loop (the fastest per-step slope and its per-call cost)."""
    best_runs = {k: min(v) for k, v in runs.items()}
    best = {k: v[0] for k, v in best_runs.items()}
    print(f"{title} (best of {len(next(iter(runs.values())))}; s/step, s per fit/loop call):")
    for name, (seconds, fixed) in best_runs.items():
        print(f"  {name:<10}{seconds:>8.4f}{fixed:>8.2f}")
    ratio = best["plain"] / best["harness"]
    print(f"  plain / harness = {ratio:.2f} per step (>= 1.0: the harness costs nothing)")
    out = {
        "seconds_per_step": {k: round(v, 4) for k, v in best.items()},
        "seconds_per_call": {k: round(v[1], 3) for k, v in best_runs.items()},
        "plain_over_harness": round(ratio, 3),
    }
    if "tutorial" in best:
        out["tutorial_over_harness"] = round(best["tutorial"] / best["harness"], 3)
        print(f"  tutorial / harness = {out['tutorial_over_harness']:.2f} (a different step)")
    return out


def run(out_dir: Path) -> dict:
    import numpy as np

    from medganlab.runtime import quiet_tensorflow_logs

    quiet_tensorflow_logs()
    import keras
    import tensorflow as tf
    from keras import layers

    images = np.random.default_rng(0).uniform(-1, 1, (BATCH * 4, SIZE, SIZE, 1)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(BATCH, drop_remainder=True).repeat()
    times: dict[str, list[tuple[float, float]]] = {"harness": [], "plain": [], "tutorial": []}
    for _ in range(2):  # alternate, keep the best of each
        times["harness"].append(_time_harness(tf, keras, layers, dataset))
        times["plain"].append(_time_plain(tf, keras, layers, dataset, tutorial=False))
        times["tutorial"].append(_time_plain(tf, keras, layers, dataset, tutorial=True))
    dcgan = _report(
        f"DCGAN {SIZE}x{SIZE}, batch {BATCH}, {STEPS} and {3 * STEPS} steps",
        times,
    )

    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (P2P_BATCH * 4, P2P_SIZE, P2P_SIZE, 1)).astype("float32")
    cond = np.sign(rng.uniform(-1, 1, (P2P_BATCH * 4, P2P_SIZE, P2P_SIZE, 3))).astype("float32")
    pairs = tf.data.Dataset.from_tensor_slices((real, cond)).batch(P2P_BATCH).repeat()
    p2p: dict[str, list[tuple[float, float]]] = {"harness": [], "plain": [], "tutorial": []}
    for _ in range(2):
        for mode in p2p:
            p2p[mode].append(_time_pix2pix(tf, keras, layers, pairs, mode))
    pix2pix = _report(
        f"Pix2Pix {P2P_SIZE}x{P2P_SIZE}, batch {P2P_BATCH}, {STEPS} and {3 * STEPS} steps",
        p2p,
    )

    images = rng.uniform(-1, 1, (SEG_BATCH * 4, SEG_SIZE, SEG_SIZE, 1)).astype("float32")
    masks = rng.integers(0, 3, (SEG_BATCH * 4, SEG_SIZE, SEG_SIZE, 1)).astype("uint8")
    slices = tf.data.Dataset.from_tensor_slices((images, masks)).batch(SEG_BATCH).repeat()
    seg: dict[str, list[tuple[float, float]]] = {"harness": [], "plain": []}
    for _ in range(2):
        for mode in seg:
            seg[mode].append(_time_segmentation(tf, keras, slices, mode))
    segmentation = _report(
        f"U-Net segmentation {SEG_SIZE}x{SEG_SIZE}, batch {SEG_BATCH}, {STEPS} and {3 * STEPS} steps (fit vs loop)",
        seg,
    )
    return {**dcgan, "pix2pix": pix2pix, "segmentation": segmentation}
