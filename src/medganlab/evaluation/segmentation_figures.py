"""Figures of notebook 08: label overlays, Table 2, IoU distributions, a failure gallery.

Colours: kidney red, tumour yellow (filled, half transparent); the true outline is drawn in
cyan over every prediction, so a reader sees where the prediction leaves the truth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from medganlab.evaluation.segmentation import PAPER_TABLE2, region_mask

__all__ = [
    "overlay",
    "overlay_grid",
    "table2_figure",
    "iou_distributions",
    "describe_failure",
    "failure_gallery",
]

_LABELS = ListedColormap([(0, 0, 0, 0), (0.9, 0.1, 0.1, 0.55), (1.0, 0.85, 0.0, 0.75)])


def overlay(ax, image: np.ndarray, labels: np.ndarray, outline: np.ndarray | None = None) -> None:
    """One slice (grey, W400/L0) with ``labels`` filled and the ``outline`` label map's edge."""
    ax.imshow(np.squeeze(image), cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    ax.imshow(np.squeeze(labels), cmap=_LABELS, vmin=0, vmax=2, interpolation="nearest")
    if outline is not None and np.squeeze(outline).any():
        ax.contour(np.squeeze(outline) > 0, levels=[0.5], colors="cyan", linewidths=0.7)
    ax.set_xticks([])
    ax.set_yticks([])


def overlay_grid(
    images: np.ndarray,
    truth: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    scores: Mapping[str, np.ndarray] | None = None,
    row_titles: Sequence[str] | None = None,
    size: float = 2.2,
    suptitle: str | None = None,
):
    """Rows: slices; columns: the truth, then each prediction (with its per-slice score)."""
    if not len(images):
        raise ValueError("overlay_grid: expected at least one slice")
    cols = 1 + len(predictions)
    fig, axes = plt.subplots(
        len(images), cols, figsize=(size * cols, size * len(images)), squeeze=False
    )
    for row in range(len(images)):
        overlay(axes[row, 0], images[row], truth[row])
        axes[row, 0].set_ylabel(row_titles[row] if row_titles else f"slice {row}", fontsize=8)
        for col, (name, predicted) in enumerate(predictions.items(), start=1):
            overlay(axes[row, col], images[row], predicted[row], outline=truth[row])
            if scores is not None and name in scores:
                axes[row, col].set_xlabel(f"IoU {scores[name][row]:.2f}", fontsize=8)
    axes[0, 0].set_title("truth", fontsize=9)
    for col, name in enumerate(predictions, start=1):
        axes[0, col].set_title(name, fontsize=9)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def table2_figure(rows: Sequence[Mapping], column: str = "iou", title: str | None = None):
    """Our IoU per model and scenario with 95 % intervals, the paper's as black ticks."""
    models = list(dict.fromkeys(r["model"] for r in rows))
    scenarios = sorted({int(r["scenario"]) for r in rows})
    fig, ax = plt.subplots(figsize=(1.9 * len(models) + 2.5, 3.4))
    width = 0.8 / max(len(scenarios), 1)
    for k, scenario in enumerate(scenarios):
        for m, model in enumerate(models):
            found = [r for r in rows if r["model"] == model and int(r["scenario"]) == scenario]
            if not found:
                continue
            r, x = found[0], m + (k - (len(scenarios) - 1) / 2) * width
            low, high = r.get(f"{column}_low"), r.get(f"{column}_high")
            err = None
            if low is not None and high is not None and np.isfinite([low, high]).all():
                err = [[max(r[column] - low, 0)], [max(high - r[column], 0)]]
            ax.bar(x, r[column], width * 0.9, yerr=err, capsize=2, color=f"C{k}",
                   label=f"scenario {scenario}" if m == 0 else None)  # fmt: skip
            paper = PAPER_TABLE2.get(model)
            if paper:
                ax.plot([x - width / 2, x + width / 2], [paper[scenario - 1] / 100] * 2, "k-", lw=2)
    ax.set_xticks(range(len(models)), models)
    ax.set_ylim(0, 1)
    ax.set_ylabel(f"mean per-slice {column.replace('_', ' ').replace('iou', 'IoU')}")
    ax.plot([], [], "k-", lw=2, label="paper")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(
        title or "Table 2: ours (bars, 95 % CI over test patients) and the paper's (ticks)"
    )
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def iou_distributions(
    scores: Mapping[str, Mapping[str, np.ndarray]], region: str = "foreground", size: float = 3.2
):
    """One panel per model: the per-slice IoU of each scenario (box plot and the slices as dots)."""
    models = list(scores)
    fig, axes = plt.subplots(
        1, len(models), figsize=(size * len(models), 3.2), squeeze=False, sharey=True
    )
    rng = np.random.default_rng(0)
    for ax, model in zip(axes.flat, models, strict=True):
        names = list(scores[model])
        data = [np.asarray(scores[model][n])[~np.isnan(scores[model][n])] for n in names]
        ax.boxplot(data, showfliers=False, widths=0.55)
        for i, values in enumerate(data, start=1):
            ax.plot(
                i + rng.uniform(-0.18, 0.18, len(values)),
                values,
                ".",
                ms=3,
                alpha=0.5,
                color=f"C{i - 1}",
            )
        ax.set_xticks(range(1, len(names) + 1), names, fontsize=8)
        ax.set_title(model, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].set_ylabel(f"{region} IoU per test slice")
    axes[0, 0].set_ylim(-0.03, 1.03)
    fig.tight_layout()
    return fig


def describe_failure(truth: np.ndarray, predicted: np.ndarray) -> str:
    """A short sentence on what a prediction got wrong on one slice (largest error first)."""
    t = {r: region_mask(np.asarray(truth)[None], r)[0] for r in ("kidney", "tumour", "foreground")}
    p = {
        r: region_mask(np.asarray(predicted)[None], r)[0]
        for r in ("kidney", "tumour", "foreground")
    }
    size = int(t["foreground"].sum())
    errors = {
        "missed": int((t["foreground"] & ~p["foreground"]).sum()),
        "extra": int((p["foreground"] & ~t["foreground"]).sum()),
        "tumour called kidney": int((t["tumour"] & p["kidney"]).sum()),
        "kidney called tumour": int((t["kidney"] & p["tumour"]).sum()),
    }
    what, count = max(errors.items(), key=lambda kv: kv[1])
    if count == 0:
        return "no error"
    if what == "missed" and not p["foreground"].any():
        return f"nothing found ({size} px of kidney/tumour)"
    if what == "missed":
        return f"missed {count} of {size} px" + (
            " (a small slice: a kidney pole?)" if size < 0.004 * t["foreground"].size else ""
        )
    if what == "extra":
        tumour = int((p["tumour"] & ~t["foreground"]).sum())
        kind = "tumour" if 2 * tumour >= count else "kidney"
        return f"{count} px of {kind} marked where there is none" + (
            " (no kidney in truth)" if size == 0 else ""
        )
    return f"{what}: {count} px"


def failure_gallery(
    images: np.ndarray,
    truth: np.ndarray,
    predicted: np.ndarray,
    scores: np.ndarray,
    patients: Sequence[str],
    count: int = 6,
    title: str | None = None,
):
    """The ``count`` worst slices by ``scores``: truth, prediction, and what went wrong."""
    scores = np.asarray(scores, float)
    order = [
        i for i in np.argsort(np.where(np.isnan(scores), np.inf, scores)) if np.isfinite(scores[i])
    ]
    worst = order[:count]
    if not worst:
        raise ValueError("failure_gallery: no scored slices")
    fig, axes = plt.subplots(2, len(worst), figsize=(2.4 * len(worst), 5.2), squeeze=False)
    notes = []
    for col, i in enumerate(worst):
        overlay(axes[0, col], images[i], truth[i])
        overlay(axes[1, col], images[i], predicted[i], outline=truth[i])
        note = describe_failure(truth[i], predicted[i])
        notes.append((int(i), str(patients[i]), float(scores[i]), note))
        axes[0, col].set_title(f"{patients[i]}\nIoU {scores[i]:.2f}", fontsize=8)
        axes[1, col].set_xlabel(note, fontsize=7, wrap=True)
    axes[0, 0].set_ylabel("truth", fontsize=9)
    axes[1, 0].set_ylabel("prediction", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig, notes
