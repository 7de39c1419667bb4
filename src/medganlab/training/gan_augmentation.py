"""The arms of assignment 06: one small classifier, the same number of optimiser steps, and
different training streams (real only, class weights, geometric augmentation, real + GAN
samples of the minority findings, synthetic only).

Infrastructure only: mixing real and synthetic examples at a ratio per finding is what
students write in the notebook; here are the real splits as ``tf.data`` streams, the class
weights, the geometric augmentation, and one function that trains an arm. The generators and
their images live in :mod:`medganlab.training.synthetic_images` (re-exported here, so the
notebook needs one module).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medganlab.training.synthetic_images import (
    _to_float,
    check_generator,
    load_generators,
    synthetic_only,
    synthetic_pools,
    synthetic_streams,
    toy_streams,
)

__all__ = [
    "check_generator",
    "load_generators",
    "synthetic_pools",
    "synthetic_streams",
    "synthetic_only",
    "toy_streams",
    "Arm",
    "MAX_RATIO",
    "plan_arms",
    "check_ratio",
    "real_splits",
    "labels_of",
    "read_images",
    "patients_of",
    "geometric",
    "positive_weights",
    "weighted_bce",
    "arm_folder",
    "train_arm",
    "predict_scores",
]

MAX_RATIO = 10.0  # synthetic images per real image of a finding, at most


@dataclass(frozen=True)
class Arm:
    """One experimental arm: how its training stream is made.

    ``kind`` is ``"baseline"``, ``"class weights"``, ``"geometric"``, ``"gan"`` (real + the
    generator's images of the minority findings at ``ratio``) or ``"synthetic only"`` (the
    generator's images of every finding, no real image: "train on synthetic, test on real").
    """

    name: str
    kind: str
    generator: str | None = None
    ratio: float = 0.0


def check_ratio(ratio: float, what: str = "ratio") -> float:
    """``ratio`` as a float in [0, MAX_RATIO], else ValueError naming the expected range."""
    value = float(ratio)
    if not 0.0 <= value <= MAX_RATIO:
        raise ValueError(
            f"{what}: expected a synthetic:real ratio in [0, {MAX_RATIO:g}], got {ratio!r}"
        )
    return value


def plan_arms(generators: Sequence[str], ratios: Sequence[float]) -> list[Arm]:
    """The arms in order: baseline, class weights, geometric, then per generator one arm per
    ratio and one "synthetic only" arm."""
    ratios = [check_ratio(r, "ratios") for r in ratios]
    arms = [Arm("baseline", "baseline"), Arm("class weights", "class weights")]
    arms.append(Arm("geometric", "geometric"))
    for name in generators:
        arms += [Arm(f"{name} x{r:g}", "gan", name, r) for r in ratios]
    arms += [Arm(f"{name}: synthetic only", "synthetic only", name) for name in generators]
    return arms


# --- real data --------------------------------------------------------------------------


def labels_of(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """(n, 8) multi-hot float32 labels of index records."""
    from medganlab.data import nih

    if not records:
        return np.zeros((0, 8), np.float32)
    return np.stack([nih.label_vector(r["labels"], "multi-hot") for r in records])


def patients_of(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """(n,) patient ids (strings) of index records."""
    from medganlab.data.cxr_splits import patient_key

    return np.array([patient_key(r["patient_id"]) for r in records])


def read_images(records: Sequence[Mapping[str, Any]], size: int) -> np.ndarray:
    """(n, size, size, 1) float32 images in [-1, 1] of index records, as the streams give them."""
    import tensorflow as tf

    out = []
    for record in records:
        image = tf.io.decode_png(tf.io.read_file(str(record["image"])), channels=1)
        image = tf.image.resize(image, (size, size), method="area")
        out.append(np.round(np.asarray(image)) / 127.5 - 1.0)
    return np.asarray(out, np.float32).reshape(len(out), size, size, 1)


def real_splits(
    parts: Mapping[str, Sequence[Mapping[str, Any]]],
    size: int,
    seed: int = 0,
    shuffle_buffer: int = 10_000,
) -> dict[str, Any]:
    """The real splits as ``tf.data`` streams of single ``(image, label)`` examples.

    Images are read from their PNGs, area-resized to ``size``, kept as 8-bit in memory and
    returned as float32 in [-1, 1] of shape (size, size, 1); labels are the multi-hot vector
    over the 8 findings (float32). ``"train"`` is shuffled and repeats forever;
    ``"validation"`` and ``"test"`` are finite, in index order.

    Raises:
        ValueError: a part is missing or empty.
    """
    import tensorflow as tf

    missing = [p for p in ("train", "validation", "test") if not parts.get(p)]
    if missing:
        raise ValueError(
            f"parts: expected non-empty train, validation and test splits; empty: {missing} "
            "(a larger data set gives every part patients)"
        )

    def load(path, label):
        image = tf.io.decode_png(tf.io.read_file(path), channels=1)
        image = tf.image.resize(image, (size, size), method="area")
        return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8), label

    streams = {}
    for name, records in parts.items():
        data = tf.data.Dataset.from_tensor_slices(
            ([str(r["image"]) for r in records], labels_of(records))
        )
        data = data.map(load, num_parallel_calls=tf.data.AUTOTUNE).cache()
        if name == "train":
            data = data.shuffle(min(len(records), shuffle_buffer), seed=seed).repeat()
        streams[name] = data.map(_to_float, num_parallel_calls=tf.data.AUTOTUNE)
    return streams


# --- the other arms ---------------------------------------------------------------------


def geometric(stream, rotation_degrees: float, shift: float, zoom: float, seed: int = 0):
    """Random rotation, shift and zoom of the training images (never a flip: the heart is on
    the left); labels unchanged."""
    import keras
    from keras import layers

    augment = keras.Sequential(
        [
            layers.RandomRotation(
                rotation_degrees / 360.0, fill_mode="nearest", seed=seed, dtype="float32"
            ),
            layers.RandomTranslation(
                shift, shift, fill_mode="nearest", seed=seed + 1, dtype="float32"
            ),
            layers.RandomZoom(zoom, fill_mode="nearest", seed=seed + 2, dtype="float32"),
        ]
    )
    return stream.batch(64).map(lambda x, y: (augment(x, training=True), y)).unbatch()


def positive_weights(train_labels: np.ndarray, cap: float) -> np.ndarray:
    """Per finding ``negatives / positives`` of the training labels, clipped to [1, cap]."""
    labels = np.asarray(train_labels, np.float64)
    positives = labels.sum(axis=0)
    ratio = (len(labels) - positives) / np.maximum(positives, 1e-9)
    return np.clip(ratio, 1.0, cap).astype(np.float32)


def weighted_bce(pos_weight: Sequence[float]) -> Callable:
    """Binary cross-entropy on logits, the positive term of finding k weighted by
    ``pos_weight[k]`` (all ones: the plain loss), in float32."""
    from keras import ops

    weight = np.asarray(pos_weight, np.float32)

    def loss(y_true, logits):
        y = ops.cast(y_true, "float32")
        z = ops.cast(logits, "float32")
        terms = weight * y * ops.softplus(-z) + (1.0 - y) * ops.softplus(z)
        return ops.mean(terms, axis=-1)

    return loss


# --- training ---------------------------------------------------------------------------


def arm_folder(run: str | os.PathLike, arm: Arm, seed: int, settings: Mapping[str, Any]) -> Path:
    """``<run>/<arm>_seed<seed>_<hash of settings>``: a changed setting trains afresh."""
    key = hashlib.sha256(json.dumps(dict(settings), sort_keys=True, default=str).encode())
    slug = "".join(c if c.isalnum() else "_" for c in arm.name).strip("_")
    return Path(run) / f"{slug}_seed{seed}_{key.hexdigest()[:10]}"


def train_arm(
    stream,
    validation,
    folder: str | os.PathLike,
    *,
    image_size: int,
    width: int,
    steps: int,
    evaluations: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    pos_weight: Sequence[float] | None = None,
    run_eagerly: bool = False,
    num_classes: int = 8,
):
    """Train the course's small finding classifier on ``stream`` for exactly ``steps``
    optimiser steps, validating ``evaluations`` times; reload a finished run from ``folder``.

    Returns:
        (model, record) where record holds ``history`` (loss, val_loss per evaluation) and
        ``seconds``.

    Raises:
        ValueError: ``steps`` is not a positive multiple of ``evaluations``.
    """
    import keras
    import tensorflow as tf

    from medganlab.evaluation.classifier import build_finding_classifier
    from medganlab.runtime import jit_compile_default
    from medganlab.training.callbacks import default_verbose
    from medganlab.training.runs import fit_resumable

    if evaluations < 1 or steps < evaluations or steps % evaluations:
        raise ValueError(
            f"steps: expected a positive multiple of evaluations ({evaluations}), got {steps}"
        )
    keras.utils.set_random_seed(seed)  # the same initial weights in every arm of a seed
    model = build_finding_classifier(image_size, num_classes, width)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=weighted_bce(np.ones(num_classes) if pos_weight is None else pos_weight),
        run_eagerly=run_eagerly,
        jit_compile=False if run_eagerly else jit_compile_default(),
    )
    train = stream.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    val = validation.batch(2 * batch_size).prefetch(tf.data.AUTOTUNE)
    with warnings.catch_warnings():  # a reloaded run has no optimizer state: nothing is lost
        warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")
        record = fit_resumable(
            model,
            train,
            val,
            folder,
            epochs=evaluations,
            steps_per_epoch=steps // evaluations,
            verbose=default_verbose(),
        )
    return model, record


def predict_scores(model, stream, batch_size: int = 128) -> np.ndarray:
    """(n, classes) float32 logits of a finite stream of (image, label) examples, in order."""
    import tensorflow as tf

    images = stream.map(lambda x, y: x).batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return np.asarray(model.predict(images, verbose=0), np.float32)
