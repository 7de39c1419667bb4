"""The figures of assignment 06, drawn from the rows of its table
(:func:`medganlab.evaluation.finding_auc.effect_rows`): the gain per finding against its
training prevalence, the gain of the macro / weighted / minority means per arm, and the
"train on synthetic, test on real" AUC per finding."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from medganlab.evaluation.finding_auc import SUMMARIES

__all__ = ["plot_gain_vs_prevalence", "plot_summary", "plot_synthetic_only"]

_PREVALENCE_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
_TITLES = {
    "macro": "macro AUC",
    "weighted": "prevalence-weighted AUC",
    "minority": "mean AUC of the minority findings",
}


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _short(finding: str) -> str:
    """A label that tells every NIH finding apart (Pneumonia and Pneumothorax included)."""
    return {"Pneumonia": "Pna", "Pneumothorax": "Ptx"}.get(finding, finding[:4])


def _errorbar(ax, x, y, low, high, horizontal=False, **style) -> None:
    """A point with its interval; a missing bound draws no bar."""
    if not math.isfinite(y):
        return
    err = np.nan_to_num([[y - low], [high - y]])
    if horizontal:
        ax.errorbar(y, x, xerr=err, fmt="o", capsize=2, **style)
    else:
        ax.errorbar(x, y, yerr=err, fmt="o", capsize=2, **style)


def plot_gain_vs_prevalence(rows: Sequence[Mapping[str, Any]], ncols: int = 4):
    """One panel per arm that adds to the real images (class weights, geometric, GAN):
    AUC gain over the baseline with its paired 95 % CI against the finding's training
    prevalence (log scale); minority findings in orange."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    kinds = ("baseline", "synthetic only")
    per_finding = [r for r in rows if r["finding"] not in SUMMARIES and r["kind"] not in kinds]
    arms = list(dict.fromkeys(r["arm"] for r in per_finding))
    if not arms:
        raise ValueError("plot_gain_vs_prevalence: expected rows of at least one mixed arm")
    ncols = min(ncols, len(arms))
    nrows = math.ceil(len(arms) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.1 * ncols, 2.6 * nrows), squeeze=False, sharex=True, sharey=True
    )
    for ax in axes.flat[len(arms) :]:
        ax.axis("off")
    for ax, arm in zip(axes.flat, arms, strict=False):
        for r in (r for r in per_finding if r["arm"] == arm):
            x, y = max(_num(r["train_prevalence"]), 1e-4), _num(r["gain"])
            color = "C1" if r["minority"] else "C0"
            _errorbar(ax, x, y, _num(r["gain_low"]), _num(r["gain_high"]), color=color, ms=4)
            if math.isfinite(y):
                ax.annotate(
                    _short(r["finding"]),
                    (x, y),
                    fontsize=6,
                    xytext=(3, 2),
                    textcoords="offset points",
                )
        ax.axhline(0, c="k", lw=0.8)
        ax.set_xscale("log")
        low, high = ax.get_xlim()
        ticks = [t for t in _PREVALENCE_TICKS if low <= t <= high]
        ax.set_xticks(ticks, [f"{t:.0%}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(low, high)
        ax.set_title(arm, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("AUC − baseline")
    for ax in axes[-1, :]:
        ax.set_xlabel("training prevalence")
    fig.suptitle(
        "AUC gain per finding with paired 95 % CI (orange: minority findings)", fontsize=10
    )
    fig.tight_layout()
    return fig


def plot_summary(rows: Sequence[Mapping[str, Any]]):
    """Gain over the baseline of the macro, prevalence-weighted and minority-mean AUC per
    arm that adds to the real images, with paired 95 % CIs; the baseline's AUC in the titles."""
    import matplotlib.pyplot as plt

    mixed = [r for r in rows if r["kind"] not in ("baseline", "synthetic only")]
    arms = list(dict.fromkeys(r["arm"] for r in mixed))
    if not arms:
        raise ValueError("plot_summary: expected rows of at least one mixed arm")
    fig, axes = plt.subplots(1, 3, figsize=(11, 0.38 * len(arms) + 1.5), sharey=True)
    for ax, name in zip(axes, SUMMARIES, strict=True):
        for i, arm in enumerate(arms):
            r = next(r for r in mixed if r["arm"] == arm and r["finding"] == name)
            color = "C1" if r["kind"] == "gan" else "C0"
            gain = _num(r["gain"])
            _errorbar(ax, i, gain, _num(r["gain_low"]), _num(r["gain_high"]), True, color=color)
        base = next(r for r in rows if r["kind"] == "baseline" and r["finding"] == name)
        ax.axvline(0, c="k", lw=0.8)
        ax.set_title(f"{_TITLES[name]}\n(baseline {_num(base['auc']):.3f})", fontsize=9)
        ax.set_xlabel("AUC − baseline")
        ax.grid(alpha=0.3)
    axes[0].set_yticks(range(len(arms)), arms)
    axes[0].invert_yaxis()
    fig.suptitle("Gain over the baseline on the same real test set (paired 95 % CI)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_synthetic_only(rows: Sequence[Mapping[str, Any]], findings: Sequence[str]):
    """AUC per finding on real test images of the classifiers trained on synthetic images
    only, beside the baseline's; 0.5 is chance."""
    import matplotlib.pyplot as plt

    arms = list(
        dict.fromkeys(r["arm"] for r in rows if r["kind"] in ("baseline", "synthetic only"))
    )
    if len(arms) < 2:
        raise ValueError("plot_synthetic_only: expected the baseline and a synthetic-only arm")
    fig, ax = plt.subplots(figsize=(8, 3))
    width = 0.8 / len(arms)
    for i, arm in enumerate(arms):
        for k, finding in enumerate(findings):
            r = next(r for r in rows if r["arm"] == arm and r["finding"] == finding)
            x = k + (i - (len(arms) - 1) / 2) * width
            _errorbar(ax, x, _num(r["auc"]), _num(r["auc_low"]), _num(r["auc_high"]),
                      color=f"C{i}", ms=4, label=arm if k == 0 else None)  # fmt: skip
    ax.axhline(0.5, c="k", lw=0.8, ls="--", label="chance")
    ax.set_xticks(range(len(findings)), findings, rotation=40, ha="right")
    ax.set_ylabel("AUC on real test images")
    ax.set_ylim(0, 1.02)
    ax.set_title("Train on synthetic, test on real (dashed: chance)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
