"""Per-slice overlap scores for kidney segmentation, with patient-level intervals (assignment 08).

The KiTS augmentation paper (Choe et al. 2023) scores a segmenter by the IoU of every test
slice, averaged over the slices. This module is the course's *reference* implementation
(notebook 08's hidden tests and its reporting compare against it; students write their own):

* :data:`REGIONS` — kidney (label 1), tumour (label 2) and foreground (kidney + tumour, the
  KiTS19 "kidney and tumour" composite);
* :func:`slice_scores` — IoU and Dice of every slice for one region, with the
  **empty-vs-empty** case decided by ``empty``: a slice where neither the truth nor the
  prediction holds the region scores 1 (``"one"``: nothing to find, nothing found) or is left
  out of the mean (``"exclude"``: NaN);
* :func:`patient_bootstrap` and :func:`paired_difference` — 95 % percentile intervals that
  resample **patients** (slices of one patient are not independent), vectorised: every
  resample is a vector of patient counts, so a mean over the resampled slices is
  ``(counts @ per-patient sums) / (counts @ per-patient slice counts)``. The same seed gives
  the same resamples for every run, so differences between runs are paired.

NumPy only; TensorFlow is not imported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "REGIONS",
    "EMPTY_CONVENTIONS",
    "HEADLINE_REGIONS",
    "PAPER_TABLE2",
    "region_mask",
    "slice_scores",
    "run_scores",
    "mean_score",
    "patient_bootstrap",
    "paired_difference",
    "headline",
    "average_runs",
    "table2_rows",
]

REGIONS: dict[str, tuple[int, ...]] = {"kidney": (1,), "tumour": (2,), "foreground": (1, 2)}
EMPTY_CONVENTIONS = ("one", "exclude")
# The table's headline IoU: the mean of the kidney and the tumour means (background left out:
# its IoU is about 0.99 on every slice and would hide the differences).
HEADLINE_REGIONS = ("kidney", "tumour")

# Table 2 of the paper: mean per-slice IoU (%) per model, scenarios 1-4.
PAPER_TABLE2: dict[str, tuple[float, float, float, float]] = {
    "U-Net1": (58.51, 85.70, 88.70, 90.73),
    "U-Net2": (89.61, 88.93, 87.49, 90.76),
    "FPN": (88.98, 91.28, 89.74, 91.41),
}


def _check_region(region: str) -> tuple[int, ...]:
    if region not in REGIONS:
        raise ValueError(f"region: expected one of {sorted(REGIONS)}, got {region!r}")
    return REGIONS[region]


def _check_empty(empty: str) -> str:
    if empty not in EMPTY_CONVENTIONS:
        raise ValueError(
            f"empty: expected 'one' (empty-vs-empty scores 1) or 'exclude' (left out), got {empty!r}"
        )
    return empty


def region_mask(labels: np.ndarray, region: str) -> np.ndarray:
    """Boolean ``(N, pixels)``: where each slice of ``labels`` holds ``region``.

    Args:
        labels: label maps (N, H, W) or (N, H, W, 1) with values 0, 1, 2.
        region: ``"kidney"``, ``"tumour"`` or ``"foreground"``.
    """
    values = _check_region(region)
    labels = np.asarray(labels)
    if labels.ndim < 3:
        raise ValueError(f"labels: expected a batch (N, H, W) or (N, H, W, 1), got {labels.shape}")
    return np.isin(labels, values).reshape(len(labels), -1)


def slice_scores(
    labels: np.ndarray, predicted: np.ndarray, region: str, empty: str = "one"
) -> dict[str, np.ndarray]:
    """IoU and Dice of every slice for one region.

    Args:
        labels: true label maps (N, H, W[, 1]) in {0, 1, 2}.
        predicted: predicted label maps of the same shape (e.g. the argmax of the softmax).
        region: ``"kidney"``, ``"tumour"`` or ``"foreground"``.
        empty: ``"one"`` or ``"exclude"`` — the score of a slice where neither holds the region.

    Returns:
        ``{"iou": (N,), "dice": (N,)}`` float64; NaN marks excluded slices.

    Raises:
        ValueError: shapes differ, or an unknown region or convention.
    """
    _check_empty(empty)
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if labels.shape != predicted.shape:
        raise ValueError(
            f"predicted: expected the shape of the true label maps {labels.shape}, "
            f"got {predicted.shape}"
        )
    truth, guess = region_mask(labels, region), region_mask(predicted, region)
    inter = np.sum(truth & guess, axis=1).astype(np.float64)
    union = np.sum(truth | guess, axis=1).astype(np.float64)
    sizes = np.sum(truth, axis=1) + np.sum(guess, axis=1).astype(np.float64)
    fill = 1.0 if empty == "one" else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, fill)
        dice = np.where(sizes > 0, 2.0 * inter / sizes, fill)
    return {"iou": iou, "dice": dice}


def run_scores(
    labels: np.ndarray, predicted: np.ndarray, empty: str = "one"
) -> dict[str, np.ndarray]:
    """Every region's per-slice scores: keys ``iou_kidney``, ``dice_kidney``, ... ``iou_foreground``."""
    out = {}
    for region in REGIONS:
        for metric, values in slice_scores(labels, predicted, region, empty).items():
            out[f"{metric}_{region}"] = values
    return out


def mean_score(scores: Sequence[float] | np.ndarray) -> float:
    """Mean over slices, leaving out excluded (NaN) slices; NaN when none is left."""
    values = np.asarray(scores, dtype=np.float64).ravel()
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if kept.size else float("nan")


def _patient_table(scores: np.ndarray, patients: Sequence[object]):
    """Per-patient sums and counts of the non-NaN scores: (P, K) each."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    if len(patients) != len(scores):
        raise ValueError(
            f"patients: expected one patient per slice ({len(scores)}), got {len(patients)}"
        )
    names, inverse = np.unique(np.asarray([str(p) for p in patients]), return_inverse=True)
    valid = ~np.isnan(scores)
    sums = np.zeros((len(names), scores.shape[1]))
    counts = np.zeros_like(sums)
    np.add.at(sums, inverse, np.where(valid, scores, 0.0))
    np.add.at(counts, inverse, valid.astype(np.float64))
    return sums, counts


def _resamples(n_patients: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, P) patient counts of resampling P patients with replacement."""
    if n_boot < 1:
        raise ValueError(f"n_boot: expected at least 1 resample, got {n_boot}")
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_patients, np.full(n_patients, 1.0 / n_patients), size=n_boot)


def _means(weights: np.ndarray, sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(B,) the mean over columns of each column's mean over the weighted patients' slices."""
    with np.errstate(invalid="ignore", divide="ignore"):
        columns = (weights @ sums) / (weights @ counts)
    kept = ~np.isnan(columns)
    n = kept.sum(axis=1)
    total = np.where(kept, columns, 0.0).sum(axis=1)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _interval(estimate: float, draws: np.ndarray, level: float) -> dict[str, float]:
    draws = draws[~np.isnan(draws)]
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(draws, [tail, 100 - tail]) if draws.size else (np.nan, np.nan)
    return {"estimate": float(estimate), "low": float(low), "high": float(high)}


def patient_bootstrap(
    scores: np.ndarray,
    patients: Sequence[object],
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float]:
    """Mean per-slice score with a percentile interval over resampled patients.

    Args:
        scores: (N,) per-slice scores, or (N, K): then the statistic is the mean over the K
            columns of each column's mean over slices (the headline IoU: kidney and tumour).
            NaN (excluded slices) is left out of each column's mean.
        patients: the patient of every slice.
        n_boot: resamples; seed: their seed (equal seeds give equal resamples: paired runs).

    Returns:
        ``estimate`` (on all slices), ``low``, ``high``, ``patients``.
    """
    sums, counts = _patient_table(scores, patients)
    draws = _means(_resamples(len(sums), n_boot, seed), sums, counts)
    whole = _means(np.ones((1, len(sums))), sums, counts)[0]
    return {**_interval(whole, draws, level), "patients": int(len(sums))}


def paired_difference(
    scores_a: np.ndarray,
    scores_b: np.ndarray,
    patients: Sequence[object],
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float]:
    """Mean score of run A minus run B on the same slices, with a paired patient bootstrap.

    Both runs are resampled with the *same* patients in every resample, so what is common to
    both (hard patients, easy patients) cancels out of the difference.

    Returns:
        ``estimate``, ``low``, ``high`` (A − B), and ``p_not_better``: the share of
        resamples in which A did not beat B.
    """
    a_sums, a_counts = _patient_table(scores_a, patients)
    b_sums, b_counts = _patient_table(scores_b, patients)
    if a_sums.shape != b_sums.shape:
        raise ValueError(
            f"runs A and B: expected the same columns, got {a_sums.shape} and {b_sums.shape}"
        )
    weights = _resamples(len(a_sums), n_boot, seed)
    draws = _means(weights, a_sums, a_counts) - _means(weights, b_sums, b_counts)
    ones = np.ones((1, len(a_sums)))
    whole = float(_means(ones, a_sums, a_counts)[0] - _means(ones, b_sums, b_counts)[0])
    valid = draws[~np.isnan(draws)]
    share = float(np.mean(valid <= 0)) if valid.size else float("nan")
    return {**_interval(whole, draws, level), "p_not_better": share}


def headline(per_slice: Mapping[str, np.ndarray], metric: str = "iou") -> np.ndarray:
    """(N, 2) columns of the headline regions (kidney, tumour) for :func:`patient_bootstrap`."""
    return np.stack([per_slice[f"{metric}_{r}"] for r in HEADLINE_REGIONS], axis=1)


def average_runs(per_run: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-slice scores averaged over runs (seeds); a slice excluded in every run stays NaN."""
    if not per_run:
        raise ValueError("per_run: expected the scores of at least one run")
    out = {}
    for key in per_run[0]:
        stack = np.stack([np.asarray(run[key], np.float64) for run in per_run])
        kept = ~np.isnan(stack)
        total = np.where(kept, stack, 0.0).sum(axis=0)
        n = kept.sum(axis=0)
        out[key] = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    return out


def table2_rows(
    scores: Mapping[tuple[str, int], Mapping[str, np.ndarray]],
    patients: Sequence[object],
    n_boot: int = 2000,
    seed: int = 0,
    baseline: int = 1,
) -> list[dict]:
    """One row per (model, scenario) in the course's table schema.

    Args:
        scores: ``{(model, scenario): per-slice scores}`` (:func:`run_scores`, averaged over
            seeds with :func:`average_runs`), all on the same test slices.
        patients: the patient of every test slice.
        baseline: the scenario the paired differences are taken against.

    Returns:
        rows with ``model``, ``scenario``, ``iou`` (headline: mean of the kidney and tumour
        means) with ``iou_low``/``iou_high``, ``paper_iou``, ``diff_vs_<baseline>`` (paired,
        with its interval and ``p_not_better``), then ``iou_<region>`` and
        ``dice_<region>`` with intervals for every region.
    """
    rows = []
    for (model, scenario), per_slice in scores.items():
        ci = patient_bootstrap(headline(per_slice), patients, n_boot, seed)
        paper = PAPER_TABLE2.get(model)
        row: dict = {
            "model": model,
            "scenario": int(scenario),
            "iou": ci["estimate"],
            "iou_low": ci["low"],
            "iou_high": ci["high"],
            "paper_iou": paper[scenario - 1] / 100 if paper else None,
        }
        key = f"diff_vs_{baseline}"
        base = scores.get((model, baseline))
        if base is not None and scenario != baseline:
            diff = paired_difference(headline(per_slice), headline(base), patients, n_boot, seed)
            row.update({key: diff["estimate"], f"{key}_low": diff["low"],
                        f"{key}_high": diff["high"], "p_not_better": diff["p_not_better"]})  # fmt: skip
        else:
            row.update({key: None, f"{key}_low": None, f"{key}_high": None, "p_not_better": None})
        for metric in ("iou", "dice"):
            for region in REGIONS:
                column = f"{metric}_{region}"
                part = patient_bootstrap(per_slice[column], patients, n_boot, seed)
                row.update({column: part["estimate"], f"{column}_low": part["low"],
                            f"{column}_high": part["high"]})  # fmt: skip
        rows.append(row)
    return rows
