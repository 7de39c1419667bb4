"""Normal-vs-abnormal chest X-rays for the VGG-16 study (assignment 05, SPEC §B).

One shared function per step: :func:`binary_index` reads any NIH-layout folder (the
generated phantom or a real ChestX-ray14 download), keeps "No Finding" images as *normal*
and images with at least one of the course's 8 findings as *abnormal* (real images whose
only labels lie outside the 8, e.g. Emphysema, are left out), balances the two classes and
attaches each image's lesion boxes; :func:`split` divides it 60/20/20 **by patient**.

Lesion boxes are ``[x0, y0, x1, y1]`` as fractions of the image width and height (so they
hold at any resized input): from ``metadata.jsonl`` for the phantom, from
``BBox_List_2017.csv`` for a real NIH folder (about 1,000 images have one).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medganlab.data import nih
from medganlab.data.vocabulary import FINDINGS, NO_FINDING

__all__ = [
    "CLASSES",
    "PAPER_FRACTIONS",
    "SPLITS",
    "phantom_root",
    "load_boxes",
    "check_binary",
    "binary_index",
    "split",
    "describe_splits",
    "labels_of",
    "make_dataset",
    "load_arrays",
]

CLASSES = ("normal", "abnormal")
PAPER_FRACTIONS = (0.6, 0.2, 0.2)
SPLITS = ("train", "validation", "test")
BBOX_CSV = "BBox_List_2017.csv"


def phantom_root(images_per_class: int, size: int, seed: int = 0) -> Path:
    """The study's phantom set: ``images_per_class`` normal + as many abnormal images.

    Generated on first use and cached (``catalog.cxr_dataset``); ``MEDGANLAB_CXR_ROOT``
    points it at a real NIH ChestX-ray14 folder instead.
    """
    from medganlab.data import catalog

    if images_per_class < 1:
        raise ValueError(f"images_per_class must be at least 1, got {images_per_class}")
    return catalog.cxr_dataset(
        n=2 * images_per_class, size=size, seed=seed, prevalence="normal-abnormal", progress=False
    )


def _phantom_boxes(path: Path) -> dict[str, list[list[float]]]:
    boxes: dict[str, list[list[float]]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            meta = json.loads(line)
            side = float(meta.get("size") or 1)
            found = [spec.get("box") for spec in (meta.get("findings") or {}).values()]
            boxes[meta["Image Index"]] = [[v / side for v in box] for box in found if box]
    return boxes


def _nih_boxes(path: Path, sizes: Mapping[str, tuple[float, float]]) -> dict[str, list]:
    boxes: dict[str, list[list[float]]] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for row in reader:  # Image Index, Finding Label, x, y, w, h (1024-px originals)
            if len(row) < 6 or row[1].strip() not in FINDINGS:
                continue
            width, height = sizes.get(row[0].strip(), (1024.0, 1024.0))
            x, y, w, h = (float(v) for v in row[2:6])
            box = [x / width, y / height, (x + w) / width, (y + h) / height]
            boxes.setdefault(row[0].strip(), []).append(box)
    return boxes


def load_boxes(root: Path, index: Sequence[Mapping[str, Any]] = ()) -> dict[str, list]:
    """Lesion boxes per image name, as fractions ``[x0, y0, x1, y1]`` (empty if none known)."""
    root = Path(root)
    if (root / "metadata.jsonl").is_file():
        return _phantom_boxes(root / "metadata.jsonl")
    if (root / BBOX_CSV).is_file():
        sizes = {r["name"]: (r.get("width") or 1024.0, r.get("height") or 1024.0) for r in index}
        return _nih_boxes(root / BBOX_CSV, sizes)
    return {}


def check_binary(labels: Sequence[float] | np.ndarray, what: str = "labels") -> np.ndarray:
    """Return ``labels`` as an int array of 0/1; ValueError unless both classes occur."""
    values = np.asarray(labels).ravel()
    found = sorted({float(v) for v in np.unique(values)}) if values.size else []
    if not set(found) <= {0.0, 1.0}:
        raise ValueError(
            f"{what}: expected binary labels 0 (normal) and 1 (abnormal), found {found}"
        )
    if len(found) < 2:
        raise ValueError(
            f"{what}: expected both classes 0 (normal) and 1 (abnormal), found {found}"
        )
    return values.astype(np.int64)


def _abnormal(labels: Sequence[str]) -> int | None:
    if list(labels) == [NO_FINDING]:
        return 0
    return 1 if any(name in FINDINGS for name in labels) else None


def binary_index(
    root: Path, images_per_class: int | None = None, seed: int = 0
) -> list[dict[str, Any]]:
    """Records of a balanced normal-vs-abnormal set, each with ``abnormal`` and ``boxes``.

    Args:
        root: an NIH-layout folder (phantom or real).
        images_per_class: cap per class (default: the smaller class's count).
        seed: which images a cap or the balancing keeps.

    Raises:
        ValueError: the folder does not hold both classes.
    """
    index = nih.load_index(root)
    boxes = load_boxes(root, index)
    records = []
    for record in index:
        label = _abnormal(record["labels"])
        if label is not None:
            records.append({**record, "abnormal": label, "boxes": boxes.get(record["name"], [])})
    check_binary([r["abnormal"] for r in records], what=f"{root}")
    rng = np.random.default_rng([seed, 5])
    keep: list[int] = []
    per_class = [[i for i, r in enumerate(records) if r["abnormal"] == c] for c in (0, 1)]
    n = min(len(per_class[0]), len(per_class[1]), images_per_class or len(records))
    for members in per_class:
        keep += list(rng.choice(members, size=n, replace=False))
    return [records[i] for i in sorted(keep)]


def split(
    records: Sequence[Mapping[str, Any]],
    fractions: Sequence[float] = PAPER_FRACTIONS,
    seed: int = 0,
) -> dict[str, list[dict[str, Any]]]:
    """Split into train / validation / test so that no patient is in two parts."""
    if len(fractions) != len(SPLITS):
        raise ValueError(f"fractions: expected {len(SPLITS)} values {SPLITS}, got {fractions}")
    parts = nih.split_by_patient(records, fractions, seed=seed)
    return dict(zip(SPLITS, parts, strict=True))


def describe_splits(splits: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Images, patients and class counts per split; ValueError if a patient is shared."""
    rows, seen = [], {}
    for name, records in splits.items():
        patients = {str(r["patient_id"]) for r in records}
        for patient in patients:
            if patient in seen:
                raise ValueError(f"patient {patient} is in both {seen[patient]} and {name}")
            seen[patient] = name
        labels = [r["abnormal"] for r in records]
        rows.append(
            {
                "split": name,
                "images": len(records),
                "patients": len(patients),
                "normal": labels.count(0),
                "abnormal": labels.count(1),
                "with_boxes": sum(bool(r["boxes"]) for r in records if r["abnormal"]),
            }
        )
    return rows


def labels_of(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """0/1 labels (1 = abnormal) of the records, in order."""
    return np.array([r["abnormal"] for r in records], np.float32)


def make_dataset(
    records: Sequence[Mapping[str, Any]],
    size: int,
    batch: int,
    shuffle: bool = False,
    repeat: bool = False,
    seed: int = 0,
):
    """(image in [-1, 1], 0/1 label) batches, cached in memory; ``repeat`` for steps_per_epoch."""
    dataset = nih.make_dataset(
        records, size=size, batch=batch, labels="binary", shuffle=shuffle, cache=True, seed=seed
    )
    return dataset.repeat() if repeat else dataset


def load_arrays(records: Sequence[Mapping[str, Any]], size: int) -> tuple[np.ndarray, np.ndarray]:
    """All images (N, size, size, 1) float32 in [-1, 1] and their 0/1 labels, in order."""
    batches = list(make_dataset(records, size, batch=256).as_numpy_iterator())
    images = np.concatenate([b[0] for b in batches]).astype(np.float32)
    return images, np.concatenate([b[1] for b in batches]).ravel().astype(np.float32)
