"""Support code of notebook 07: image quality, the synthetic-set artifact, Pix2Pix plumbing."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from medganlab.evaluation import image_quality
from medganlab.runtime import compute_tolerance
from medganlab.training import pix2pix, synthetic_set


def _pair(seed=0, n=3, size=32):
    rng = np.random.default_rng(seed)
    real = rng.uniform(-1, 1, (n, size, size, 1)).astype(np.float32)
    labels = np.zeros((n, size, size, 1), np.uint8)
    labels[:, 8:20, 6:16] = 1
    labels[0, 10:14, 8:12] = 2
    return real, labels


def test_identical_slices_score_perfectly():
    real, labels = _pair()
    whole = image_quality.slice_quality(real, real)
    assert np.allclose(whole["ssim"], 1.0, atol=1e-4) and np.allclose(whole["mae_hu"], 0.0)
    rows = image_quality.region_quality(real, real, labels)
    assert [r["region"] for r in rows] == ["background", "kidney", "tumour"]
    for row in rows:
        assert row["ssim"] == pytest.approx(1.0, abs=1e-4) and row["mae_hu"] == 0.0
    assert rows[2]["slices"] == 1 and rows[1]["slices"] == 3


def test_region_hu_means_and_mae():
    real, labels = _pair()
    fake = real.copy()
    fake[labels == 1] += 0.1  # +20 HU in the kidney only
    rows = {r["region"]: r for r in image_quality.region_quality(real, fake, labels)}
    assert rows["kidney"]["hu_mean_difference"] == pytest.approx(20.0, abs=1e-3)
    assert rows["kidney"]["mae_hu"] == pytest.approx(20.0, abs=1e-3)
    assert rows["background"]["mae_hu"] == pytest.approx(0.0)
    assert rows["kidney"]["ssim"] < 1.0 and np.isfinite(rows["kidney"]["psnr_db"])


def test_missing_region_is_nan_and_bad_shapes_are_refused():
    real, labels = _pair()
    labels[labels == 2] = 1
    rows = {r["region"]: r for r in image_quality.region_quality(real, real, labels)}
    assert rows["tumour"]["slices"] == 0 and np.isnan(rows["tumour"]["ssim"])
    with pytest.raises(ValueError, match="same shape"):
        image_quality.slice_quality(real, real[:, :16])
    with pytest.raises(ValueError, match="expected the shape of the CT slices"):
        image_quality.region_quality(real, real, labels[:, :16])


def test_receptive_field_of_a_chain():
    x = keras.Input((64, 64, 1))
    y = keras.layers.Conv2D(1, 4, 2, padding="same")(x)
    y = keras.layers.Conv2D(1, 3, 1)(y)
    assert pix2pix.receptive_field(keras.Model(x, y)) == 1 + 3 + 2 * 2


def test_pair_dataset_refuses_mismatched_conditions():
    with pytest.raises(ValueError, match="expected conditions with the slices' shape"):
        pix2pix.pair_dataset(np.zeros((4, 8, 8, 1)), np.zeros((4, 16, 16, 3)), 2)


def test_generate_in_batches_keeps_order():
    x = keras.Input((8, 8, 2))
    model = keras.Model(x, keras.layers.Lambda(lambda t: t[..., :1])(x))
    conditions = np.random.default_rng(0).uniform(-1, 1, (5, 8, 8, 2)).astype(np.float32)
    out = pix2pix.generate(model, conditions, batch_size=2)
    tol = compute_tolerance()
    assert np.allclose(out, conditions[..., :1], rtol=tol, atol=tol)


def _write(tmp_path, cases=("case_00001", "case_00002"), train=("case_00001", "case_00002")):
    real, labels = _pair(n=len(cases))
    return synthetic_set.write_synthetic_set(
        "07_pix2pix_ct_smoke_synthetic",
        real,
        labels,
        list(cases),
        split={"seed": 2023, "fractions": [0.7, 0.2, 0.1], "train": list(train)},
        generator={"artifact": "07_pix2pix_ct_smoke"},
        metadata={"dataset": "ct_phantom_a", "condition": "labels+body"},
        directory=tmp_path,
    )


def test_synthetic_set_round_trip(tmp_path):
    folder = _write(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["count"] == 2 and manifest["source_patients"] == ["case_00001", "case_00002"]
    assert manifest["split"]["seed"] == 2023 and manifest["generator"]["artifact"]
    images, labels, loaded = synthetic_set.load_synthetic_set(
        "07_pix2pix_ct_smoke_synthetic",
        ["case_00001", "case_00002", "case_00003"],
        dataset="ct_phantom_a",
        directory=tmp_path,
    )
    assert images.shape == (2, 32, 32, 1) and labels.dtype == np.uint8
    assert loaded["condition"] == "labels+body"


def test_synthetic_set_from_another_split_is_refused(tmp_path):
    _write(tmp_path)
    with pytest.raises(ValueError, match=r"outside your training split.*expected only training"):
        synthetic_set.load_synthetic_set(
            "07_pix2pix_ct_smoke_synthetic", ["case_00001", "case_00003"], directory=tmp_path
        )
    with pytest.raises(ValueError, match="expected 'ct_phantom_b'"):
        synthetic_set.load_synthetic_set(
            "07_pix2pix_ct_smoke_synthetic",
            ["case_00001", "case_00002"],
            dataset="ct_phantom_b",
            directory=tmp_path,
        )


def test_writing_from_non_training_patients_is_refused(tmp_path):
    with pytest.raises(ValueError, match="only come from training-split patients"):
        _write(tmp_path, cases=("case_00001", "case_00009"))


def test_missing_or_tampered_set(tmp_path):
    with pytest.raises(FileNotFoundError, match="Run notebook 07"):
        synthetic_set.load_synthetic_set("07_pix2pix_ct_smoke_synthetic", [], directory=tmp_path)
    folder = _write(tmp_path)
    np.save(folder / "labels.npy", np.zeros((2, 32, 32, 1), np.uint8))
    with pytest.raises(ValueError, match="checksum"):
        synthetic_set.load_synthetic_set(
            "07_pix2pix_ct_smoke_synthetic", ["case_00001", "case_00002"], directory=tmp_path
        )


def test_bad_labels_in_a_synthetic_set_are_refused(tmp_path):
    real, labels = _pair(n=2)
    labels[0, 0, 0] = 7
    with pytest.raises(ValueError, match="expected values 0"):
        synthetic_set.write_synthetic_set(
            "x", real, labels, ["a", "a"], {"seed": 1, "train": ["a"]}, {}, directory=tmp_path
        )


def test_triptychs_reload_the_frames_of_a_finished_run(tmp_path):
    x = keras.Input((8, 8, 3))
    model = keras.Model(x, keras.layers.Lambda(lambda t: t[..., :1])(x))
    labels = np.zeros((2, 8, 8, 1), np.uint8)
    callback = pix2pix.Triptychs(
        np.zeros((2, 8, 8, 3)), labels, np.ones_like(labels), np.zeros((2, 8, 8, 1)), tmp_path
    )
    callback.set_model(type("Gan", (), {"generator": model})())
    callback.on_epoch_end(0)
    callback.on_epoch_end(1)
    callback.on_epoch_end(1)  # a resumed run retrains epoch 2
    assert [p.name for p in callback.paths] == ["triptych_epoch_001.png", "triptych_epoch_002.png"]
    again = pix2pix.Triptychs(
        np.zeros((2, 8, 8, 3)), labels, None, np.zeros((2, 8, 8, 1)), tmp_path
    )
    assert len(again.frames) == 2 and again.frames[-1].shape == callback.frames[-1].shape
