"""The papers' claims scorecard, computed from tables in the course's one schema."""

from __future__ import annotations

import json

import pytest

from medganlab.claims import (
    CLAIMS,
    FAILS,
    HOLDS,
    NOT_MEASURABLE,
    NOT_RUN,
    scorecard,
    validate_table,
)
from medganlab.data.cxr_phantom import FINDINGS
from medganlab.evaluation.fdd import write_table


def _fdd_rows(multiscale_wins: int) -> list[dict]:
    rows = []
    for i, finding in enumerate(FINDINGS):
        better = i < multiscale_wins
        rows.append(
            {
                "finding": finding,
                "n": 50,
                "fdd_cDCGAN": 100.0,
                "fdd_multi-scale GAN": 60.0 if better else 140.0,
                "paper_cdcgan": 1.0,
                "paper_multiscale": 0.5,
            }
        )
    return rows


def _vgg_rows(elu=0.99, tanh=0.97, sigmoid=0.6) -> list[dict]:
    def row(run, auc, gap, secs):
        return {
            "run": run,
            "auc": auc,
            "auc_low": auc - 0.02,
            "auc_high": min(auc + 0.02, 1.0),
            "gap": gap,
            "seconds_per_epoch": secs,
        }

    return [
        row("3x3 ReLU", 0.95, 0.02, 20.0),
        row("7x7 ReLU", 0.9, 0.08, 57.0),
        row("3x3 Sigmoid", sigmoid, 0.2, 20.0),
        row("3x3 Tanh", tanh, 0.1, 20.0),
        row("3x3 ELU", elu, 0.01, 20.0),
    ]


@pytest.fixture
def tables(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDGANLAB_BUILD", str(tmp_path))
    return tmp_path / "tables"


def _verdicts(tables, profile):
    return {row["key"]: row for row in scorecard(tables, profile)}


def test_every_claim_has_a_row_and_unbuilt_notebooks_say_not_run(tables):
    rows = scorecard(tables, "cpu")
    assert [r["key"] for r in rows] == [c.key for c in CLAIMS]
    assert all(r["verdict"] == NOT_RUN for r in rows)
    assert {"paper", "claim", "paper_value", "ours", "profile", "verdict"} <= set(rows[0])


def test_fdd_claim_holds_with_six_wins_and_fails_with_four(tables):
    write_table(
        _fdd_rows(6), "04_fdd_cpu", {"profile": "cpu", "bias_real_vs_real": {"axes": [50.0, 20.0]}}
    )
    verdict = _verdicts(tables, "cpu")["fdd_6_of_8"]
    assert verdict["verdict"] == HOLDS and "6 of 8" in verdict["ours"]
    assert "6 by more than the real-vs-real spread (20)" in verdict["ours"]
    write_table(_fdd_rows(4), "04_fdd_cpu", {"profile": "cpu"})
    assert _verdicts(tables, "cpu")["fdd_6_of_8"]["verdict"] == FAILS


def test_smoke_numbers_are_not_measurable_whatever_they_say(tables):
    write_table(_fdd_rows(8), "04_fdd_smoke", {"profile": "smoke"})
    write_table(_vgg_rows(), "05_vgg16_smoke", {"profile": "smoke"})
    card = _verdicts(tables, "smoke")
    assert card["fdd_6_of_8"]["verdict"] == NOT_MEASURABLE
    assert card["vgg_auc_order"]["verdict"] == NOT_MEASURABLE


def test_vgg_claims_read_the_runs_with_their_cis(tables):
    write_table(_vgg_rows(), "05_vgg16_cpu", {"profile": "cpu"})
    card = _verdicts(tables, "cpu")
    assert card["vgg_auc_order"]["verdict"] == HOLDS
    assert "[0.97, 1]" in card["vgg_auc_order"]["ours"], "the CI is shown"
    assert (
        card["vgg_3x3_faster"]["verdict"] == HOLDS
        and card["vgg_3x3_overfits_less"]["verdict"] == HOLDS
    )
    assert card["vgg_elu_gap"]["verdict"] == HOLDS
    write_table(_vgg_rows(elu=0.9, tanh=0.97), "05_vgg16_cpu", {"profile": "cpu"})
    assert _verdicts(tables, "cpu")["vgg_auc_order"]["verdict"] == FAILS


def test_table_schema_is_checked(tables):
    csv_path, json_path = write_table(_vgg_rows(), "05_vgg16_cpu", {"profile": "cpu"})
    assert validate_table(csv_path) == []
    data = json.loads(json_path.read_text())
    data["rows"][0]["sens_low"] = 0.1  # a bound without its estimate
    data["meta"]["profile"] = "gpu"  # and a name that lies about its profile
    json_path.write_text(json.dumps(data))
    problems = " ".join(validate_table(csv_path))
    assert "sens_low without its estimate" in problems and "does not end in its profile" in problems
    json_path.unlink()
    assert "no JSON twin" in validate_table(csv_path)[0]


def test_pix2pix_claim_reads_the_kidney_rows(tables):
    def row(condition, region, real, synthetic, ssim):
        return {
            "profile": "cpu",
            "condition": condition,
            "region": region,
            "ssim": ssim,
            "hu_mean_real": real,
            "hu_mean_synthetic": synthetic,
            "hu_mean_difference": synthetic - real,
        }

    rows = [
        row("labels+body", "background", -131.0, -131.0, 0.67),
        row("labels+body", "kidney", 140.7, 136.6, 0.5),
        row("labels", "kidney", 140.7, 62.0, 0.29),
    ]
    csv_path, _ = write_table(rows, "07_pix2pix_cpu", {"test_patients": [1]})
    assert validate_table(csv_path) == [], "a profile column in every row is enough"
    verdict = _verdicts(tables, "cpu")["pix2pix_quality"]
    assert verdict["verdict"] == HOLDS and "141 → 137" in verdict["ours"]
    rows[1] = row("labels+body", "kidney", 140.7, 90.0, 0.5)
    write_table(rows, "07_pix2pix_cpu", {})
    assert _verdicts(tables, "cpu")["pix2pix_quality"]["verdict"] == FAILS


def test_a_run_that_never_left_chance_makes_gap_claims_unreadable(tables):
    rows = _vgg_rows()
    rows[1].update(auc=0.5, auc_low=0.5, auc_high=0.5, gap=0.0)  # 7x7 never learned
    write_table(rows, "05_vgg16_cpu", {"profile": "cpu"})
    card = _verdicts(tables, "cpu")
    assert card["vgg_3x3_overfits_less"]["verdict"] == NOT_MEASURABLE
    assert "7x7 ReLU never left chance" in card["vgg_3x3_overfits_less"]["ours"]
    assert card["vgg_3x3_faster"]["verdict"] == HOLDS, "time per epoch is readable anyway"


def _augmentation_rows(gain_low: float, baseline_high: float = 0.8) -> list[dict]:
    def row(arm, kind, auc, gain, low, high):
        return {
            "profile": "cpu",
            "arm": arm,
            "kind": kind,
            "finding": "minority",
            "auc": auc,
            "auc_low": auc - 0.05,
            "auc_high": min(baseline_high, auc + 0.05) if kind == "baseline" else auc + 0.05,
            "gain": gain,
            "gain_low": low,
            "gain_high": high,
        }

    return [
        row("baseline", "baseline", 0.75, 0.0, 0.0, 0.0),
        row("cDCGAN x1", "gan", 0.76, 0.01, -0.02, 0.04),
        row("multi-scale GAN x1", "gan", 0.78, 0.03, gain_low, 0.06),
        row("multi-scale GAN: synthetic only", "synthetic only", 0.6, -0.15, -0.2, -0.1),
    ]


def test_gan_augmentation_claim_needs_a_gain_beyond_the_noise(tables):
    write_table(_augmentation_rows(gain_low=0.005), "06_gan_augmentation_cpu", {})
    verdict = _verdicts(tables, "cpu")["gan_aug_minority"]
    assert verdict["verdict"] == HOLDS and "multi-scale GAN x1" in verdict["ours"]
    assert "0.03 [0.005, 0.06]" in verdict["ours"], "the gain is shown with its interval"
    write_table(_augmentation_rows(gain_low=-0.01), "06_gan_augmentation_cpu", {})
    verdict = _verdicts(tables, "cpu")["gan_aug_minority"]
    assert verdict["verdict"] == FAILS and "no GAN arm's interval is above 0" in verdict["ours"]
    write_table(_augmentation_rows(0.005, baseline_high=0.52), "06_gan_augmentation_cpu", {})
    assert _verdicts(tables, "cpu")["gan_aug_minority"]["verdict"] == NOT_MEASURABLE
    write_table(_augmentation_rows(gain_low=0.005)[:1], "06_gan_augmentation_cpu", {})
    assert _verdicts(tables, "cpu")["gan_aug_minority"]["verdict"] == NOT_RUN


def _segmentation_rows(fpn_best: int = 4, scenarios=(1, 2, 3, 4)) -> list[dict]:
    rows = []
    for model in ("U-Net1", "U-Net2", "FPN"):
        for scenario in scenarios:
            best = fpn_best if model == "FPN" else 4
            iou = 0.8 + (0.05 if scenario == best else 0.01 * scenario)
            rows.append(
                {
                    "model": model,
                    "scenario": scenario,
                    "iou": iou,
                    "iou_low": iou - 0.04,
                    "iou_high": iou + 0.04,
                    "diff_vs_1": None if scenario == 1 else iou - 0.81,
                    "diff_vs_1_low": None if scenario == 1 else iou - 0.83,
                    "diff_vs_1_high": None if scenario == 1 else iou - 0.79,
                }
            )
    return rows


def test_segmentation_claim_needs_scenario_4_best_for_every_model(tables):
    csv_path, _ = write_table(_segmentation_rows(), "08_segmentation_cpu", {"profile": "cpu"})
    assert validate_table(csv_path) == []
    verdict = _verdicts(tables, "cpu")["seg_scenario_4"]
    assert verdict["verdict"] == HOLDS and "best for 3 of 3" in verdict["ours"]
    assert "FPN s4 0.85 [0.81, 0.89]" in verdict["ours"], "scenario 4 is shown with its CI"
    write_table(_segmentation_rows(fpn_best=2), "08_segmentation_cpu", {"profile": "cpu"})
    verdict = _verdicts(tables, "cpu")["seg_scenario_4"]
    assert verdict["verdict"] == FAILS and "best: s2" in verdict["ours"]
    write_table(_segmentation_rows(scenarios=(1, 2)), "08_segmentation_cpu", {"profile": "cpu"})
    verdict = _verdicts(tables, "cpu")["seg_scenario_4"]
    assert verdict["verdict"] == NOT_RUN and "U-Net1 s3" in verdict["ours"]
    write_table(_segmentation_rows(), "08_segmentation_smoke", {"profile": "smoke"})
    assert _verdicts(tables, "smoke")["seg_scenario_4"]["verdict"] == NOT_MEASURABLE
