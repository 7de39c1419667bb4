"""The synthetic training set that notebook 07 writes and notebook 08 loads.

An artifact folder ``<artifacts>/<name>/`` holding::

    images.npy     float32 (N, S, S, 1): synthetic CT slices windowed W400/L0 to [-1, 1]
    labels.npy     uint8 (N, S, S, 1): the label maps they were generated from (0, 1, 2)
    manifest.json  source patients (and the one of every slice), the split (seed, fractions,
                   training patients), the data set, the generator checkpoint, the count,
                   the condition, how many label maps were edited, checksums

Synthetic images only ever join the training split (SPEC §C): :func:`write_synthetic_set`
refuses source patients outside the training split, and :func:`load_synthetic_set` refuses a
set made from any patient outside the caller's training split, or from another data set.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from medganlab.data.ct_slices import check_label_map
from medganlab.data.manifest import sha256_file
from medganlab.paths import artifacts_dir, reference_artifacts_dir
from medganlab.training.artifacts import artifact_path, swap_into_place

__all__ = ["KIND", "synthetic_set_name", "write_synthetic_set", "load_synthetic_set"]

KIND = "pix2pix_synthetic_set"
_FILES = ("images.npy", "labels.npy")


def synthetic_set_name(profile: str) -> str:
    """The artifact name 07 writes and 08 loads, e.g. ``07_pix2pix_ct_cpu_synthetic``."""
    return f"07_pix2pix_ct_{profile}_synthetic"


def _outside(patients: Sequence[str], train: Sequence[str]) -> list[str]:
    allowed = set(train)
    return sorted({p for p in patients if p not in allowed})


def write_synthetic_set(
    name: str,
    images: np.ndarray,
    labels: np.ndarray,
    source_cases: Sequence[str],
    split: dict[str, Any],
    generator: dict[str, Any],
    metadata: dict[str, Any] | None = None,
    directory: str | os.PathLike | None = None,
) -> Path:
    """Write the synthetic set atomically and return its folder.

    Args:
        name: artifact name (see :func:`synthetic_set_name`).
        images: float (N, S, S, 1) in [-1, 1].
        labels: (N, S, S, 1) label maps in {0, 1, 2}, one per image.
        source_cases: the patient whose label map each image came from (N names).
        split: ``{"seed", "fractions", "train"}`` of :func:`medganlab.data.ct_slices.split_patients`.
        generator: where the generator checkpoint is (``{"artifact": ..., "created_at": ...}``).
        metadata: more JSON values (profile, condition, data set, edited count ...).
        directory: the artifacts folder (default ``MEDGANLAB_ARTIFACTS``).

    Raises:
        ValueError: shapes or values are wrong, or a source patient is outside the training split.
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[-1] != 1 or len(images) == 0:
        raise ValueError(f"images: expected a non-empty (N, S, S, 1) array, got {images.shape}")
    labels = check_label_map(labels, like=images)
    if len(source_cases) != len(images):
        raise ValueError(
            f"source_cases: expected one patient per image ({len(images)}), got {len(source_cases)}"
        )
    if not {"seed", "train"} <= set(split):
        raise ValueError(f"split: expected the keys 'seed' and 'train', got {sorted(split)}")
    bad = _outside(source_cases, split["train"])
    if bad:
        raise ValueError(
            f"synthetic slices may only come from training-split patients; {bad} are not in "
            f"the training split ({len(split['train'])} patients)"
        )
    folder = artifact_path(name, directory)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    np.save(staging / "images.npy", images)
    np.save(staging / "labels.npy", labels)
    manifest = {
        "kind": KIND,
        "name": name,
        "count": int(len(images)),
        "image_size": int(images.shape[1]),
        "source_patients": sorted(set(source_cases)),
        "source_patient_of_slice": list(source_cases),
        "split": {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in split.items()},
        "generator": generator,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **(metadata or {}),
        "sha256": {f: sha256_file(staging / f) for f in _FILES},
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str) + "\n")
    return swap_into_place(staging, folder)


def _find(name: str, directory: str | os.PathLike | None) -> Path:
    roots = (
        [Path(directory)] if directory is not None else [artifacts_dir(), reference_artifacts_dir()]
    )
    for root in roots:
        folder = artifact_path(name, root)
        if (folder / "manifest.json").is_file():
            return folder
    raise FileNotFoundError(
        f"no synthetic set {name!r} (expected manifest.json, images.npy, labels.npy) in "
        + " or ".join(str(r) for r in roots)
        + ". Run notebook 07 (07_pix2pix_ct) to the end, or `make artifacts`."
    )


def load_synthetic_set(
    name: str,
    train_cases: Sequence[str],
    dataset: str | None = None,
    directory: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Load a synthetic set for the training split ``train_cases``.

    Args:
        name: artifact name (see :func:`synthetic_set_name`).
        train_cases: the caller's training patients; every source patient must be one.
        dataset: the caller's data set name; when given, the set must come from it.
        directory: search only this folder (default: own artifacts, then the reference ones).

    Returns:
        ``(images, labels, manifest)``.

    Raises:
        FileNotFoundError: no such set.
        ValueError: a source patient outside ``train_cases``, another data set, or files that
            do not match the manifest.
    """
    folder = _find(name, directory)
    manifest = json.loads((folder / "manifest.json").read_text())
    if manifest.get("kind") != KIND:
        raise ValueError(
            f"{folder}: expected a {KIND} manifest, found kind {manifest.get('kind')!r}"
        )
    if dataset is not None and manifest.get("dataset") not in (None, dataset):
        raise ValueError(
            f"{folder}: made from data set {manifest.get('dataset')!r}, expected {dataset!r}"
        )
    bad = _outside(manifest["source_patients"], train_cases)
    if bad:
        raise ValueError(
            f"{folder}: generated from patients {bad} outside your training split "
            f"(expected only training patients; split seed of the set "
            f"{manifest['split'].get('seed')}). Synthetic slices may only join the training "
            "split: use the same split (medganlab.data.ct_slices.split_patients) in both notebooks."
        )
    for file in _FILES:
        if sha256_file(folder / file) != manifest["sha256"][file]:
            raise ValueError(
                f"{folder / file}: checksum differs from the manifest (a changed file)"
            )
    images = np.load(folder / "images.npy", allow_pickle=False)
    labels = np.load(folder / "labels.npy", allow_pickle=False)
    if len(images) != manifest["count"]:
        raise ValueError(f"{folder}: {len(images)} images, the manifest says {manifest['count']}")
    return images, labels, manifest
