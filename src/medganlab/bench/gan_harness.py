"""The GAN harness's costs: reference DCGAN step time (64x64, batch 64, float32) and checkpoints.

Models follow Radford et al. (SPEC §A, widths 512-256-128-64 as in the cpu profile of 01):
the numbers say how long an epoch of notebook 01 takes on this machine and what a
checkpoint every N steps costs. Measures; never asserts.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

SIZE, BATCH, LATENT, WIDTH = 64, 64, 100, 64


def _models(keras, layers, base: int):
    init = keras.initializers.RandomNormal(stddev=0.02)
    z = keras.Input((LATENT,))
    x = layers.Dense(4 * 4 * 8 * base, use_bias=False, kernel_initializer=init)(z)
    x = layers.Reshape((4, 4, 8 * base))(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    for width in (4 * base, 2 * base, base):
        x = layers.Conv2DTranspose(width, 4, 2, "same", use_bias=False, kernel_initializer=init)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    out = layers.Conv2DTranspose(1, 4, 2, "same", activation="tanh", kernel_initializer=init)(x)
    generator = keras.Model(z, out, name="generator")

    image = keras.Input((SIZE, SIZE, 1))
    x = layers.LeakyReLU(0.2)(layers.Conv2D(base, 4, 2, "same", kernel_initializer=init)(image))
    for width in (2 * base, 4 * base, 8 * base):
        x = layers.Conv2D(width, 4, 2, "same", use_bias=False, kernel_initializer=init)(x)
        x = layers.LeakyReLU(0.2)(layers.BatchNormalization()(x))
    logits = layers.Dense(1, dtype="float32")(layers.Flatten()(x))
    return generator, keras.Model(image, logits, name="discriminator")


def _gan(keras, layers, width: int = WIDTH):
    from medganlab.training import GAN

    gan = GAN(*_models(keras, layers, width), latent_dim=LATENT)
    gan.compile(
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    )
    return gan


def _checkpoint_mb(prefix: str) -> float:
    files = Path(prefix).parent.glob(Path(prefix).name + ".*")
    return sum(p.stat().st_size for p in files) / 2**20


def run(out_dir: Path, steps: int = 5) -> dict:
    import numpy as np

    from medganlab.runtime import quiet_tensorflow_logs

    quiet_tensorflow_logs()
    import keras
    from keras import layers

    from medganlab.training import GanCheckpoint, restore_latest

    keras.mixed_precision.set_dtype_policy("float32")
    keras.utils.set_random_seed(0)
    batch = np.random.default_rng(0).uniform(-1, 1, (BATCH, SIZE, SIZE, 1)).astype("float32")
    per_width = {}
    for width in (WIDTH, WIDTH // 2):
        gan = _gan(keras, layers, width)
        start = time.perf_counter()
        gan.train_on_batch(batch)  # trace + first step
        first = time.perf_counter() - start
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            gan.train_on_batch(batch)
            times.append(time.perf_counter() - start)
        per_width[width] = {
            "generator_params": gan.generator.count_params(),
            "discriminator_params": gan.discriminator.count_params(),
            "first_step_s": round(first, 2),
            "step_s_median": round(float(np.median(times)), 3),
            "step_s_min": round(min(times), 3),
        }
    gan = _gan(keras, layers)
    gan.train_on_batch(batch)  # builds the optimisers' slots

    scratch = Path(tempfile.mkdtemp(prefix="gan_ckpt_"))
    try:
        state = GanCheckpoint(scratch).state(gan)
        saves = []
        for index in range(3):
            gan.global_step.assign_add(1)  # a new checkpoint number each time
            start = time.perf_counter()
            path = state.save(epoch=0, step_in_epoch=index + 1)
            saves.append(time.perf_counter() - start)
        size = _checkpoint_mb(path)
        fresh = _gan(keras, layers)
        start = time.perf_counter()
        restore_latest(fresh, scratch)
        restore = time.perf_counter() - start
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    result = {
        "image_size": SIZE,
        "batch_size": BATCH,
        "precision": "float32",
        **per_width[WIDTH],
        f"width{WIDTH // 2}": per_width[WIDTH // 2],
        "checkpoint_save_s_median": round(float(np.median(saves)), 3),
        "checkpoint_restore_s": round(restore, 3),
        "checkpoint_mb": round(size, 1),
        "checkpoints_kept": 2,
    }
    print(f"reference DCGAN, {SIZE}x{SIZE}, batch {BATCH}, float32 (D/G widths 64..512)")
    for key, value in result.items():
        if not isinstance(value, dict):
            print(f"  {key:<28}{value:>12}")
    print(f"same at widths 32..256: {per_width[WIDTH // 2]}")
    return result
