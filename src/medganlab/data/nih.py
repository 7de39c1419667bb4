"""Index and tf.data loader for any folder in the NIH ChestX-ray14 layout.

Works the same on the generated phantom (``medganlab data cxr``) and on a real ChestX-ray14
download: ``Data_Entry_2017.csv`` (or ``Data_Entry_2017_v2020.csv``) at the root and the
PNGs in ``images/`` or in ``images_001/images/`` ... ``images_012/images/``. The CSV's
bracketed header names hold unquoted commas; columns are therefore read by position after
``View Position``. Course use: assignments 00 (tour), 01-06 (training data).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medganlab.data.vocabulary import FINDINGS, NO_FINDING

__all__ = [
    "CSV_NAMES",
    "find_csv",
    "is_nih_layout",
    "load_index",
    "dataset_info",
    "describe",
    "split_by_patient",
    "label_vector",
    "balanced_steps",
    "make_dataset",
]

CSV_NAMES = ("Data_Entry_2017.csv", "Data_Entry_2017_v2020.csv")
_REQUIRED = ("Image Index", "Finding Labels", "Patient ID")
LABEL_MODES = ("multi-hot", "one-hot", "binary")


def find_csv(root: Path) -> Path | None:
    """Return the label CSV of an NIH-layout folder, or ``None``."""
    for name in CSV_NAMES:
        path = Path(root) / name
        if path.is_file():
            return path
    return None


def _image_folders(root: Path) -> list[Path]:
    folders = [root / "images"] if (root / "images").is_dir() else []
    folders += sorted(p / "images" for p in root.glob("images_*") if (p / "images").is_dir())
    folders += sorted(
        p for p in root.glob("images_*") if p.is_dir() and not (p / "images").is_dir()
    )
    return folders


def is_nih_layout(root: Path) -> bool:
    """True when ``root`` holds a label CSV and at least one image folder."""
    root = Path(root)
    return root.is_dir() and find_csv(root) is not None and bool(_image_folders(root))


def _header_positions(header: Sequence[str], path: Path) -> dict[str, int]:
    names = [h.strip() for h in header]
    if "Patient Gender" not in names and "Patient Sex" in names:
        names[names.index("Patient Sex")] = "Patient Gender"
    missing = [name for name in _REQUIRED if name not in names]
    if missing:
        raise ValueError(
            f"{path}: expected NIH columns {list(_REQUIRED)}, missing {missing}; found {names}"
        )
    return {name: i for i, name in enumerate(names) if name}


def _cell(row: Sequence[str], positions: Mapping[str, int], name: str) -> str:
    index = positions.get(name)
    return row[index].strip() if index is not None and index < len(row) else ""


def _age(text: str) -> float | None:
    """Patient Age as years: ``58`` (2017 file) or ``058Y`` / ``006M`` / ``030D`` (older)."""
    text = text.strip()
    if not text:
        return None
    unit = text[-1].upper()
    if unit in "YMWD" and text[:-1].isdigit():
        return int(text[:-1]) / {"Y": 1, "M": 12, "W": 52, "D": 365}[unit]
    try:
        return float(text)
    except ValueError:
        return None


def load_index(root: Path, check_files: bool = True) -> list[dict[str, Any]]:
    """Read an NIH-layout folder into a list of records (one dict per image).

    Each record has ``image`` (path), ``name``, ``labels`` (list, ``["No Finding"]`` for a
    normal image), ``patient_id``, ``follow_up``, ``age``, ``sex``, ``view``, ``width``,
    ``height`` and ``spacing`` (mm or None). Real ChestX-ray14 labels outside the course's
    8 findings (e.g. Emphysema) are kept in ``labels``; encoders ignore them.

    Raises:
        FileNotFoundError: missing folder, missing CSV, or (``check_files``) an image listed
            in the CSV that is absent.
        ValueError: the CSV lacks the NIH columns.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder; expected an NIH ChestX-ray14 layout")
    path = find_csv(root)
    if path is None:
        raise FileNotFoundError(
            f"{root}: expected {CSV_NAMES[0]} (or {CSV_NAMES[1]}) in the folder, found none"
        )
    located = {p.name: p for folder in _image_folders(root) for p in folder.glob("*.png")}
    records = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty CSV; expected the NIH header")
        positions = _header_positions(header, path)
        view = positions.get("View Position")
        for line, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            name = _cell(row, positions, "Image Index")
            image = located.get(name)
            if image is None and check_files:
                raise FileNotFoundError(
                    f"{path}:{line}: image {name} is listed but absent from "
                    f"{[str(f.relative_to(root)) for f in _image_folders(root)] or ['images/']}"
                )
            records.append(_record(row, positions, view, name, image, root))
    return records


def _record(row, positions, view, name, image, root) -> dict[str, Any]:
    def number(i: int | None) -> float | None:
        try:
            return float(row[i]) if i is not None and i < len(row) and row[i].strip() else None
        except ValueError:
            return None

    labels = [t.strip() for t in _cell(row, positions, "Finding Labels").split("|") if t.strip()]
    follow = _cell(row, positions, "Follow-up #")
    return {
        "image": str(image) if image is not None else str(root / "images" / name),
        "name": name,
        "labels": labels or [NO_FINDING],
        "patient_id": _cell(row, positions, "Patient ID"),
        "follow_up": int(follow) if follow.isdigit() else None,
        "age": _age(_cell(row, positions, "Patient Age")),
        "sex": _cell(row, positions, "Patient Gender"),
        "view": _cell(row, positions, "View Position"),
        # positional: the bracketed headers split into two columns each
        "width": number(None if view is None else view + 1),
        "height": number(None if view is None else view + 2),
        "spacing": number(None if view is None else view + 3),
    }


def dataset_info(root: Path) -> dict[str, Any]:
    """Image count, patients, image sizes (read from PNG headers) and counts per label."""
    from PIL import Image

    index = load_index(root)
    counts = Counter(label for record in index for label in record["labels"])
    sizes: Counter[str] = Counter()
    for record in index[:: max(1, len(index) // 200)]:  # PNG headers of up to ~200 images
        with Image.open(record["image"]) as image:
            sizes[f"{image.width}x{image.height}"] += 1
    ordered = {NO_FINDING: counts.get(NO_FINDING, 0)}
    ordered.update({name: counts.get(name, 0) for name in FINDINGS})
    ordered.update({k: v for k, v in sorted(counts.items()) if k not in ordered})
    return {
        "root": str(Path(root)),
        "images": len(index),
        "patients": len({r["patient_id"] for r in index}),
        "sizes": dict(sizes),
        "counts": ordered,
        "multi_label_images": sum(len(r["labels"]) > 1 for r in index),
    }


def describe(root: Path) -> str:
    """Human-readable summary for ``medganlab data info DIR``."""
    info = dataset_info(root)
    lines = [
        f"{info['root']}: {info['images']} images, {info['patients']} patients, "
        f"sizes {', '.join(info['sizes']) or '?'}",
        f"multi-label images: {info['multi_label_images']}",
    ]
    total = max(info["images"], 1)
    width = max(len(k) for k in info["counts"])
    for label, count in info["counts"].items():
        lines.append(f"  {label:<{width}}  {count:>7}  {100 * count / total:5.1f} %")
    return "\n".join(lines)


def split_by_patient(
    index: Sequence[Mapping[str, Any]],
    fractions: Sequence[float] = (0.7, 0.1, 0.2),
    seed: int = 0,
) -> list[list[dict[str, Any]]]:
    """Split records into len(fractions) parts so that no patient is in two parts.

    Patients are shuffled with ``seed`` and assigned greedily so each part's image count
    is close to its fraction.
    """
    fractions = [float(f) for f in fractions]
    if not fractions or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be >= 0 and sum to 1, got {fractions}")
    by_patient: dict[str, list[dict[str, Any]]] = {}
    for record in index:
        by_patient.setdefault(str(record["patient_id"]), []).append(dict(record))
    patients = sorted(by_patient)
    order = np.random.default_rng(seed).permutation(len(patients))
    targets = np.array(fractions) * len(index)
    parts: list[list[dict[str, Any]]] = [[] for _ in fractions]
    for i in order:
        records = by_patient[patients[i]]
        deficit = [targets[k] - len(parts[k]) for k in range(len(parts))]
        parts[int(np.argmax(deficit))].extend(records)
    return parts


def _single_classes(targets: np.ndarray, mode: str) -> np.ndarray:
    """The class index of each label vector; every vector must name exactly one class."""
    if mode == "binary":
        return targets[:, 0].astype(int)
    counts = targets.sum(axis=1)
    bad = np.flatnonzero(counts != 1)
    if len(bad):
        raise ValueError(
            f"balance=True needs exactly one class per image; {len(bad)} record(s) have "
            f"{int(counts[bad[0]])} (first: record {int(bad[0])}): pass single-finding records"
        )
    return np.argmax(targets, axis=1)


def balanced_steps(index: Sequence[Mapping[str, Any]], batch: int) -> int:
    """Steps per epoch of a balanced (infinite) dataset: as many images as one pass of index."""
    return max(1, len(index) // int(batch))


def label_vector(labels: Sequence[str], mode: str = "multi-hot") -> np.ndarray:
    """Encode labels: ``multi-hot`` (8 findings), ``one-hot`` (No Finding + 8), ``binary``.

    ``one-hot`` takes the first course finding of a multi-label image (NIH order).
    """
    findings = [name for name in labels if name in FINDINGS]
    if mode == "multi-hot":
        vector = np.zeros(len(FINDINGS), np.float32)
        for name in findings:
            vector[FINDINGS.index(name)] = 1
        return vector
    if mode == "one-hot":
        vector = np.zeros(len(FINDINGS) + 1, np.float32)
        first = min((FINDINGS.index(n) for n in findings), default=None)
        vector[0 if first is None else first + 1] = 1
        return vector
    if mode == "binary":
        abnormal = any(name != NO_FINDING for name in labels)
        return np.array([1.0 if abnormal else 0.0], np.float32)
    raise ValueError(f"labels must be one of {LABEL_MODES}, got {mode!r}")


def make_dataset(
    index: Sequence[Mapping[str, Any]],
    size: int = 64,
    batch: int = 32,
    labels: str = "multi-hot",
    shuffle: bool = True,
    cache: bool | str = False,
    seed: int = 0,
    drop_remainder: bool = False,
    balance: bool = False,
):
    """tf.data pipeline of (image, label) batches from index records.

    Images are decoded as 1-channel PNG, resized to ``size`` x ``size`` (area), scaled to
    [-1, 1] and shaped (batch, size, size, 1); labels follow :func:`label_vector`.
    ``cache`` is ``True`` (memory) or a file path; batches are prefetched.

    ``balance=True`` draws every class equally often (class-balanced sampling): one shuffled,
    endlessly repeated stream per class, mixed with equal weights, so rare classes are
    revisited more often than common ones. Each record must then carry exactly one class of
    ``labels`` (e.g. the single-finding images with ``"multi-hot"``); the dataset is
    **infinite**, so give ``fit`` a ``steps_per_epoch`` (:func:`balanced_steps` is one pass).
    With ``cache`` a file path, each class caches to ``<path>_<k>``.
    """
    import tensorflow as tf

    if labels not in LABEL_MODES:
        raise ValueError(f"labels must be one of {LABEL_MODES}, got {labels!r}")
    if not index:
        raise ValueError("index is empty; expected at least one record from load_index()")
    missing = [r["image"] for r in index if not Path(r["image"]).is_file()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} listed image(s) are absent, first: {missing[0]}")
    paths = [str(r["image"]) for r in index]
    targets = np.stack([label_vector(r["labels"], labels) for r in index])

    def load(path, target):
        image = tf.io.decode_png(tf.io.read_file(path), channels=1)
        image = tf.image.resize(image, (size, size), method="area")
        image = tf.cast(image, tf.float32) / 127.5 - 1.0
        return tf.clip_by_value(image, -1.0, 1.0), target

    if balance:
        classes = _single_classes(targets, labels)
        streams = []
        for k in np.unique(classes):
            picked = np.flatnonzero(classes == k)
            stream = tf.data.Dataset.from_tensor_slices(
                ([paths[i] for i in picked], targets[picked])
            ).map(load, num_parallel_calls=tf.data.AUTOTUNE)
            if cache:
                stream = stream.cache() if cache is True else stream.cache(f"{cache}_{k}")
            if shuffle:
                stream = stream.shuffle(
                    min(len(picked), 10_000), seed=seed + int(k), reshuffle_each_iteration=True
                )
            streams.append(stream.repeat())
        mixed = tf.data.Dataset.sample_from_datasets(
            streams, weights=[1.0 / len(streams)] * len(streams), seed=seed
        )
        return mixed.batch(batch, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)

    dataset = tf.data.Dataset.from_tensor_slices((paths, targets))
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        dataset = dataset.cache() if cache is True else dataset.cache(str(cache))
    if shuffle:
        dataset = dataset.shuffle(min(len(paths), 10_000), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
