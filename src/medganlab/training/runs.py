"""Resumable classifier runs and their diagnostics (assignment 05: five VGG-16 runs).

:func:`fit_resumable` wraps ``model.fit`` with ``keras.callbacks.BackupAndRestore`` (a
disconnect mid-run resumes at the last finished epoch), a CSV log that keeps the whole
history across restarts, and the seconds of every epoch. A finished run leaves
``done.json`` and its weights, so re-running the notebook reloads it instead of training.
Also here: gradient norms per VGG block (vanishing gradients), forward FLOPs of a model,
and the loss-curve grid of the paper's Figs. 3-4.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

__all__ = [
    "EpochTimer",
    "fit_resumable",
    "gradient_norms",
    "count_flops",
    "plot_loss_grid",
    "plot_gradient_norms",
]


class EpochTimer(keras.callbacks.Callback):
    """Adds ``epoch_seconds`` (wall time of the epoch, validation included) to the logs."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._start


def _read_log(path: Path) -> dict[str, list[float]]:
    """The CSV log as lists per key, one row per epoch (a repeated epoch keeps its last row)."""
    rows: dict[int, dict[str, str]] = {}
    if path.is_file():
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                rows[int(row["epoch"])] = row
    keys = [k for k in (next(iter(rows.values()), {}) or {}) if k != "epoch"]
    return {k: [float(rows[e][k]) for e in sorted(rows)] for k in keys}


def fit_resumable(
    model: keras.Model,
    train,
    validation,
    folder: str | os.PathLike,
    epochs: int,
    steps_per_epoch: int | None = None,
    validation_steps: int | None = None,
    verbose: int | str = 2,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> dict[str, Any]:
    """Train (or resume, or reload) one run whose state lives in ``folder``.

    ``callbacks`` run after the course's own (backup, epoch timer, CSV log) and before the
    final weights are saved (notebook 08 keeps the best validation epoch this way).

    Returns:
        ``history`` (lists per key, every epoch since the start), ``seconds`` (training time
        summed over epochs), ``epochs`` and ``reloaded`` (True when nothing was trained).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    done, weights = folder / "done.json", folder / "model.weights.h5"
    if done.is_file() and weights.is_file():
        model.load_weights(weights)
        return {**json.loads(done.read_text()), "reloaded": True}
    log = folder / "log.csv"
    callbacks = [
        keras.callbacks.BackupAndRestore(str(folder / "backup")),
        EpochTimer(),
        keras.callbacks.CSVLogger(str(log), append=True),
        *callbacks,
    ]
    model.fit(
        train,
        validation_data=validation,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        validation_steps=validation_steps,
        callbacks=callbacks,
        verbose=verbose,
    )
    history = _read_log(log)
    record = {
        "history": history,
        "seconds": float(np.sum(history.get("epoch_seconds", [0.0]))),
        "epochs": len(history.get("loss", [])),
    }
    model.save_weights(weights)
    done.write_text(json.dumps(record, indent=1))
    return {**record, "reloaded": False}


def _group(name: str) -> str:
    return name.split("_")[0] if name.startswith("block") else name


def gradient_norms(model: keras.Model, images, labels) -> dict[str, float]:
    """L2 norm of the loss gradient per group of weights: ``block1`` ... ``block5``, dense layers.

    One batch, binary cross-entropy, in float32. Groups follow the layer names
    (``block3_conv2`` → ``block3``; ``fc1``, ``fc2``, ``predictions`` on their own).
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(images, tf.float32)
    y = tf.reshape(tf.convert_to_tensor(labels, tf.float32), (-1, 1))
    with tf.GradientTape() as tape:
        p = tf.cast(model(x, training=True), tf.float32)
        loss = tf.reduce_mean(keras.losses.binary_crossentropy(y, p))
    variables = model.trainable_variables
    grads = tape.gradient(loss, variables)
    totals: dict[str, float] = {}
    for layer in model.layers:
        for weight in layer.trainable_weights:
            for v, g in zip(variables, grads, strict=True):
                if v is weight and g is not None:
                    g = tf.cast(g, tf.float32)
                    key = _group(layer.name)
                    totals[key] = totals.get(key, 0.0) + float(tf.reduce_sum(g * g))
    return {k: float(np.sqrt(v)) for k, v in totals.items()}


def count_flops(model: keras.Model) -> int:
    """Forward-pass FLOPs per image of the Conv2D and Dense layers (a multiply-add = 2)."""
    from keras import layers

    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            _, height, width, cout = layer.output.shape
            kh, kw = layer.kernel_size
            total += 2 * height * width * cout * kh * kw * layer.input.shape[-1]
        elif isinstance(layer, layers.Dense):
            total += 2 * layer.input.shape[-1] * layer.units
    return int(total)


def plot_loss_grid(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    title: str = "Training and validation loss per run",
    ncols: int = 5,
):
    """One panel per run with ``loss`` and ``val_loss`` against the epoch (the paper's Figs. 3-4)."""
    import matplotlib.pyplot as plt

    if not histories:
        raise ValueError("plot_loss_grid: expected at least one history")
    ncols = min(ncols, len(histories))
    nrows = int(np.ceil(len(histories) / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.0 * ncols, 2.7 * nrows), squeeze=False, sharey=True
    )
    for ax in axes.flat[len(histories) :]:
        ax.axis("off")
    for ax, (name, history) in zip(axes.flat, histories.items(), strict=False):
        for key, style in (("loss", "-"), ("val_loss", "--")):
            values = list(history.get(key, []))
            ax.plot(
                range(1, len(values) + 1),
                values,
                style,
                marker="o",
                ms=2.5,
                label="train" if key == "loss" else "validation",
            )
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("binary cross-entropy")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_gradient_norms(norms: Mapping[str, Mapping[str, float]], title: str | None = None):
    """Gradient norm per block (log scale), one line per run."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    for name, values in norms.items():
        keys = list(values)
        ax.semilogy(keys, [max(values[k], 1e-30) for k in keys], marker="o", label=name)
    ax.set_ylabel("‖∂loss/∂weights‖")
    ax.set_xlabel("input → output")
    ax.set_title(title or "Gradient norm per block at initialisation (one batch)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
