"""Learnability of the chest X-ray phantom: can a small CNN tell each finding from normal?

Generates a cpu-profile-sized phantom set (3,000 images at 64 px, ``balanced`` prevalence:
one label per image, 1/9 normal and 1/9 per finding), splits it by patient (70/10/20, no
patient in two parts), trains a small CNN with 8 sigmoid outputs (multi-label, as NIH) and
reports per finding the ROC AUC of that output on the held-out test images of the finding
against the held-out normals (one-vs-normal), with scikit-learn.

Balanced rather than NIH prevalence: at NIH prevalence 3,000 images hold about 38 Pneumonia
and 74 Cardiomegaly images, so the 20 % test split would give each AUC from 8-15 positives
(too noisy to read). The imbalance problem itself is taught in the notebooks. Issue 3 item 10;
``make bench`` runs it (not a test); about 2-4 minutes on 2 cores.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from medganlab.data.cxr import generate_dataset
from medganlab.data.vocabulary import FINDINGS, NO_FINDING

__all__ = ["run"]

N_IMAGES = int(os.environ.get("MEDGANLAB_LEARNABILITY_N", "3000"))
SIZE = 64
EPOCHS = 15
SEED = 3


def _load(records: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Images scaled to [-1, 1] (N, S, S, 1) and multi-hot targets over the 8 findings."""
    images = np.stack(
        [np.asarray(Image.open(r["image"]), dtype=np.float32) / 127.5 - 1.0 for r in records]
    )[..., None]
    targets = np.zeros((len(records), len(FINDINGS)), np.float32)
    for row, record in enumerate(records):
        for name in record["labels"]:
            if name in FINDINGS:
                targets[row, FINDINGS.index(name)] = 1
    return images, targets


def _model(size: int):
    """Four conv blocks (16-128 filters) -> global pooling -> 8 sigmoid logits."""
    import keras
    from keras import layers

    image = keras.Input((size, size, 1))
    x = image
    for filters in (16, 32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    logits = layers.Dense(len(FINDINGS), name="logits")(x)
    return keras.Model(image, logits, name="learnability_cnn")


def _auc_table(scores: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Per finding: AUC of its output, images with the finding vs normal images."""
    from sklearn.metrics import roc_auc_score

    normal = targets.sum(axis=1) == 0
    result = {}
    for k, name in enumerate(FINDINGS):
        positive = targets[:, k] == 1
        keep = positive | normal
        if positive.sum() == 0 or normal.sum() == 0:
            result[name] = float("nan")
            continue
        result[name] = float(roc_auc_score(positive[keep], scores[keep, k]))
    return result


def run(out_dir: Path) -> dict[str, Any]:
    """Generate, train, evaluate; print the per-finding AUC table and return the numbers."""
    import keras

    from medganlab.data import nih

    keras.utils.set_random_seed(SEED)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cxr-learn-") as tmp:
        folder = generate_dataset(
            Path(tmp) / "set", N_IMAGES, size=SIZE, seed=SEED, prevalence="balanced", progress=False
        )
        generated = time.perf_counter() - start
        train, val, test = nih.split_by_patient(nih.load_index(folder), (0.7, 0.1, 0.2), SEED)
        (x_train, y_train), (x_val, y_val), (x_test, y_test) = map(_load, (train, val, test))
    model = _model(SIZE)
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=EPOCHS,
        batch_size=64,
        verbose=0,
        callbacks=[keras.callbacks.ReduceLROnPlateau(patience=2, factor=0.5)],
    )
    trained = time.perf_counter() - start - generated
    scores = np.asarray(model.predict(x_test, batch_size=256, verbose=0))
    auc = _auc_table(scores, y_test)
    counts = {name: int(y_test[:, k].sum()) for k, name in enumerate(FINDINGS)}
    normals = int((y_test.sum(axis=1) == 0).sum())
    print(f"{'finding':<14}{'AUC vs normal':>14}{'test positives':>16}")
    for name in FINDINGS:
        print(f"{name:<14}{auc[name]:>14.3f}{counts[name]:>16}")
    print(f"({normals} held-out {NO_FINDING} images; {len(x_train)} train / {len(x_val)} val)")
    return {
        "images": N_IMAGES,
        "size": SIZE,
        "prevalence": "balanced",
        "split": {"train": len(x_train), "val": len(x_val), "test": len(x_test)},
        "epochs": EPOCHS,
        "auc_vs_normal": {k: round(v, 4) for k, v in auc.items()},
        "test_positives": counts,
        "test_normals": normals,
        "seconds_generate": round(generated, 1),
        "seconds_train": round(trained, 1),
    }
