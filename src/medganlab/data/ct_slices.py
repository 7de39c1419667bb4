"""Axial kidney-CT slices for notebooks 07 (Pix2Pix) and 08 (segmentation).

One place for what both notebooks must agree on:

* :func:`split_patients` — the patient-level 70/20/10 split (never by slice) with a fixed
  seed, so the same patients land in the same split in 07 and 08;
* :func:`load_slices` — slices windowed W400/L0 to [-1, 1] with their label maps (0 background,
  1 kidney, 2 tumour) and the body outline, from the generated phantom or a real KiTS19 folder
  (NIfTI, read by :mod:`medganlab.data.kits`);
* :func:`encode_condition` — the label map (and optionally the body outline) as the float
  channels a Pix2Pix generator takes;
* :func:`edit_tumour` — grow, shrink or move the tumour of a label map;
* :data:`PAPER_SYNTHETIC_RATIO` and :func:`synthetic_count` — the paper's 1,333 synthetic :
  4,480 real training slices, scaled to any training set.

TensorFlow is not imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from medganlab.data import kits

__all__ = [
    "HU_CENTER",
    "HU_WIDTH",
    "SPLIT_FRACTIONS",
    "SPLIT_SEED",
    "PAPER_SYNTHETIC_RATIO",
    "REGIONS",
    "SliceSet",
    "split_patients",
    "load_slices",
    "body_outline",
    "check_label_map",
    "encode_condition",
    "condition_channels",
    "to_hu",
    "edit_tumour",
    "synthetic_count",
]

HU_CENTER = 0.0
HU_WIDTH = 400.0  # W400/L0: HU -200..200 -> [-1, 1]
SPLIT_FRACTIONS = (0.7, 0.2, 0.1)
SPLIT_SEED = 2023  # shared by 07 and 08: change it in both or in neither
PAPER_SYNTHETIC_RATIO = 1333 / 4480  # synthetic : real training slices (70 % of 6,400)
REGIONS = {0: "background", 1: "kidney", 2: "tumour"}
CONDITIONS = ("labels", "labels+body")


@dataclass(frozen=True)
class SliceSet:
    """Slices of some patients.

    Attributes:
        images: float32 (N, S, S, 1), HU windowed W400/L0 to [-1, 1].
        labels: uint8 (N, S, S, 1) in {0, 1, 2}.
        body: uint8 (N, S, S, 1), 1 inside the body outline.
        cases: the case (patient) of every slice.
    """

    images: np.ndarray
    labels: np.ndarray
    body: np.ndarray
    cases: list[str]

    def __len__(self) -> int:
        return len(self.images)

    def take(self, index: Sequence[int] | np.ndarray) -> SliceSet:
        """The slices at ``index`` (in that order)."""
        index = np.asarray(index, dtype=int)
        return SliceSet(
            self.images[index], self.labels[index], self.body[index], [self.cases[i] for i in index]
        )


def split_patients(
    root: Path, seed: int = SPLIT_SEED, fractions: Sequence[float] = SPLIT_FRACTIONS
) -> dict[str, list[str]]:
    """The course's patient-level split of a kidney CT folder: ``{"train", "val", "test"}``.

    Every split gets at least one patient when there are three or more (validation and test
    round up to one; training takes the rest), so a small smoke set still has a test patient.
    The same folder, seed and fractions always give the same split (07 and 08 share it).

    Raises:
        ValueError: fewer than three labelled patients, or bad fractions.
    """
    names = [case.name for case in kits.case_dirs(root) if kits.load_labels(case) is not None]
    if len(names) < 3:
        raise ValueError(
            f"{root}: expected at least 3 labelled patients for a train/val/test split, "
            f"found {len(names)}"
        )
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(
            f"fractions: expected three non-negative numbers summing to 1, got {tuple(fractions)}"
        )
    n = len(names)
    n_test = max(1, int(round(fractions[2] * n)))
    n_val = max(1, int(round(fractions[1] * n)))
    order = np.random.default_rng(seed).permutation(n)
    shuffled = [names[i] for i in order]
    return {
        "train": sorted(shuffled[n_test + n_val :]),
        "val": sorted(shuffled[n_test : n_test + n_val]),
        "test": sorted(shuffled[:n_test]),
    }


def body_outline(images: np.ndarray, threshold_hu: float = -300.0) -> np.ndarray:
    """The body mask of windowed slices: above ``threshold_hu``, largest blob, holes filled.

    Air outside the patient is -1000 HU (-1 after windowing); fat is about -100 HU. Bowel gas
    inside the body is filled in as a hole.

    Args:
        images: float (N, H, W, 1) or (H, W) in [-1, 1].
    """
    images = np.asarray(images, np.float32)
    flat = images.reshape((-1, *images.shape[-3:-1])) if images.ndim == 4 else images[None]
    level = (threshold_hu - HU_CENTER) / (HU_WIDTH / 2)
    masks = np.zeros(flat.shape, np.uint8)
    for i, image in enumerate(flat):
        inside = image > max(level, -0.999)
        blobs, count = ndimage.label(inside)
        if count:
            sizes = np.bincount(blobs.ravel())[1:]
            inside = blobs == (1 + int(np.argmax(sizes)))
        masks[i] = ndimage.binary_fill_holes(inside)
    return masks.reshape(images.shape) if images.ndim == 4 else masks[0]


def check_label_map(labels: np.ndarray, like: np.ndarray | None = None, name: str = "labels"):
    """Return ``labels`` as uint8 after checking its values (0, 1, 2) and shape.

    Args:
        labels: integer or float label maps, (N, H, W, 1) or (H, W).
        like: an array the labels must match in shape (the slices, or the body masks).

    Raises:
        ValueError: a value outside {0, 1, 2}, or a shape different from ``like``'s.
    """
    labels = np.asarray(labels)
    if like is not None and tuple(np.shape(like)) != labels.shape:
        raise ValueError(
            f"{name}: expected the shape of the CT slices {tuple(np.shape(like))}, "
            f"got {labels.shape}"
        )
    values = np.unique(labels)
    bad = [v for v in values.tolist() if v not in (0, 1, 2)]
    if bad:
        raise ValueError(
            f"{name}: expected values 0 (background), 1 (kidney) or 2 (tumour); "
            f"found {sorted(bad)[:10]}"
        )
    return labels.astype(np.uint8)


def condition_channels(condition: str) -> int:
    """Channels of the generator input for ``condition`` ("labels" 2, "labels+body" 3)."""
    if condition not in CONDITIONS:
        raise ValueError(f"condition: expected one of {CONDITIONS}, got {condition!r}")
    return 2 if condition == "labels" else 3


def encode_condition(
    labels: np.ndarray, body: np.ndarray | None = None, condition: str = "labels+body"
) -> np.ndarray:
    """The generator's input: kidney, tumour (and body) masks as channels in {-1, 1}.

    Args:
        labels: (N, H, W, 1) label maps in {0, 1, 2}.
        body: (N, H, W, 1) body masks in {0, 1}; required for ``"labels+body"``.
        condition: ``"labels"`` (the paper: the label map alone) or ``"labels+body"``.

    Returns:
        float32 (N, H, W, 2 or 3).

    Raises:
        ValueError: label values outside {0, 1, 2}, a missing body mask, or shapes that differ.
    """
    channels = condition_channels(condition)
    labels = check_label_map(labels)
    if labels.ndim != 4 or labels.shape[-1] != 1:
        raise ValueError(f"labels: expected shape (N, H, W, 1), got {labels.shape}")
    planes = [labels == 1, labels == 2]
    if channels == 3:
        if body is None:
            raise ValueError('condition "labels+body": expected a body mask, got None')
        body = np.asarray(body)
        if body.shape != labels.shape:
            raise ValueError(
                f"body: expected the shape of the label maps {labels.shape}, got {body.shape}"
            )
        planes.append(body > 0)
    return np.concatenate(planes, axis=-1).astype(np.float32) * 2.0 - 1.0


def to_hu(images: np.ndarray) -> np.ndarray:
    """Windowed [-1, 1] back to HU (-200..200 for W400/L0; values beyond were clipped)."""
    return np.asarray(images, np.float32) * (HU_WIDTH / 2) + HU_CENTER


def load_slices(
    root: Path, case_ids: Sequence[str], size: int, only_labelled: bool = True
) -> SliceSet:
    """Slices of ``case_ids`` windowed W400/L0, with label maps and body outlines.

    Args:
        root: a generated phantom or a real KiTS19 folder (NIfTI).
        case_ids: patients to load (e.g. one split of :func:`split_patients`).
        size: in-plane size (bilinear for images, nearest for labels).
        only_labelled: keep only slices with kidney or tumour (as the paper).
    """
    images, labels, cases = kits.slice_arrays(
        root, case_ids, size=size, only_labelled=only_labelled
    )
    labels = check_label_map(labels, like=images)
    return SliceSet(images, labels, body_outline(images), list(cases))


def edit_tumour(
    labels: np.ndarray, scale: float = 1.0, shift: tuple[float, float] = (0.0, 0.0)
) -> np.ndarray:
    """Grow, shrink or move the tumour of one label map.

    The tumour (label 2) is scaled about its centre by ``scale`` and moved by ``shift``
    (rows, columns, in pixels); where it was, kidney (1) takes its place. A map without a
    tumour is returned unchanged.

    Args:
        labels: (H, W) or (H, W, 1) label map in {0, 1, 2}.
        scale: linear size factor (> 0).
        shift: (down, right) in pixels.
    """
    if scale <= 0:
        raise ValueError(f"scale: expected a positive factor, got {scale}")
    labels = check_label_map(labels)
    plane = labels[..., 0] if labels.ndim == 3 else labels
    tumour = plane == 2
    if not tumour.any():
        return labels.copy()
    centre = np.array(ndimage.center_of_mass(tumour))
    matrix = np.eye(2) / scale
    offset = centre - matrix @ (centre + np.asarray(shift, float))
    moved = ndimage.affine_transform(tumour.astype(np.uint8), matrix, offset, order=0) > 0
    edited = np.where(tumour, 1, plane).astype(np.uint8)
    edited[moved] = 2
    return edited[..., None] if labels.ndim == 3 else edited


def synthetic_count(real_training_slices: int, ratio: float = PAPER_SYNTHETIC_RATIO) -> int:
    """How many synthetic slices join ``real_training_slices`` at the paper's ratio (>= 1)."""
    if real_training_slices < 1:
        raise ValueError(f"real_training_slices: expected >= 1, got {real_training_slices}")
    return max(1, int(round(real_training_slices * ratio)))
