"""Per-finding AUC for multi-label classifiers, and the reading of assignment 06's arms.

:func:`finding_auc` is the fast AUC the notebook's bootstrap calls thousands of times (ranks,
vectorised over findings and seeds; scikit-learn's ``roc_auc_score`` is the reference, see
:mod:`medganlab.evaluation.roc`). The patient-level bootstrap itself is what students write;
this module only summarises its replicates (macro, prevalence-weighted and minority means
with their CIs), lays out the table and words the conclusion from the measured numbers.
The figures are in :mod:`medganlab.evaluation.augmentation_plots`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "SUMMARIES",
    "finding_auc",
    "percentile_interval",
    "aggregate",
    "effect_rows",
    "conclusion",
]

SUMMARIES = ("macro", "weighted", "minority")


def finding_auc(labels, scores) -> np.ndarray:
    """ROC AUC of every finding (column): ``(K,)``, NaN where a finding lacks positives or
    negatives.

    Args:
        labels: (n, K) multi-hot 0/1.
        scores: (n, K) scores (logits or probabilities), or (S, n, K) for S seeds: the AUC
            is then the mean of the seeds' AUCs.
    """
    from scipy.stats import rankdata

    y = np.asarray(labels, np.float64)
    s = np.asarray(scores, np.float64)
    if y.ndim != 2 or s.shape[-2:] != y.shape or s.ndim not in (2, 3):
        raise ValueError(
            f"expected labels (n, K) and scores (n, K) or (seeds, n, K), got {y.shape} and "
            f"{s.shape}"
        )
    ranks = rankdata(s, axis=-2)  # ties get their average rank
    positives = y.sum(axis=0)
    negatives = len(y) - positives
    rank_sum = (ranks * y).sum(axis=-2)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
    auc = auc.mean(axis=0) if auc.ndim == 2 else auc
    return np.where((positives > 0) & (negatives > 0), auc, np.nan)


def percentile_interval(replicates, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bounds over the first axis, ignoring NaN replicates."""
    values = np.asarray(replicates, np.float64)
    tail = 100 * (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a finding with no AUC at all
        low, high = np.nanpercentile(values, [tail, 100 - tail], axis=0)
    return low, high


def aggregate(
    point,
    replicates,
    columns: Sequence[int] | None = None,
    weights=None,
    level: float = 0.95,
) -> dict[str, float]:
    """A mean over findings (``columns``; ``weights`` per finding) of a per-finding estimate
    and of each bootstrap replicate, with the percentile interval of the replicates' means.
    Findings without a value (NaN) are left out of each mean."""
    point = np.asarray(point, np.float64)
    reps = np.asarray(replicates, np.float64)
    index = list(range(point.shape[-1])) if columns is None else list(columns)
    w = np.ones(point.shape[-1]) if weights is None else np.asarray(weights, np.float64)

    def mean(values):
        v, ww = values[..., index], np.broadcast_to(w[index], values[..., index].shape)
        ok = np.isfinite(v) & (ww > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(ok, v * ww, 0).sum(-1) / np.where(ok, ww, 0).sum(-1)

    low, high = percentile_interval(mean(reps), level)
    return {"value": float(mean(point)), "low": float(low), "high": float(high)}


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def effect_rows(
    arms: Sequence[Any],
    results: Mapping[str, Mapping[str, Mapping[str, Any]]],
    findings: Sequence[str],
    minority: Sequence[str],
    train_labels,
    test_labels,
    profile: str,
    seeds: int,
) -> list[dict[str, Any]]:
    """The table of assignment 06: one row per arm and finding, then per arm the macro,
    prevalence-weighted (by test positives) and minority means.

    ``results[arm.name]`` holds ``"auc"`` (``auc``, ``low``, ``high``, ``replicates``) and
    ``"gain"`` (``difference``, ``low``, ``high``, ``replicates``: arm minus baseline).
    """
    train = np.asarray(train_labels)
    test_pos = np.asarray(test_labels).sum(axis=0)
    columns = {
        "macro": (None, None),
        "weighted": (None, test_pos),
        "minority": ([findings.index(f) for f in minority], None),
    }
    rows = []
    for arm in arms:
        result = results[arm.name]
        auc, gain = result["auc"], result["gain"]
        base = {
            "profile": profile,
            "arm": arm.name,
            "kind": arm.kind,
            "generator": arm.generator or "",
            "ratio": arm.ratio,
            "seeds": seeds,
        }
        for k, finding in enumerate(findings):
            rows.append(
                {
                    **base,
                    "finding": finding,
                    "minority": finding in minority,
                    "train_positives": int(train[:, k].sum()),
                    "train_prevalence": float(train[:, k].mean()),
                    "test_positives": int(test_pos[k]),
                    "auc": _num(auc["auc"][k]),
                    "auc_low": _num(auc["low"][k]),
                    "auc_high": _num(auc["high"][k]),
                    "gain": _num(gain["difference"][k]),
                    "gain_low": _num(gain["low"][k]),
                    "gain_high": _num(gain["high"][k]),
                }
            )
        for name, (index, weights) in columns.items():
            a = aggregate(auc["auc"], auc["replicates"], index, weights)
            g = aggregate(gain["difference"], gain["replicates"], index, weights)
            rows.append(
                {
                    **base,
                    "finding": name,
                    "minority": name == "minority",
                    "test_positives": int(
                        test_pos.sum() if index is None else test_pos[index].sum()
                    ),
                    "auc": a["value"],
                    "auc_low": a["low"],
                    "auc_high": a["high"],
                    "gain": g["value"],
                    "gain_low": g["low"],
                    "gain_high": g["high"],
                }
            )
    return rows


def _ci(r: Mapping[str, Any], column: str) -> str:
    return f"{_num(r[column]):+.3f} [{_num(r[column + '_low']):+.3f}, {_num(r[column + '_high']):+.3f}]"


def _row(rows, arm_kind: str, finding: str) -> Mapping[str, Any]:
    return next(r for r in rows if r["kind"] == arm_kind and r["finding"] == finding)


def conclusion(
    rows: Sequence[Mapping[str, Any]],
    accuracy: Mapping[str, Sequence[float]] | None = None,
    judge_accuracy: float | None = None,
    chance: float = 0.55,
) -> str:
    """The experiment's reading in words, from the table's numbers only."""
    base, base_minority = _row(rows, "baseline", "macro"), _row(rows, "baseline", "minority")
    lines = [
        f"Baseline: macro AUC {_num(base['auc']):.3f} [{_num(base['auc_low']):.3f}, "
        f"{_num(base['auc_high']):.3f}], minority findings {_num(base_minority['auc']):.3f}."
    ]
    if _num(base["auc_high"]) <= chance:
        lines.append("The baseline never left chance: no gain or loss below can be read.")
    elif _num(base_minority["auc"]) >= 0.95:
        lines.append(
            "The baseline is near the ceiling on the minority findings: there is little room "
            "for any arm to gain, and losses are easier to see than gains."
        )
    mixed = [r for r in rows if r["kind"] not in ("baseline", "synthetic only")]
    for r in (r for r in mixed if r["finding"] in ("macro", "minority")):
        low, high = _num(r["gain_low"]), _num(r["gain_high"])
        verdict = (
            "a gain beyond the noise"
            if low > 0
            else "a loss beyond the noise"
            if high < 0
            else "within the noise (the interval includes 0)"
        )
        lines.append(f"{r['arm']}: {r['finding']} AUC gain {_ci(r, 'gain')}: {verdict}.")
    per_finding = [r for r in mixed if r["finding"] not in SUMMARIES]
    up = [f"{r['arm']} / {r['finding']}" for r in per_finding if _num(r["gain_low"]) > 0]
    down = [f"{r['arm']} / {r['finding']}" for r in per_finding if _num(r["gain_high"]) < 0]
    lines.append(
        f"Per finding, of {len(per_finding)} comparisons (how many would chance alone give? "
        f"Exercise 3): {len(up)} gains beyond the noise "
        f"({', '.join(up) or 'none'}), {len(down)} losses ({', '.join(down) or 'none'})."
    )
    for r in (r for r in rows if r["kind"] == "synthetic only" and r["finding"] == "macro"):
        reads = "some of the real findings" if _num(r["auc_low"]) > 0.5 else "no more than chance"
        lines.append(
            f"{r['arm']}: macro AUC {_num(r['auc']):.3f} [{_num(r['auc_low']):.3f}, "
            f"{_num(r['auc_high']):.3f}] on real images: its images carry {reads}."
        )
    for name, values in (accuracy or {}).items():
        values = np.asarray(values, np.float64)
        line = (
            f"{name}: the reference classifier recognises the requested finding in "
            f"{values.mean():.0%} of its images (chance {1 / len(values):.0%})"
        )
        if judge_accuracy is not None and judge_accuracy < 0.5:
            line += f", but that judge is itself right on only {judge_accuracy:.0%}: unreadable"
        lines.append(line + ".")
    return "\n".join(lines)
