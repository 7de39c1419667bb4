"""Train a solution's own train step for a few steps and print what moved, as JSON.

Run as a subprocess (the dtype policy, XLA and the number of devices are fixed per process,
before TensorFlow starts) by ``tests/test_gpu_path.py``::

    MEDGANLAB_PRECISION=mixed_float16 python tests/support/gpu_path_probe.py 01_dcgan

It executes the solution notebook's definitions up to its train step (so ``medganlab.setup()``
applies ``MEDGANLAB_PRECISION``, ``MEDGANLAB_XLA`` and ``MEDGANLAB_DEVICES`` as in a
notebook), builds tiny networks with the notebook's own builders, trains ``STEPS`` steps with
plain SGD (whose update is proportional to the gradient, so a missing loss scale shows) on a
fixed batch, and reports the per-step losses and the size of each network's update.
With ``--resume DIR`` it also checkpoints, rebuilds and resumes with ``fit_gan``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
os.environ.setdefault("MPLBACKEND", "Agg")

from support.notebook_cells import code_until  # noqa: E402

STEPS = 3
GLOBAL_BATCH = 8

# assignment -> (train-step cell, builders of tiny G and D, step function, classes)
SETUPS = {
    "01_dcgan": (
        "train_step",
        "build_generator(8, 16, 4)",
        "build_discriminator(16, 4)",
        "train_step",
        None,
    ),
    "02_conditional_gan": (
        "conditional_train_step",
        "build_conditional_generator(8, 3, 16, 4)",
        "build_conditional_discriminator(16, 3, 4)",
        "conditional_train_step",
        3,
    ),
    "03_multiscale_attention_gan": (
        "train_step",
        "build_generator(8, 3, 32, 4)",
        "build_discriminators([8, 16, 32], 3, 4)",
        "multiscale_train_step",
        3,
    ),
}


def build(ns: dict, assignment: str):
    import keras

    from medganlab.training import GAN

    _, make_g, make_d, step, classes = SETUPS[assignment]
    keras.utils.set_random_seed(0)
    gan = GAN(
        eval(make_g, ns),
        eval(make_d, ns),
        latent_dim=8,
        num_classes=classes,
        train_step_fn=ns[step],
    )
    gan.compile(g_optimizer=keras.optimizers.SGD(0.05), d_optimizer=keras.optimizers.SGD(0.05))
    return gan


def dataset(assignment: str):
    import numpy as np
    import tensorflow as tf

    size = 32 if assignment.startswith("03") else 16
    rng = np.random.default_rng(1)
    images = rng.uniform(-1, 1, (GLOBAL_BATCH, size, size, 1)).astype("float32")
    if SETUPS[assignment][4] is None:
        return tf.data.Dataset.from_tensors(images).repeat()
    labels = np.eye(3, dtype="float32")[rng.integers(0, 3, GLOBAL_BATCH)]
    return tf.data.Dataset.from_tensors((images, labels)).repeat()


def weights(model):
    import numpy as np

    return [np.array(w.numpy(), dtype="float64") for w in model.trainable_weights]


def norm_of_change(before, after) -> float:
    import numpy as np

    return float(np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(before, after, strict=True))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("assignment", choices=sorted(SETUPS))
    parser.add_argument("--resume", type=Path, help="also checkpoint and resume in this folder")
    args = parser.parse_args()
    ns: dict = {"__name__": "probe"}
    code = code_until(args.assignment, SETUPS[args.assignment][0], definitions_only=True)
    exec(compile(code, "notebook", "exec"), ns)

    import keras
    import tensorflow as tf

    from medganlab.training import fit_gan, restore_latest

    gan = build(ns, args.assignment)
    g0, d0 = weights(gan.generator), weights(gan.discriminator)
    history = gan.fit(dataset(args.assignment), epochs=STEPS, steps_per_epoch=1, verbose=0)
    out = {
        "policy": keras.config.dtype_policy().name,
        "replicas": tf.distribute.get_strategy().num_replicas_in_sync,
        "jit_compile": bool(gan.jit_compile),
        "d_loss": history.history["d_loss"],
        "g_loss": history.history["g_loss"],
        "g_update": norm_of_change(g0, weights(gan.generator)),
        "d_update": norm_of_change(d0, weights(gan.discriminator)),
    }
    if args.resume:
        first = build(ns, args.assignment)
        fit_gan(
            first,
            dataset(args.assignment),
            epochs=2,
            steps_per_epoch=1,
            checkpoint_dir=args.resume,
            verbose=0,
        )
        second = build(ns, args.assignment)
        position = restore_latest(second, args.resume)
        out["restored_position"] = list(position)
        out["restored_equal"] = norm_of_change(
            weights(first.generator), weights(second.generator)
        ) + norm_of_change(weights(first.discriminator), weights(second.discriminator))
        fit_gan(
            second,
            dataset(args.assignment),
            epochs=3,
            steps_per_epoch=1,
            checkpoint_dir=args.resume,
            verbose=0,
        )
        out["final_global_step"] = int(second.global_step.numpy())
    print("PROBE " + json.dumps(out))


if __name__ == "__main__":
    main()
