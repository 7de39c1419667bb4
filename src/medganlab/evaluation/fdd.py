"""Fréchet DenseNet Distance (FDD) machinery for notebook 04: not graded, only plumbing.

The paper (Ann et al. 2020, §IV, Table 1) computes FID on the 1024-d pooled features of a
DenseNet-121 trained on chest X-rays instead of ImageNet's Inception, per finding. This
module builds and caches that feature network (trained on the phantom as a multi-label
finding classifier), extracts features, caches real-set statistics per finding, loads the
conditional generators exported by notebooks 02 and 03 and draws images of one finding.
The Fréchet distance itself is the student's (a reference lives in ``frechet.py``).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medganlab.runtime import jit_compile_default

__all__ = [
    "PAPER_COUNTS",
    "PAPER_TABLE_1",
    "Statistics",
    "scaled_counts",
    "build_feature_network",
    "feature_network",
    "feature_extractor",
    "predict_features",
    "extract_features",
    "statistics_of",
    "pool_statistics",
    "real_statistics",
    "save_statistics",
    "load_statistics",
    "pca_basis",
    "project",
    "conditional_sampler",
    "load_sampler",
    "resize_images",
    "write_table",
]

# The paper's per-finding evaluation counts (§IV.3.1; 5,859 images in all).
PAPER_COUNTS: dict[str, int] = {
    "Atelectasis": 1000,
    "Cardiomegaly": 575,
    "Effusion": 1000,
    "Infiltration": 1000,
    "Mass": 729,
    "Nodule": 774,
    "Pneumonia": 242,
    "Pneumothorax": 539,
}

# The paper's Table 1 (FDD, lower is better): (cDCGAN, proposed multi-scale GAN).
PAPER_TABLE_1: dict[str, tuple[float, float]] = {
    "Atelectasis": (4.05e-05, 2.15e-05),
    "Cardiomegaly": (2.87e-05, 6.65e-06),
    "Effusion": (1.34e-04, 3.48e-04),
    "Infiltration": (3.27e-04, 2.29e-04),
    "Mass": (1.49e-04, 5.97e-05),
    "Nodule": (3.38e-04, 9.34e-05),
    "Pneumonia": (3.62e-05, 4.52e-04),
    "Pneumothorax": (2.17e-04, 3.30e-05),
}

# Batch-norm momentum for the short trainings here: Keras' 0.99 leaves the moving statistics
# behind the fast-changing weights after a few hundred steps, and the network then outputs
# near-constant logits in inference mode (measured: validation AUC ~0.5, train AUC ~0.5).
BN_MOMENTUM = 0.9

# ImageNet normalisation of keras.applications.densenet ("torch" mode), for the option.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Statistics:
    """Mean (d,), covariance (d, d) and sample count of one feature set, in float64."""

    mean: np.ndarray
    cov: np.ndarray
    n: int


def scaled_counts(
    scale: float, minimum: int = 2, counts: Mapping[str, int] = PAPER_COUNTS
) -> dict[str, int]:
    """The paper's per-finding counts times ``scale``, rounded, and at least ``minimum``.

    Raises:
        ValueError: ``scale`` is not positive or ``minimum`` is below 2 (a covariance needs 2).
    """
    if not scale > 0:
        raise ValueError(f"scale: expected a positive factor, got {scale}")
    if minimum < 2:
        raise ValueError(f"minimum: a covariance needs at least 2 samples, got {minimum}")
    return {name: max(int(round(count * scale)), minimum) for name, count in counts.items()}


def build_feature_network(image_size: int, num_classes: int = 8, imagenet: bool = False) -> Any:
    """DenseNet-121 (pooled 1024-d layer ``features``) + a Dense multi-label head ``logits``.

    The input is always one channel in [-1, 1]. With ``imagenet=True`` the image is copied to
    three channels and normalised as ImageNet expects, and the ImageNet weights are downloaded
    (needs the internet; the course never requires it).
    """
    import keras
    from keras import layers

    if image_size < 32:
        raise ValueError(f"image_size: DenseNet-121 needs at least 32 pixels, got {image_size}")
    image = keras.Input((image_size, image_size, 1), name="image")
    x = image
    if imagenet:
        x = layers.Concatenate(name="to_rgb")([x, x, x])
        x = layers.Rescaling(0.5, offset=0.5, name="to_unit")(x)
        x = layers.Normalization(
            mean=list(_IMAGENET_MEAN),
            variance=[s * s for s in _IMAGENET_STD],
            name="imagenet_norm",
        )(x)
    base = keras.applications.DenseNet121(
        weights="imagenet" if imagenet else None,
        include_top=False,
        input_shape=(image_size, image_size, 3 if imagenet else 1),
        pooling="avg",
    )
    features = layers.Identity(name="features")(base(x))
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(features)
    return keras.Model(image, logits, name="fdd_densenet121")


def _network_name(
    image_size: int, train_images: int, epochs: int, seed: int, imagenet: bool, backbone: bool
) -> str:
    from medganlab.data.cxr.rendering import GENERATOR_VERSION

    weights = "imagenet" if imagenet else "scratch"
    head = "" if backbone else "_headonly"
    # the phantom's version is part of the name: a network trained on older films is stale
    return (
        f"fdd_densenet121_g{GENERATOR_VERSION}_s{image_size}_n{train_images}_e{epochs}_{weights}"
        f"{head}_bn{BN_MOMENTUM:g}_seed{seed}"
    )


def _splits(root: Path, seed: int) -> dict[str, list[dict]]:
    from medganlab.data import nih

    train, validation = nih.split_by_patient(nih.load_index(root), (0.8, 0.2), seed=seed)
    return {"train": train, "validation": validation}


def _auc_per_finding(labels: np.ndarray, scores: np.ndarray, names: Sequence[str]) -> dict:
    from sklearn.metrics import roc_auc_score

    aucs = {}
    for k, name in enumerate(names):
        column = labels[:, k]
        # AUC is undefined when the split holds only positives or only negatives.
        aucs[name] = (
            float(roc_auc_score(column, scores[:, k])) if 0 < column.sum() < len(column) else None
        )
    return aucs


def feature_network(
    image_size: int,
    train_images: int,
    epochs: int,
    batch: int = 32,
    learning_rate: float = 1e-3,
    seed: int = 0,
    imagenet: bool = False,
    train_backbone: bool = True,
    retrain: bool = False,
    verbose: int | str = 0,
):
    """Load (or train once and cache) the FDD feature network for ``image_size`` inputs.

    Trains on the training split (80 %, by patient) of a phantom set at NIH prevalence
    (multi-label), with a sigmoid cross-entropy per finding. ``train_backbone=False`` trains
    only the head on frozen DenseNet weights (the smoke profile: tracing the backward pass of
    DenseNet-121 costs over a minute on two cores). The folder under
    :func:`medganlab.paths.artifacts_dir` is named by every parameter, so a profile change
    never reuses the wrong network.

    Returns:
        (model, info, splits): info has the per-finding validation AUC, the split sizes and
        the network's name; splits has the ``train`` and ``validation`` records.
    """
    import keras

    from medganlab.data import catalog, nih, vocabulary
    from medganlab.paths import artifacts_dir

    findings = list(vocabulary.FINDINGS)
    name = _network_name(image_size, train_images, epochs, seed, imagenet, train_backbone)
    folder = artifacts_dir() / name
    root = catalog.cxr_dataset(
        n=train_images, size=max(image_size, 64), seed=seed, prevalence="nih"
    )
    splits = _splits(root, seed)
    if (folder / "model.keras").is_file() and (folder / "info.json").is_file() and not retrain:
        model = keras.saving.load_model(folder / "model.keras", compile=False)
        return model, json.loads((folder / "info.json").read_text()), splits

    def dataset(records, shuffle):
        return nih.make_dataset(
            records,
            size=image_size,
            batch=batch,
            labels="multi-hot",
            shuffle=shuffle,
            cache=True,
            seed=seed,
        )

    keras.utils.set_random_seed(seed)
    model = build_feature_network(image_size, len(findings), imagenet=imagenet)
    for layer in model.get_layer("densenet121").layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = BN_MOMENTUM
    if not train_backbone:
        model.get_layer("densenet121").trainable = False
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        # what setup() decided: XLA on a GPU; off on a CPU, where it made the first
        # DenseNet-121 step slower (95 s vs 75 s)
        jit_compile=jit_compile_default(),
    )
    history = model.fit(dataset(splits["train"], True), epochs=epochs, verbose=verbose)
    _, logits, labels = predict_features(model, dataset(splits["validation"], False))
    info = {
        "name": name,
        "findings": findings,
        "image_size": image_size,
        "imagenet": imagenet,
        "train_backbone": train_backbone,
        "train_images": len(splits["train"]),
        "validation_images": len(splits["validation"]),
        "epochs": epochs,
        "loss": [float(v) for v in history.history["loss"]],
        "validation_auc": _auc_per_finding(labels, logits, findings),
    }
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "model.keras")
    (folder / "info.json").write_text(json.dumps(info, indent=1))
    return model, info, splits


def feature_extractor(model) -> Any:
    """The model from the input image to the pooled 1024-d ``features`` layer."""
    import keras

    return keras.Model(model.inputs, model.get_layer("features").output, name="fdd_features")


_COMPILED: dict[int, Any] = {}


def _features_function(extractor):
    """One traced inference function per extractor (eager DenseNet calls cost ~1 s each)."""
    import tensorflow as tf

    key = id(extractor)
    if key not in _COMPILED:
        spec = tf.TensorSpec((None, *extractor.input_shape[1:]), tf.float32)
        _COMPILED[key] = (
            extractor,
            tf.function(lambda x: extractor(x, training=False), input_signature=[spec]),
        )
    return _COMPILED[key][1]


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """(n, h, w, 1) images -> (n, size, size, 1) float32 in [-1, 1] (area resampling)."""
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[-1] != 1:
        raise ValueError(f"images: expected shape (n, h, w, 1), got {images.shape}")
    if images.shape[1:3] != (size, size):
        import tensorflow as tf

        images = tf.image.resize(images, (size, size), method="area").numpy()
    return np.clip(images, -1.0, 1.0)


def extract_features(extractor, images, batch: int = 64) -> np.ndarray:
    """Pooled features (n, d) of images (n, h, w, 1) in [-1, 1], resized to the input size."""
    images = resize_images(images, extractor.input_shape[1])
    run = _features_function(extractor)
    out = [np.asarray(run(images[i : i + batch]), np.float32) for i in range(0, len(images), batch)]
    return np.concatenate(out) if out else np.zeros((0, extractor.output_shape[-1]), np.float32)


def predict_features(model, dataset, extractor=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, logits, labels) of a tf.data set of (image, label) batches.

    The logits come from the features through the ``logits`` head, so DenseNet runs once.
    """
    extractor = feature_extractor(model) if extractor is None else extractor
    features, labels = [], []
    for images, targets in dataset:
        features.append(extract_features(extractor, np.asarray(images)))
        labels.append(np.asarray(targets, np.float32))
    features = np.concatenate(features)
    kernel, bias = (np.asarray(w, np.float32) for w in model.get_layer("logits").get_weights())
    return features, features @ kernel + bias, np.concatenate(labels)


def statistics_of(features: np.ndarray) -> Statistics:
    """Mean and unbiased covariance of ``features`` (n >= 2, d), in float64."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"features: expected shape (n >= 2, d), got {features.shape}")
    return Statistics(features.mean(axis=0), np.cov(features, rowvar=False), len(features))


def pool_statistics(parts: Sequence[Statistics]) -> Statistics:
    """Statistics of the union of several feature sets, from their statistics alone.

    Law of total covariance: the pooled scatter is the sum of each part's scatter plus the
    scatter of the part means around the pooled mean.
    """
    if not parts:
        raise ValueError("parts: expected at least one Statistics")
    n = sum(p.n for p in parts)
    mean = sum(p.n * p.mean for p in parts) / n
    scatter = sum((p.n - 1) * p.cov + p.n * np.outer(p.mean - mean, p.mean - mean) for p in parts)
    return Statistics(mean, scatter / (n - 1), n)


_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _stats_path(key: str, finding: str) -> Path:
    from medganlab.paths import artifacts_dir

    if not _KEY.match(key):
        raise ValueError(f"key: expected letters, digits, '_', '-', '.', got {key!r}")
    return artifacts_dir() / "fdd_statistics" / key / f"{finding.replace(' ', '_')}.npz"


def save_statistics(key: str, finding: str, stats: Statistics) -> Path:
    """Write ``stats`` to ``<artifacts>/fdd_statistics/<key>/<finding>.npz`` (atomically)."""
    path = _stats_path(key, finding)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".partial.npz")
    np.savez(partial, mean=stats.mean, cov=stats.cov, n=np.int64(stats.n))
    partial.replace(path)
    return path


def load_statistics(key: str, finding: str) -> Statistics | None:
    """The cached statistics of ``finding`` under ``key``, or ``None`` when absent."""
    path = _stats_path(key, finding)
    if not path.is_file():
        return None
    with np.load(path) as data:
        return Statistics(data["mean"], data["cov"], int(data["n"]))


def real_statistics(
    extractor,
    records_by_finding: Mapping[str, Sequence[Mapping[str, Any]]],
    key: str,
    batch: int = 64,
) -> dict[str, Statistics]:
    """Per-finding statistics of real images: read from the cache, else extracted and cached.

    Args:
        extractor: from :func:`feature_extractor` (its input size sets the image size).
        records_by_finding: finding -> NIH records; all of them are used.
        key: cache key; name the feature network, the data set and the counts in it.
    """
    from medganlab.data import nih

    size = extractor.input_shape[1]
    stats = {}
    for finding, records in records_by_finding.items():
        cached = load_statistics(key, finding)
        if cached is not None and cached.n == len(records):
            stats[finding] = cached
            continue
        dataset = nih.make_dataset(list(records), size=size, batch=batch, shuffle=False)
        images = np.concatenate([np.asarray(x) for x, _ in dataset])
        stats[finding] = statistics_of(extract_features(extractor, images, batch))
        save_statistics(key, finding, stats[finding])
    return stats


def pca_basis(stats: Statistics, components: int) -> tuple[np.ndarray, np.ndarray]:
    """(centre, basis (d, k)): the top-``components`` principal axes of ``stats``' covariance."""
    d = stats.cov.shape[0]
    if not 1 <= components <= d:
        raise ValueError(f"components: expected 1..{d}, got {components}")
    values, vectors = np.linalg.eigh((stats.cov + stats.cov.T) / 2)
    order = np.argsort(values)[::-1][:components]
    return stats.mean, vectors[:, order]


def project(stats: Statistics, centre: np.ndarray, basis: np.ndarray) -> Statistics:
    """Statistics of the projected features (x − centre) @ basis: exact for any linear map."""
    return Statistics((stats.mean - centre) @ basis, basis.T @ stats.cov @ basis, stats.n)


def _one_hot(index: int, n: int, classes: int) -> np.ndarray:
    return np.eye(classes, dtype=np.float32)[[index] * n]


def conditional_sampler(
    generator, meta: Mapping[str, Any], saved_model: Path | None = None
) -> Callable[[int, int, int], np.ndarray]:
    """A function ``sample(finding_index, n, seed) -> (n, h, w, 1)`` float32 images.

    Works for generators with two inputs ``[z, c]`` and with one input ``concat(z, c)``; a
    SavedModel-backed stand-in whose signature disagrees falls back to the SavedModel itself.
    """
    latent, classes = int(meta["latent_dim"]), int(meta["num_classes"])
    inputs = generator.inputs if hasattr(generator, "inputs") else None
    two_inputs = inputs is not None and len(inputs) == 2

    def call(z, c):
        if two_inputs:
            return generator([z, c], training=False)
        return generator(np.concatenate([z, c], axis=1), training=False)

    def sample(finding_index: int, n: int, seed: int = 0, batch: int = 64) -> np.ndarray:
        rng = np.random.default_rng([seed, finding_index])
        out = []
        for start in range(0, n, batch):
            m = min(batch, n - start)
            z = rng.normal(size=(m, latent)).astype(np.float32)
            c = _one_hot(finding_index, m, classes)
            try:
                images = call(z, c)
            except (ValueError, TypeError) as error:
                if saved_model is None:
                    raise
                images = _call_saved_model(saved_model, z, c, error)
            out.append(_largest_image(images))
        return np.concatenate(out)

    return sample


def _largest_image(output) -> np.ndarray:
    """A generator's image batch; a multi-scale tree returns several: keep the largest."""
    if isinstance(output, Mapping):
        output = list(output.values())
    if isinstance(output, list | tuple):
        output = max(output, key=lambda t: t.shape[1])
    return np.asarray(output, np.float32)


def _call_saved_model(path: Path, z: np.ndarray, c: np.ndarray, error: Exception) -> np.ndarray:
    import tensorflow as tf

    module = tf.saved_model.load(str(path))
    for args in (([z, c],), (z, c), (np.concatenate([z, c], axis=1),)):
        try:
            out = module.serve(*args)
        except (ValueError, TypeError):
            continue
        return _largest_image(out)
    raise ValueError(
        f"{path}: cannot call the SavedModel generator with [z, c] or concat(z, c) ({error})"
    )


def load_sampler(name: str, directory=None):
    """Load artifact ``name`` and return (sample, meta), or (None, message) when it is absent.

    Never raises for a missing artifact: notebook 04 skips that model's column.
    """
    import warnings

    from medganlab.training import load_generator

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            generator, meta = load_generator(name, directory)
    except FileNotFoundError as error:
        return None, f"{name}: not found, its column is skipped. {error}"
    notes = [str(w.message) for w in caught if "SavedModel" in str(w.message)]
    if meta.get("source") == "reference":
        notes.append(f"{name}: the instructor's reference artifact (your own was not found)")
    folder = Path(meta["folder"]) / "saved_model"
    meta = dict(meta)
    meta.setdefault("num_classes", len(meta.get("classes") or meta.get("class_names") or []))
    meta["notes"] = notes
    return conditional_sampler(generator, meta, folder if folder.is_dir() else None), meta


def write_table(rows: Sequence[Mapping[str, Any]], stem: str, meta: Mapping | None = None):
    """Write ``rows`` to ``<build>/tables/<stem>.csv`` and ``.json``; return both paths."""
    from medganlab.paths import build_dir

    if not rows:
        raise ValueError("rows: expected at least one row")
    folder = build_dir() / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    csv_path, json_path = folder / f"{stem}.csv", folder / f"{stem}.json"
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    payload = _finite({"meta": dict(meta or {}), "rows": [dict(r) for r in rows]})
    json_path.write_text(json.dumps(payload, indent=1, allow_nan=False) + "\n")
    return csv_path, json_path


def _finite(value):
    """JSON-safe copy: NumPy scalars/arrays to Python, NaN and infinities to ``None``."""
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
