"""Chest X-ray phantom benchmark: generation speed and film statistics against a real one.

Speed: the single-core render rate (CPU time of this process) at 256 and 512 pixels, for
images of fresh patients (every image a new patient: the worst case) and for the NIH
plan of ``generate_dataset`` (follow-ups share their patient's cached anatomy), the
wall-clock time of ``generate_dataset`` (render + PNG) for a 20,000-image set at 256 px on
2 workers and its rate on 1 worker, and the time of its serial part for 20,000 images
(labels and patient plan).

Statistics (:func:`film_statistics`) of 50 normal phantoms at 512 px: grey-level
percentiles (5th / 50th / 95th) of the whole film, of the lung fields and of the
mediastinum (per row, the columns between the two lung fields), edge density, lung
texture. Lung fields come from the phantom's masks and, to compare like with like, from
:func:`estimate_lung_fields` (dark regions of the chest, Otsu threshold), which is all a
real film has. When ``MEDGANLAB_REFERENCE_CXR`` names a real PA radiograph, the same
statistics are computed for it and the gallery shows it beside the phantoms (the film is
only read, never copied). Figures: ``cxr_phantom_gallery.png`` (every finding, its sign
written under it) and ``cxr_phantom_grid.png`` (lesion boxes and the two widths of the
cardiothoracic ratio drawn).
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
from medganlab.data.cxr.gallery import gallery_cases, panel_note, write_gallery
from medganlab.data.cxr.labels import sample_labels
from medganlab.data.cxr.writer import _plan
from medganlab.data.vocabulary import FINDINGS

__all__ = ["run", "film_statistics", "estimate_lung_fields"]

STATS_SIZE = 512
STATS_FILMS = int(os.environ.get("MEDGANLAB_CXR_STATS_FILMS", "50"))


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of 8-bit values."""
    hist = np.bincount(np.clip(values, 0, 255).astype(np.int64).ravel(), minlength=256)
    p = hist / max(hist.sum(), 1)
    omega, mu = np.cumsum(p), np.cumsum(p * np.arange(256))
    between = (mu[-1] * omega - mu) ** 2 / np.maximum(omega * (1 - omega), 1e-12)
    return float(np.argmax(between))


def estimate_lung_fields(image: np.ndarray) -> np.ndarray:
    """Lung fields of a PA film (any size) without masks: the dark regions of the chest
    (Otsu threshold of the smoothed film inside a central box), the two largest, holes
    filled. On the NIH reference it matches a hand-checked outline (threshold 120)."""
    array = ndimage.gaussian_filter(np.asarray(image, dtype=np.float64), image.shape[0] / 128)
    n = array.shape[0]
    box = np.zeros(array.shape, bool)
    box[int(0.12 * n) : int(0.82 * n), int(0.1 * n) : int(0.92 * n)] = True
    dark = (array < _otsu(array[box])) & box
    # cut along the spine (the brightest column of the middle third) so that lungs joined
    # through the trachea or behind the heart count as two
    third = slice(n // 3, 2 * n // 3)
    spine = n // 3 + int(np.argmax(array[int(0.2 * n) : int(0.7 * n), third].mean(axis=0)))
    dark[:, max(spine - 2, 0) : spine + 3] = False
    labels, count = ndimage.label(dark)
    if count < 2:
        return dark
    sizes = ndimage.sum(dark, labels, range(1, count + 1))
    lungs = np.isin(labels, np.argsort(sizes)[-2:] + 1)
    lungs = ndimage.binary_fill_holes(ndimage.binary_closing(lungs, iterations=4))
    lungs[:, max(spine - 2, 0) : spine + 3] = False  # the closing must not rejoin them
    return lungs


def _between_lungs(lungs: np.ndarray) -> np.ndarray:
    """Per row, the columns strictly between the two lung fields (the mediastinum)."""
    labels, count = ndimage.label(lungs)
    out = np.zeros_like(lungs)
    if count < 2:
        return out
    sizes = ndimage.sum(lungs, labels, range(1, count + 1))
    a, b = np.argsort(sizes)[-2:] + 1
    left, right = sorted((labels == a, labels == b), key=lambda m: np.nonzero(m)[1].mean())
    for row in range(lungs.shape[0]):
        first, second = np.nonzero(left[row])[0], np.nonzero(right[row])[0]
        if first.size and second.size and second[0] > first[-1] + 1:
            out[row, first[-1] + 1 : second[0]] = True
    return out


def film_statistics(image: np.ndarray, lungs: np.ndarray | None = None) -> dict[str, Any]:
    """Statistics of one 8-bit PA film at 512 px (resized if needed).

    ``film``, ``lungs``, ``mediastinum``: 5th / 50th / 95th percentiles of the grey levels
    of the whole film, the lung fields (``lungs`` mask, else :func:`estimate_lung_fields`)
    and the mediastinum; ``edge_density``: fraction of pixels whose Sobel gradient exceeds
    12 grey levels per pixel; ``lung_texture``: standard deviation of the detail finer
    than 3 px inside the lung fields.
    """
    image = np.asarray(image, dtype=np.uint8)
    if image.shape != (STATS_SIZE, STATS_SIZE):
        image = np.asarray(Image.fromarray(image).resize((STATS_SIZE, STATS_SIZE), Image.BOX))
        if lungs is not None:
            lungs = (
                np.asarray(
                    Image.fromarray(lungs.astype(np.uint8) * 255).resize(
                        (STATS_SIZE, STATS_SIZE), Image.NEAREST
                    )
                )
                > 127
            )
    array = image.astype(np.float64)
    lungs = estimate_lung_fields(image) if lungs is None else lungs
    middle = _between_lungs(lungs)
    magnitude = np.hypot(ndimage.sobel(array, 0), ndimage.sobel(array, 1)) / 8
    detail = array - ndimage.gaussian_filter(array, 3)
    core = ndimage.binary_erosion(lungs, iterations=5)

    def pct(values: np.ndarray) -> list[float]:
        return [float(v) for v in np.percentile(values, [5, 50, 95])] if values.size else []

    return {
        "film": pct(array),
        "lungs": pct(array[lungs]),
        "mediastinum": pct(array[middle]),
        "edge_density": float((magnitude > 12).mean()),
        "lung_texture": float(detail[core].std()) if core.any() else float("nan"),
    }


def _mean_statistics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean over films of each statistic (films where a region came out empty skipped)."""
    out: dict[str, Any] = {}
    for key in rows[0]:
        values = [r[key] for r in rows if not isinstance(r[key], list) or r[key]]
        out[key] = np.round(np.mean(values, axis=0), 3).tolist() if values else None
        out[f"{key}_films"] = len(values)
    return out


def _statistics(count: int) -> dict[str, Any]:
    """Mean statistics of ``count`` normal phantoms (phantom masks and estimated fields)."""
    masked, estimated = [], []
    for seed in range(count):
        case = render_case(seed, [], size=STATS_SIZE, masks=True)
        masked.append(film_statistics(case.image, case.masks["lungs"]))
        estimated.append(film_statistics(case.image))
    return {
        "films": count,
        "with_masks": _mean_statistics(masked),
        "estimated_fields": _mean_statistics(estimated),
        "film_median_range": [
            min(r["film"][1] for r in masked),
            max(r["film"][1] for r in masked),
        ],
    }


def _render_rate(size: int, count: int, fresh: bool) -> float:
    """Images per CPU-second of this process (one core)."""
    if fresh:
        jobs = [(9000 + k, ["Effusion"] if k % 2 else [], None) for k in range(count)]
    else:
        tasks = _plan(count, 11, sample_labels(count, "nih", 11))
        jobs = [(t["seed"], t["labels"], t["patient_seed"]) for t in tasks]
    # warm the per-process tables (texture banks, noise tile, resampling taps), the
    # findings' ones too: made once per process (~0.1 s), they are not a per-image cost
    render_case(0, [], size=size)
    render_case(0, list(FINDINGS), size=size)
    start = time.process_time()
    for seed, labels, patient in jobs:
        render_case(seed, labels, size=size, patient_seed=patient)
    return round(count / max(time.process_time() - start, 1e-9), 1)


def _speed(root: Path) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for size, count in ((256, 200), (512, 60)):
        result[f"render_cpu_images_per_s_{size}_fresh_patients"] = _render_rate(size, count, True)
        result[f"render_cpu_images_per_s_{size}_nih_plan"] = _render_rate(size, count, False)
    # the serial part of a 20k data set (labels and the patient plan, in the parent)
    start = time.perf_counter()
    tasks = _plan(20000, 0, sample_labels(20000, "nih", 0))
    result["labels_and_plan_20000_s"] = round(time.perf_counter() - start, 2)
    result["images_per_patient_20000"] = round(20000 / len({t["patient"] for t in tasks}), 2)
    # the target, measured whole: a 20k set at 256 px on 2 workers (wall clock,
    # process start-up included); then the per-worker rate on a short set
    for workers, count in ((2, 20000), (1, 300)):
        start = time.perf_counter()
        generate_dataset(
            root / f"w{workers}", count, size=256, seed=0, workers=workers, progress=False
        )
        seconds = time.perf_counter() - start
        result[f"dataset_{count}_256_workers_{workers}_s"] = round(seconds, 1)
        result[f"dataset_images_per_s_256_workers_{workers}"] = round(count / seconds, 1)
    result["cpu_count"] = os.cpu_count()
    result["load_average"] = [round(v, 2) for v in os.getloadavg()]
    return result


def _grid_figure(path: Path, size: int = 256) -> None:
    """Each finding with its lesion box drawn (for the normal and cardiomegaly panels the
    widths of the cardiothoracic ratio), the sign written under the panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    figure, axes = plt.subplots(3, 3, figsize=(12, 13.2))
    for axis, (title, case) in zip(axes.ravel(), gallery_cases(2026, size), strict=True):
        axis.imshow(case.image, cmap="gray", vmin=0, vmax=255)
        spec = case.meta["findings"].get(title, {})
        if spec.get("box") and title != "Cardiomegaly":
            x0, y0, x1, y1 = spec["box"]
            axis.add_patch(
                Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="red", lw=1.2)
            )
        if title in ("Normal", "Cardiomegaly"):
            for mask, colour in ((case.masks["heart"], "orange"), (case.masks["lungs"], "cyan")):
                row, first, last = _widest_row(mask)
                axis.plot([first, last], [row, row], color=colour, lw=1.2)
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_xlabel(panel_note(title, case.meta), fontsize=9.5)
    figure.suptitle("MedGAN Lab chest X-ray phantom: lesion boxes and the CTR widths")
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


def _table(result: dict[str, Any]) -> str:
    """Plain-text statistics table (phantom with masks, estimated fields, reference)."""
    columns = [("phantom (masks)", result["with_masks"])]
    columns.append(("phantom (estimated)", result["estimated_fields"]))
    if "reference" in result:
        columns.append(("reference", result["reference"]))
    lines = [f"{'statistic':<22}" + "".join(f"{name:>22}" for name, _ in columns)]
    for key in ("film", "lungs", "mediastinum"):
        cells = ["/".join(f"{v:.0f}" for v in stats[key]) for _, stats in columns]
        lines.append(f"{key + ' p5/p50/p95':<22}" + "".join(f"{c:>22}" for c in cells))
    for key in ("edge_density", "lung_texture"):
        lines.append(f"{key:<22}" + "".join(f"{stats[key]:>22.3f}" for _, stats in columns))
    return "\n".join(lines)


def run(out_dir: Path) -> dict[str, Any]:
    """Measure speed and film statistics, draw the gallery and the annotated grid."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cxr-bench-") as tmp:
        result: dict[str, Any] = {"speed": _speed(Path(tmp))}
    for key, value in result["speed"].items():
        print(f"{key:<48} {value}")
    statistics = _statistics(STATS_FILMS)
    reference = os.environ.get("MEDGANLAB_REFERENCE_CXR")
    real = None
    if reference:
        real = Path(reference)
        if not real.is_file():
            raise FileNotFoundError(f"MEDGANLAB_REFERENCE_CXR={reference}: no such PNG file")
        statistics["reference"] = film_statistics(np.asarray(Image.open(real).convert("L")))
        statistics["reference_path"] = str(real)
    print(_table(statistics))
    result["statistics"] = statistics
    gallery = write_gallery(out_dir / "cxr_phantom_gallery.png", real=real, seed=0, size=512)
    _grid_figure(out_dir / "cxr_phantom_grid.png")
    result["figures"] = [str(gallery), str(out_dir / "cxr_phantom_grid.png")]
    return result
