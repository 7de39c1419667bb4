"""Chest X-ray phantom benchmark: generation speed and realism against a real radiograph.

Measures images per second of ``generate_dataset`` (render + PNG writing) at 256 and 1024
pixels with 1 and 2 workers, and the single-core render rate (CPU time). Draws
``cxr_phantom_grid.png``: a normal image and each finding, the radiographic sign written
under its panel (e.g. "Effusion: meniscus, blunted CP angle"), the lesion box drawn, and for
the normal and cardiomegaly panels the two widths of the cardiothoracic ratio. When
``MEDGANLAB_REFERENCE_CXR`` names a real PA radiograph (PNG), draws
``cxr_phantom_vs_reference.png`` and tabulates simple statistics for both: lung-field vs
mediastinum brightness, rib edge energy, noise, sharpness, edge density and the intensity
histogram distance. The reference image is only read, never copied.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from medganlab.data.cxr import generate_dataset, render_case
from medganlab.data.vocabulary import FINDINGS

__all__ = ["run", "image_statistics"]

STATS_SIZE = 512
ROWS = (0.25, 0.52)  # rows of the mid lung zones (fractions of the height)


def _band(array: np.ndarray, lo: float, hi: float, width: float, darkest: bool) -> slice:
    """Columns (``width`` of the image) of the darkest/brightest mid-zone band in [lo, hi]."""
    rows, cols = array.shape
    region = array[int(ROWS[0] * rows) : int(ROWS[1] * rows)]
    span = max(1, int(width * cols))
    means = [
        (region[:, c : c + span].mean(), c) for c in range(int(lo * cols), int(hi * cols) - span)
    ]
    _, start = min(means) if darkest else max(means)
    return slice(start, start + span)


def image_statistics(image: np.ndarray) -> dict[str, float]:
    """Realism statistics of one 8-bit radiograph, computed at 512x512.

    ``lung_mediastinum_ratio``: mean of the darkest mid-zone column band on each side over
    the brightest central band (dark lungs give a small ratio); ``rib_edge_energy``: mean
    |d/dy| (horizontal rib margins) in those lung bands; ``noise``: robust sigma of the
    finest detail; ``sharpness``: variance of the Laplacian; ``edge_density``: fraction of
    pixels with a strong gradient.
    """
    pil = Image.fromarray(np.asarray(image, dtype=np.uint8))
    array = np.asarray(pil.resize((STATS_SIZE, STATS_SIZE), Image.BOX), dtype=np.float64)
    rows = slice(int(ROWS[0] * STATS_SIZE), int(ROWS[1] * STATS_SIZE))
    bands = [_band(array, 0.1, 0.48, 0.16, True), _band(array, 0.52, 0.9, 0.16, True)]
    lungs = np.concatenate([array[rows, band].ravel() for band in bands])
    mediastinum = array[rows, _band(array, 0.38, 0.62, 0.06, False)]
    vertical = np.abs(ndimage.sobel(ndimage.gaussian_filter(array, 1.0), axis=0) / 8)
    rib = np.concatenate([vertical[rows, band].ravel() for band in bands])
    fine = array - ndimage.gaussian_filter(array, 1.0)
    magnitude = np.hypot(ndimage.sobel(array, axis=0), ndimage.sobel(array, axis=1)) / 8
    return {
        "mean": float(array.mean()),
        "lung_mean": float(lungs.mean()),
        "mediastinum_mean": float(mediastinum.mean()),
        "lung_mediastinum_ratio": float(lungs.mean() / max(mediastinum.mean(), 1e-6)),
        "rib_edge_energy": float(rib.mean()),
        "noise": float(1.4826 * np.median(np.abs(fine - np.median(fine)))),
        "sharpness": float(ndimage.laplace(array).var()),
        "edge_density": float((magnitude > 12).mean()),
    }


def _histogram_distance(first: np.ndarray, second: np.ndarray) -> float:
    """Earth mover's distance (grey levels) between two 8-bit intensity histograms."""
    a = np.bincount(first.ravel(), minlength=256).astype(float)
    b = np.bincount(second.ravel(), minlength=256).astype(float)
    return float(np.abs(np.cumsum(a / a.sum()) - np.cumsum(b / b.sum())).sum())


def _speed(root: Path) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for size, count in ((256, 40), (1024, 6)):
        render_case(0, [], size=size)  # warm caches
        start = time.process_time()
        for seed in range(count // 2):
            render_case(seed, ["Effusion"] if seed % 2 else [], size=size)
        result[f"render_cpu_images_per_s_{size}"] = round(
            (count // 2) / max(time.process_time() - start, 1e-9), 2
        )
        for workers in (1, 2):
            start = time.perf_counter()
            generate_dataset(
                root / f"s{size}_w{workers}",
                count,
                size=size,
                seed=workers,
                workers=workers,
                progress=False,
            )
            rate = count / (time.perf_counter() - start)
            result[f"images_per_s_{size}_workers_{workers}"] = round(rate, 2)
    result["cpu_count"] = os.cpu_count()
    result["load_average"] = [round(v, 2) for v in os.getloadavg()]
    return result


# The radiographic sign each finding is drawn from (printed under its gallery panel).
SIGNS: dict[str, str] = {
    "Normal": "clear lungs, sharp CP angles, CTR < 0.5",
    "Atelectasis": "linear/wedge opacity, volume loss",
    "Cardiomegaly": "enlarged heart, CTR > 0.5",
    "Effusion": "meniscus, blunted CP angle",
    "Infiltration": "ill-defined patchy opacity",
    "Mass": "round opacity > 3 cm",
    "Nodule": "round opacity <= 3 cm",
    "Pneumonia": "lobar consolidation, air bronchograms",
    "Pneumothorax": "pleural line, no markings, lucency",
}


def _panel_note(title: str, meta: dict[str, Any]) -> str:
    """``"<sign>"`` plus the numbers that show it (CTR, diameter, side, lobe, severity)."""
    note = SIGNS[title]
    spec = meta["findings"].get(title, {})
    details = []
    if title in ("Normal", "Cardiomegaly"):
        details.append(f"CTR {meta['ctr']:.2f}")
    if "diameter_mm" in spec:
        details.append(f"{spec['diameter_mm']:.0f} mm")
    if "lobe" in spec:
        details.append(spec["lobe"])
    elif "side" in spec and title != "Cardiomegaly":
        details.append(spec["side"])
    if "severity" in spec:
        details.append(f"severity {spec['severity']:.2f}")
    return f"{title}: {note}\n" + ", ".join(details)


def _grid_figure(path: Path, size: int = 256) -> None:
    """Gallery: a normal image and each finding, its sign written under the panel and its
    lesion box drawn (for cardiomegaly, the heart width and the thoracic width)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    panels = [("Normal", [])] + [(name, [name]) for name in FINDINGS]
    figure, axes = plt.subplots(3, 3, figsize=(12, 13.2))
    for axis, (title, labels) in zip(axes.ravel(), panels, strict=True):
        case = render_case(2026 + len(title), labels, size=size, masks=True)
        axis.imshow(case.image, cmap="gray", vmin=0, vmax=255)
        spec = case.meta["findings"].get(title, {})
        if spec.get("box") and title != "Cardiomegaly":
            x0, y0, x1, y1 = spec["box"]
            axis.add_patch(
                Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="red", lw=1.2)
            )
        if title in ("Normal", "Cardiomegaly"):
            _draw_ctr(axis, case.masks["heart"], case.masks["lungs"])
        axis.set_xticks([])
        axis.set_yticks([])
        for spine in axis.spines.values():
            spine.set_visible(False)
        axis.set_xlabel(_panel_note(title, case.meta), fontsize=9.5)
    figure.suptitle("MedGAN Lab chest X-ray phantom (PA, MONOCHROME2): the sign of each finding")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def _widest_row(mask: np.ndarray) -> tuple[int, int, int]:
    """(row, first column, last column) of the widest row of a boolean mask."""
    best = (0, 0, -1)
    for row in np.nonzero(mask.any(axis=1))[0]:
        cols = np.nonzero(mask[row])[0]
        if cols[-1] - cols[0] > best[2] - best[1]:
            best = (int(row), int(cols[0]), int(cols[-1]))
    return best


def _draw_ctr(axis, heart: np.ndarray, lungs: np.ndarray) -> None:
    """The two widths of the cardiothoracic ratio as horizontal lines (heart and thorax)."""
    for mask, colour in ((heart, "orange"), (lungs, "cyan")):
        row, first, last = _widest_row(mask)
        axis.plot([first, last], [row, row], color=colour, lw=1.2)


def _reference_figure(path: Path, reference: np.ndarray, phantom: np.ndarray, table: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(15, 5.6), width_ratios=[1, 1, 0.9])
    for axis, image, title in ((axes[0], phantom, "phantom"), (axes[1], reference, "reference")):
        axis.imshow(image, cmap="gray", vmin=0, vmax=255)
        axis.set_title(title)
        axis.axis("off")
    axes[2].axis("off")
    axes[2].text(0, 0.5, table, family="monospace", fontsize=9, va="center")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def _compare(reference_path: Path, out_dir: Path) -> dict[str, Any]:
    reference = np.asarray(Image.open(reference_path).convert("L"))
    phantoms = [render_case(900 + k, [], size=STATS_SIZE).image for k in range(8)]
    ref_stats = image_statistics(reference)
    stats = [image_statistics(p) for p in phantoms]
    mean_stats = {k: float(np.mean([s[k] for s in stats])) for k in ref_stats}
    resized = np.asarray(
        Image.fromarray(reference).resize((STATS_SIZE, STATS_SIZE), Image.BOX), dtype=np.uint8
    )
    distance = float(np.mean([_histogram_distance(p, resized) for p in phantoms]))
    lines = [f"{'statistic':<24}{'phantom':>10}{'reference':>11}"]
    for key in ref_stats:
        lines.append(f"{key:<24}{mean_stats[key]:>10.3f}{ref_stats[key]:>11.3f}")
    lines.append(f"{'histogram EMD (grey)':<24}{distance:>10.2f}{0:>11.2f}")
    table = "\n".join(lines)
    print(table)
    _reference_figure(out_dir / "cxr_phantom_vs_reference.png", resized, phantoms[0], table)
    return {
        "reference": str(reference_path),
        "phantom_stats": mean_stats,
        "reference_stats": ref_stats,
        "histogram_emd": distance,
    }


def run(out_dir: Path) -> dict[str, Any]:
    """Measure speed, draw the finding grid and (with a reference) compare realism."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cxr-bench-") as tmp:
        result: dict[str, Any] = {"speed": _speed(Path(tmp))}
    for key, value in result["speed"].items():
        print(f"{key:<36} {value}")
    _grid_figure(out_dir / "cxr_phantom_grid.png")
    result["figures"] = [str(out_dir / "cxr_phantom_grid.png")]
    reference = os.environ.get("MEDGANLAB_REFERENCE_CXR")
    if reference:
        path = Path(reference)
        if not path.is_file():
            raise FileNotFoundError(f"MEDGANLAB_REFERENCE_CXR={reference}: no such PNG file")
        result["realism"] = _compare(path, out_dir)
        result["figures"].append(str(out_dir / "cxr_phantom_vs_reference.png"))
    return result
