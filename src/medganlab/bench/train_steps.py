"""Train-step time of the course's model families in float32 vs mixed precision.

The evidence behind ``medganlab.setup()``'s precision choice: on a CPU with native bf16
``mixed_bfloat16`` was 1.5–3.5x faster; without it, bf16 is emulated and slower. Runs each
variant in the same process, alternating, so machine noise hits both alike.
"""

from __future__ import annotations

import time
from pathlib import Path


def _dcgan_like(keras, layers, size: int):
    z = keras.Input((100,))
    x = layers.Dense(4 * 4 * 256)(z)
    x = layers.Reshape((4, 4, 256))(x)
    width = 256
    while x.shape[1] < size:
        width //= 2
        x = layers.Conv2DTranspose(max(width, 16), 4, 2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    out = layers.Conv2D(1, 3, padding="same", activation="tanh", dtype="float32")(x)
    return keras.Model(z, out)


def _unet_like(keras, layers, size: int):
    inp = keras.Input((size, size, 1))
    skips, x, width = [], inp, 32
    for _ in range(4):
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        skips.append(x)
        x = layers.MaxPooling2D()(x)
        width *= 2
    x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
    for skip in reversed(skips):
        width //= 2
        x = layers.Conv2DTranspose(width, 2, 2, padding="same")(x)
        x = layers.Concatenate()([x, skip])
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
    out = layers.Conv2D(3, 1, activation="softmax", dtype="float32")(x)
    return keras.Model(inp, out)


def _time_steps(build, policy: str, batch, loss, steps: int = 4) -> float:
    import keras

    keras.mixed_precision.set_dtype_policy(policy)
    model = build()
    model.compile(optimizer="adam", loss=loss, jit_compile=False)
    x, y = batch
    model.train_on_batch(x, y)  # trace + warm-up
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    keras.mixed_precision.set_dtype_policy("float32")
    return (time.perf_counter() - start) / steps


def run(out_dir: Path) -> dict:
    import numpy as np

    from medganlab.runtime import cpu_has_native_bf16, quiet_tensorflow_logs

    quiet_tensorflow_logs()
    import keras
    from keras import layers

    rng = np.random.default_rng(0)
    cases = {
        "dcgan_generator_64_b64": (
            lambda: _dcgan_like(keras, layers, 64),
            (
                rng.normal(size=(64, 100)).astype("float32"),
                rng.uniform(-1, 1, (64, 64, 64, 1)).astype("float32"),
            ),
            "mse",
        ),
        "unet_128_b16": (
            lambda: _unet_like(keras, layers, 128),
            (
                rng.normal(size=(16, 128, 128, 1)).astype("float32"),
                rng.integers(0, 3, (16, 128, 128)).astype("int32"),
            ),
            "sparse_categorical_crossentropy",
        ),
    }
    rows = {}
    print(f"CPU native bf16: {cpu_has_native_bf16()}")
    print(f"{'model':<26}{'float32 s/step':>16}{'bf16 s/step':>14}{'speed-up':>10}")
    for name, (build, batch, loss) in cases.items():
        fp32 = _time_steps(build, "float32", batch, loss)
        bf16 = _time_steps(build, "mixed_bfloat16", batch, loss)
        fp32 = min(fp32, _time_steps(build, "float32", batch, loss))
        rows[name] = {
            "float32_s": round(fp32, 3),
            "mixed_bfloat16_s": round(bf16, 3),
            "speedup": round(fp32 / bf16, 2),
        }
        print(f"{name:<26}{fp32:>16.3f}{bf16:>14.3f}{fp32 / bf16:>9.2f}x")
    return {"cpu_native_bf16": cpu_has_native_bf16(), "steps": rows}
