"""Kidney CT phantom benchmark: generation speed at 512x512 and HU per label and tissue.

Measures slices per second of ``generate_dataset`` (rendering + DICOM writing) with 1 and 2
workers, draws ``ct_phantom_slices.png`` (axial slices at W400/L0 with the label overlay)
and tabulates HU per KiTS19 label and per tissue.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from medganlab.data.ct import TISSUES, generate_dataset, render_case

__all__ = ["run"]

SIZE = 512
THICKNESS_MM = 3.0
CASES_PER_RUN = 2


def _time_generation(workers: int, root: Path) -> dict[str, float]:
    start = time.perf_counter()
    out = generate_dataset(
        root / f"workers_{workers}",
        cases=CASES_PER_RUN,
        size=SIZE,
        seed=100 + workers,
        slice_thickness_mm=THICKNESS_MM,
        workers=workers,
        progress=False,
    )
    seconds = time.perf_counter() - start
    slices = len(list(out.glob("case_*/dicom/*.dcm")))
    return {
        "workers": workers,
        "slices": slices,
        "seconds": round(seconds, 2),
        "slices_per_s": round(slices / seconds, 1),
    }


def _hu_tables(seed: int = 0) -> tuple[dict[str, Any], dict[str, Any], Any]:
    case = render_case(seed, SIZE, THICKNESS_MM, tumour=True)
    per_label = {}
    for value, name in ((0, "background"), (1, "kidney"), (2, "tumour")):
        hu = case.hu[case.labels == value].astype(np.float64)
        per_label[name] = _stats(hu)
    per_tissue = {}
    for name, tissue in TISSUES.items():
        hu = case.hu[case.tissues == tissue].astype(np.float64)
        if hu.size:
            per_tissue[name] = _stats(hu)
    return per_label, per_tissue, case


def _stats(hu: np.ndarray) -> dict[str, float]:
    return {
        "voxels": int(hu.size),
        "median": round(float(np.median(hu)), 1),
        "p05": round(float(np.percentile(hu, 5)), 1),
        "p95": round(float(np.percentile(hu, 95)), 1),
    }


def _figure(case: Any, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    labelled = np.flatnonzero(np.any(case.labels > 0, axis=(1, 2)))
    tumour = np.flatnonzero(np.any(case.labels == 2, axis=(1, 2)))
    top = max(0, int(labelled[0]) - 6)
    middle = int(tumour[len(tumour) // 2]) if len(tumour) else int(labelled.mean())
    bottom = min(len(case.hu) - 1, int(labelled[-1]) + 5)
    picks = {top, int(labelled[0]) + 3, middle, bottom}
    for index in np.linspace(labelled[0], labelled[-1], 8).astype(int)[1:-1]:
        if len(picks) < 6:
            picks.add(int(index))
    picks = sorted(picks)
    overlay = ListedColormap([(0, 0, 0, 0), (1.0, 0.2, 0.2, 0.35), (0.2, 0.4, 1.0, 0.45)])
    fig, axes = plt.subplots(2, 3, figsize=(13.5, 9.5))
    for axis, index in zip(axes.flat, picks, strict=True):
        axis.imshow(case.hu[index], cmap="gray", vmin=-200, vmax=200, interpolation="nearest")
        axis.imshow(case.labels[index], cmap=overlay, vmin=0, vmax=2, interpolation="nearest")
        axis.set_title(f"slice {index} (z step {case.spacing[0]:g} mm)", fontsize=10)
        axis.axis("off")
    fig.suptitle("Kidney CT phantom, W400/L0; red kidney (1), blue tumour (2)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def run(out_dir: Path) -> dict[str, Any]:
    """Measure generation speed at 512x512, draw the slice figure, tabulate HU per label."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
        speed = [_time_generation(workers, Path(scratch)) for workers in (1, 2)]
    per_label, per_tissue, case = _hu_tables()
    figure = _figure(case, out_dir / "ct_phantom_slices.png")
    best = max(row["slices_per_s"] for row in speed)
    slices_per_case = case.hu.shape[0]
    estimate_20 = round(20 * slices_per_case / best, 1)

    print(
        f"generation at {SIZE}x{SIZE}, {THICKNESS_MM:g} mm ({slices_per_case} slices per case), DICOM included"
    )
    print(f"{'workers':>8} {'slices':>7} {'seconds':>8} {'slices/s':>9}")
    for row in speed:
        print(
            f"{row['workers']:>8} {row['slices']:>7} {row['seconds']:>8} {row['slices_per_s']:>9}"
        )
    print(f"estimated time for 20 cases: {estimate_20} s")
    print(f"\n{'label / tissue':<18} {'voxels':>9} {'median':>7} {'p05':>7} {'p95':>7}")
    for name, row in {**per_label, **{f"  {k}": v for k, v in per_tissue.items()}}.items():
        print(f"{name:<18} {row['voxels']:>9} {row['median']:>7} {row['p05']:>7} {row['p95']:>7}")
    return {
        "size": SIZE,
        "slice_thickness_mm": THICKNESS_MM,
        "speed": speed,
        "estimated_seconds_20_cases": estimate_20,
        "hu_per_label": per_label,
        "hu_per_tissue": per_tissue,
        "kidney_volume_ml": case.meta["kidney_volume_ml"],
        "tumour_volume_ml": case.meta["tumour_volume_ml"],
        "figure": str(figure),
    }
