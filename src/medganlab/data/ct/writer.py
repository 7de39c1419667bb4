"""Writing a data set: a DICOM CT series per case (plus labels, metadata and optionally
the KiTS19 NIfTI layout) into an atomic, checksummed folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from medganlab.data.ct.rendering import _check_geometry, case_seed, render_case

__all__ = ["DATASET_KIND", "FORMAT_VERSION", "generate_dataset"]


DATASET_KIND = "kidney_ct_phantom"


FORMAT_VERSION = 1


def _tumour_flags(cases: int, seed: int, tumour_fraction: float) -> list[bool]:
    if not 0.0 <= tumour_fraction <= 1.0:
        raise ValueError(f"tumour_fraction must be in [0, 1], got {tumour_fraction}")
    count = int(round(tumour_fraction * cases))
    order = np.random.default_rng(np.random.SeedSequence([int(seed), 23])).permutation(cases)
    flags = [False] * cases
    for index in order[:count]:
        flags[int(index)] = True
    return flags


def _write_case(task: dict[str, Any]) -> dict[str, Any]:
    """Render and write one case (module level: runs in worker processes)."""
    from medganlab.data import dicom

    case = render_case(task["case_seed"], task["size"], task["slice_thickness_mm"], task["tumour"])
    folder = Path(task["folder"])
    folder.mkdir(parents=True)
    patient_id = f"MEDGANLAB-CT-{task['seed']:04d}-{task['index']:05d}"
    dicom.write_ct_series(
        folder / "dicom",
        case.hu,
        case.spacing,
        patient_id=patient_id,
        uid_seed=f"{task['seed']}/{task['index']}/{task['size']}/{task['slice_thickness_mm']}",
        origin=case.origin,
    )
    np.save(folder / "labels.npy", case.labels)
    if task["kits_layout"]:
        from medganlab.data import kits

        kits.write_kits_case(folder, case.hu, case.labels, case.spacing, case.origin)
    meta = {"case_id": folder.name, "patient_id": patient_id, **case.meta}
    (folder / "case.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return meta


def generate_dataset(
    out: Path,
    cases: int,
    size: int = 512,
    seed: int = 0,
    slice_thickness_mm: float = 3.0,
    tumour_fraction: float = 0.8,
    kits_layout: bool = False,
    workers: int | None = None,
    progress: bool | None = None,
) -> Path:
    """Generate a kidney CT phantom data set (atomic; a matching existing set is kept).

    Layout: ``case_XXXXX/dicom/IM_XXXX.dcm`` (one CT slice per file), ``labels.npy``
    (uint8, slices x H x W), ``case.json``; with ``kits_layout`` also ``imaging.nii.gz`` and
    ``segmentation.nii.gz`` as KiTS19 ships them; ``cases.json`` and ``manifest.json`` at the top.

    Args:
        out: destination folder (replaced atomically).
        cases: number of patients.
        size: in-plane pixels.
        seed: data set seed.
        slice_thickness_mm: slice thickness in mm.
        tumour_fraction: fraction of patients with at least one tumour.
        kits_layout: also write the KiTS19 NIfTI files.
        workers: worker processes (default: all usable cores).
        progress: show a progress bar (default: unless grading or quiet).

    Returns:
        The data set folder.
    """
    from medganlab.data.manifest import atomic_dataset_dir, manifest_matches, write_manifest
    from medganlab.parallel import parallel_map

    if cases < 1:
        raise ValueError(f"cases must be at least 1, got {cases}")
    _check_geometry(size, slice_thickness_mm)
    params = {
        "cases": int(cases),
        "size": int(size),
        "seed": int(seed),
        "slice_thickness_mm": float(slice_thickness_mm),
        "tumour_fraction": float(tumour_fraction),
        "kits_layout": bool(kits_layout),
        "format_version": FORMAT_VERSION,
    }
    out = Path(out)
    if manifest_matches(out, DATASET_KIND, params):
        return out
    flags = _tumour_flags(cases, seed, tumour_fraction)
    with atomic_dataset_dir(out) as tmp:
        tasks = [
            {
                "folder": str(tmp / f"case_{index:05d}"),
                "index": index,
                "seed": int(seed),
                "case_seed": case_seed(seed, index),
                "size": int(size),
                "slice_thickness_mm": float(slice_thickness_mm),
                "tumour": flags[index],
                "kits_layout": bool(kits_layout),
            }
            for index in range(cases)
        ]
        metas = parallel_map(
            _write_case, tasks, workers=workers, desc="kidney CT", progress=progress
        )
        (tmp / "cases.json").write_text(json.dumps(metas, indent=1, sort_keys=True) + "\n")
        write_manifest(tmp, DATASET_KIND, params)
    return out.resolve()
