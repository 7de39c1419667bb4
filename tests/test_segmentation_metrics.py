"""Assignment 08's reference metrics: per-slice IoU/Dice, patient bootstrap, paired differences."""

from __future__ import annotations

import numpy as np
import pytest

from medganlab.claims import validate_table
from medganlab.evaluation import segmentation as seg
from medganlab.evaluation.fdd import write_table


def _example():
    """Three 4x4 slices: a shifted kidney, kidney+tumour all called kidney, an empty pair."""
    truth = np.zeros((3, 4, 4, 1), np.uint8)
    pred = np.zeros_like(truth)
    truth[0, :2, :2] = 1
    pred[0, :2, 1:3] = 1
    truth[1, 0, :2], truth[1, 1, :2] = 1, 2
    pred[1, :2, :2] = 1
    return truth, pred


@pytest.mark.parametrize(
    ("region", "iou", "dice"),
    [
        ("kidney", [1 / 3, 0.5, 1.0], [0.5, 2 / 3, 1.0]),
        ("tumour", [1.0, 0.0, 1.0], [1.0, 0.0, 1.0]),
        ("foreground", [1 / 3, 1.0, 1.0], [0.5, 1.0, 1.0]),
    ],
)
def test_slice_scores_by_hand(region, iou, dice):
    truth, pred = _example()
    scores = seg.slice_scores(truth, pred, region)
    np.testing.assert_allclose(scores["iou"], iou)
    np.testing.assert_allclose(scores["dice"], dice)


def test_empty_vs_empty_conventions_and_mean():
    truth, pred = _example()
    excluded = seg.slice_scores(truth, pred, "kidney", "exclude")["iou"]
    assert np.isnan(excluded[2]) and np.allclose(excluded[:2], [1 / 3, 0.5])
    assert seg.mean_score(excluded) == pytest.approx(5 / 12)
    assert np.isnan(seg.mean_score([np.nan]))
    # truth empty, prediction not: 0 under both conventions
    for empty in seg.EMPTY_CONVENTIONS:
        only = seg.slice_scores(np.zeros((1, 2, 2)), np.ones((1, 2, 2)), "kidney", empty)
        assert only["iou"].tolist() == [0.0] and only["dice"].tolist() == [0.0]


def test_dice_is_a_function_of_iou_and_bad_input_is_refused():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 3, (20, 8, 8)), rng.integers(0, 3, (20, 8, 8))
    s = seg.slice_scores(a, b, "foreground")
    np.testing.assert_allclose(s["dice"], 2 * s["iou"] / (1 + s["iou"]))
    with pytest.raises(ValueError, match="kidney"):
        seg.slice_scores(a, b, "liver")
    with pytest.raises(ValueError, match="exclude"):
        seg.slice_scores(a, b, "kidney", "zero")
    with pytest.raises(ValueError, match="shape"):
        seg.slice_scores(a, b[:, :4], "kidney")


def test_run_scores_has_every_region_and_metric():
    truth, pred = _example()
    keys = set(seg.run_scores(truth, pred))
    assert keys == {f"{m}_{r}" for m in ("iou", "dice") for r in seg.REGIONS}


def _naive_bootstrap(scores, patients, n_boot, seed):
    """Concatenate the resampled patients' slices and take the mean (the slow way)."""
    names = sorted(set(patients))
    weights = seg._resamples(len(names), n_boot, seed)
    members = {p: np.flatnonzero(np.asarray(patients) == p) for p in names}
    out = []
    for counts in weights:
        pick = np.concatenate(
            [np.repeat(members[p], c) for p, c in zip(names, counts, strict=True)]
        )
        values = scores[pick]
        out.append(np.nanmean(values) if (~np.isnan(values)).any() else np.nan)
    return np.array(out)


def test_patient_bootstrap_matches_resampling_patients_one_by_one():
    rng = np.random.default_rng(1)
    patients = [f"p{i}" for i in rng.integers(0, 5, 60)]
    scores = rng.uniform(size=60)
    scores[::7] = np.nan  # excluded slices
    naive = _naive_bootstrap(scores, patients, 300, seed=4)
    got = seg.patient_bootstrap(scores, patients, 300, seed=4)
    low, high = np.nanpercentile(naive, [2.5, 97.5])
    assert got["low"] == pytest.approx(low) and got["high"] == pytest.approx(high)
    assert got["estimate"] == pytest.approx(np.nanmean(scores)) and got["patients"] == 5


def test_bootstrap_resamples_patients_not_slices():
    # two patients: one with 90 slices at 1.0, one with 10 at 0.0 -> the pooled mean is 0.9,
    # but resampling patients can draw the bad one twice: the interval reaches down to 0
    scores = np.r_[np.ones(90), np.zeros(10)]
    patients = ["a"] * 90 + ["b"] * 10
    ci = seg.patient_bootstrap(scores, patients, 2000, seed=0)
    assert ci["estimate"] == pytest.approx(0.9)
    assert ci["low"] == pytest.approx(0.0) and ci["high"] == pytest.approx(1.0)
    two = seg.patient_bootstrap(np.stack([scores, 1 - scores], axis=1), patients, 200, 0)
    assert two["estimate"] == pytest.approx(0.5), "columns are averaged after their own means"


def test_paired_difference_cancels_what_both_runs_share():
    rng = np.random.default_rng(2)
    patients = [f"p{i}" for i in rng.integers(0, 6, 80)]
    hard = rng.uniform(0.2, 1.0, 80)  # very different patients: wide single intervals
    better = np.clip(hard + 0.05, 0, 1.05)
    diff = seg.paired_difference(better, hard, patients, 500, seed=1)
    assert diff["estimate"] == pytest.approx(0.05)
    assert diff["low"] == pytest.approx(0.05) and diff["high"] == pytest.approx(0.05)
    assert diff["p_not_better"] == 0.0
    single = seg.patient_bootstrap(hard, patients, 500, seed=1)
    assert single["high"] - single["low"] > 0.05, "unpaired intervals would hide the gain"
    same = seg.paired_difference(hard, hard, patients, 100, seed=1)
    assert same["estimate"] == 0.0 and same["p_not_better"] == 1.0


def test_average_runs_keeps_slices_excluded_everywhere_as_nan():
    a = {"iou_kidney": np.array([1.0, np.nan, np.nan])}
    b = {"iou_kidney": np.array([0.0, 0.5, np.nan])}
    out = seg.average_runs([a, b])["iou_kidney"]
    assert out[:2].tolist() == [0.5, 0.5] and np.isnan(out[2])
    with pytest.raises(ValueError):
        seg.average_runs([])


def test_table2_rows_follow_the_schema(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDGANLAB_BUILD", str(tmp_path))
    truth, pred = _example()
    truth, pred = np.tile(truth, (4, 1, 1, 1)), np.tile(pred, (4, 1, 1, 1))
    patients = [f"p{i // 3}" for i in range(len(truth))]
    perfect = seg.run_scores(truth, truth)
    scores = {("U-Net1", 1): seg.run_scores(truth, pred), ("U-Net1", 4): perfect}
    rows = seg.table2_rows(scores, patients, n_boot=50, seed=0)
    first, fourth = rows
    assert first["paper_iou"] == pytest.approx(0.5851) and first["diff_vs_1"] is None
    assert fourth["iou"] == 1.0 and fourth["diff_vs_1"] == pytest.approx(1 - first["iou"])
    assert fourth["iou_kidney_low"] <= fourth["iou_kidney"] <= fourth["iou_kidney_high"]
    csv_path, _ = write_table(rows, "08_segmentation_cpu", {"profile": "cpu"})
    assert validate_table(csv_path) == []
