"""Assignment 08's training support: scenarios, synthetic slices, loss, resumable runs, figures."""

from __future__ import annotations

import json

import keras
import matplotlib
import numpy as np
import pytest

from medganlab.evaluation import segmentation_figures as figures
from medganlab.models import fpn, heavy_unet
from medganlab.profiles import profile_for
from medganlab.training import segmentation_runs as sr
from medganlab.training import synthetic_set

matplotlib.use("Agg")


def _pairs(n=6, side=16, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.zeros((n, side, side, 1), np.uint8)
    labels[:, 4:10, 3:9] = 1
    labels[:, 6:8, 5:7] = 2
    images = np.where(labels > 0, 0.5, -0.5).astype(np.float32)
    return images + rng.normal(0, 0.01, images.shape).astype(np.float32), labels


# --- scenarios and training data --------------------------------------------------------


def test_the_four_scenarios_are_the_papers_table_1():
    flags = {n: (s.synthetic, s.geometric) for n, s in sr.SCENARIOS.items()}
    assert flags == {1: (False, False), 2: (False, True), 3: (True, False), 4: (True, True)}


def test_synthetic_slices_join_training_only_in_scenarios_3_and_4():
    images, labels = _pairs(4)
    synthetic = {"images": images[:2] + 1.0, "labels": labels[:2]}
    x, y, flags = sr.training_arrays(images, labels, synthetic, sr.SCENARIOS[2])
    assert len(x) == 4 and not flags.any()
    x, y, flags = sr.training_arrays(images, labels, synthetic, sr.SCENARIOS[4])
    assert len(x) == len(y) == 6 and flags.tolist() == [False] * 4 + [True] * 2
    with pytest.raises(ValueError, match="run notebook 07"):
        sr.training_arrays(images, labels, None, sr.SCENARIOS[3])


def test_resize_pairs_keeps_labels_labels():
    images, labels = _pairs(3, side=32)
    small_images, small_labels = sr.resize_pairs(images, labels, 16)
    assert small_images.shape == (3, 16, 16, 1) and small_images.dtype == np.float32
    assert set(np.unique(small_labels)) == {0, 1, 2} and small_labels.dtype == np.uint8
    same = sr.resize_pairs(images, labels, 32)
    assert same[0] is images or np.array_equal(same[0], images)
    with pytest.raises(ValueError, match="0 \\(background\\)"):
        sr.resize_pairs(images, labels + 3, 16)


def _write_set(directory, train):
    images, labels = _pairs(3, side=32)
    return synthetic_set.write_synthetic_set(
        synthetic_set.synthetic_set_name("smoke"),
        images,
        labels,
        [train[0]] * 3,
        split={"seed": 2023, "train": train},
        generator={"artifact": "test"},
        metadata={"dataset": "phantom", "condition": "labels+body"},
        directory=directory,
    )


def test_load_synthetic_takes_own_then_reference_and_refuses_other_splits(
    tmp_path, monkeypatch, capsys
):
    own, reference = tmp_path / "own", tmp_path / "reference"
    monkeypatch.setenv("MEDGANLAB_ARTIFACTS", str(own))
    monkeypatch.setenv("MEDGANLAB_REFERENCE_ARTIFACTS", str(reference))
    train = ["case_00001", "case_00002"]
    assert sr.load_synthetic("smoke", train, "phantom", 16) is None
    assert "Run notebook 07" in capsys.readouterr().out
    _write_set(reference, train)
    found = sr.load_synthetic("smoke", train, "phantom", 16)
    assert found["source"] == "reference" and found["images"].shape == (3, 16, 16, 1)
    _write_set(own, train)
    assert sr.load_synthetic("smoke", train, "phantom", 16)["source"] == "own"
    with pytest.raises(ValueError, match="outside your training split"):
        sr.load_synthetic("smoke", ["case_00009"], "phantom", 16)
    with pytest.raises(ValueError, match="data set"):
        sr.load_synthetic("smoke", train, "another_phantom", 16)


def test_make_dataset_batches_and_applies_the_augmenter():
    images, labels = _pairs(5)
    calls = []

    def flip(x, y):
        calls.append(1)
        return x[:, :, ::-1], y[:, :, ::-1]

    data = sr.make_dataset(images, labels, 2, augment=flip, shuffle=False)
    batches = list(data)
    assert [len(b[0]) for b in batches] == [2, 2, 1] and calls, "the augmenter is mapped"
    np.testing.assert_array_equal(batches[0][1].numpy(), labels[:2, :, ::-1])
    with pytest.raises(ValueError, match="as many label maps"):
        sr.make_dataset(images, labels[:2], 2)


def test_a_seeded_augmenter_replays_the_same_batches():
    import tensorflow as tf

    images, labels = _pairs(6)

    def first_epoch():
        layer = keras.layers.RandomRotation(0.1, seed=3)

        def augment(x, y):
            out = layer({"images": x, "segmentation_masks": tf.cast(y, "float32")}, training=True)
            return out["images"], tf.cast(tf.round(out["segmentation_masks"]), y.dtype)

        return [b[0].numpy() for b in sr.make_dataset(images, labels, 2, augment=augment, seed=1)]

    for a, b in zip(first_epoch(), first_epoch(), strict=True):
        np.testing.assert_array_equal(a, b)


# --- loss --------------------------------------------------------------------------------


def test_loss_values_on_hand_made_predictions():
    labels = np.zeros((2, 4, 4, 1), np.uint8)
    labels[:, :2, :2] = 1
    labels[:, 3, 3] = 2
    perfect = np.eye(3, dtype=np.float32)[labels[..., 0]]
    uniform = np.full((2, 4, 4, 3), 1 / 3, np.float32)
    ce, dice, both = (sr.SegmentationLoss(k) for k in ("ce", "dice", "ce+dice"))
    assert float(ce(labels, uniform)) == pytest.approx(np.log(3), rel=1e-5)
    assert float(ce(labels, perfect)) == pytest.approx(0.0, abs=1e-5)
    assert float(dice(labels, perfect)) == pytest.approx(0.0, abs=1e-6)
    # kidney: 8 px, p = 1/3 everywhere (32 px): dice = (2·8/3 + 1) / (8 + 32/3 + 1)
    kidney = (2 * 8 / 3 + 1) / (8 + 32 / 3 + 1)
    tumour = (2 * 2 / 3 + 1) / (2 + 32 / 3 + 1)
    assert float(dice(labels, uniform)) == pytest.approx(1 - (kidney + tumour) / 2, rel=1e-5)
    assert float(both(labels, uniform)) == pytest.approx(
        float(ce(labels, uniform)) + float(dice(labels, uniform)), rel=1e-6
    )
    with pytest.raises(ValueError, match="ce\\+dice"):
        sr.SegmentationLoss("focal")


# --- runs --------------------------------------------------------------------------------


def test_a_finished_run_is_reloaded_not_trained_again(tmp_path):
    images, labels = _pairs(8)
    keras.utils.set_random_seed(0)
    model = sr.compile_segmenter(heavy_unet((16, 16, 1), base=2, depth=2), jit_compile=False)
    data = sr.make_dataset(images, labels, 4, seed=0)
    folder = sr.run_folder(tmp_path, "U-Net2", 2, 0)
    assert folder.name == "unet2_s2_seed0"
    first = sr.train_run(model, data, data, folder, epochs=2)
    assert not first["reloaded"] and first["epochs"] == 2 and (folder / "done.json").is_file()
    assert first["best_epoch"] in (1, 2)
    fresh = sr.compile_segmenter(heavy_unet((16, 16, 1), base=2, depth=2), jit_compile=False)
    again = sr.train_run(fresh, data, data, folder, epochs=2)
    assert (
        again["reloaded"]
        and again["history"] == json.loads((folder / "done.json").read_text())["history"]
    )
    for a, b in zip(model.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    predicted = sr.predict_labels(fresh, images)
    assert predicted.shape == (8, 16, 16, 1) and predicted.dtype == np.uint8
    with pytest.raises(ValueError, match="U-Net1"):
        sr.run_folder(tmp_path, "SegNet", 1, 0)


def test_keep_best_restores_the_best_epoch_and_survives_a_resume(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    keep = sr.KeepBest(tmp_path)
    keep.set_model(model)
    keep.on_train_begin()
    for epoch, (fill, val_loss) in enumerate([(1.0, 3.0), (2.0, 1.0), (3.0, 2.0)]):
        model.set_weights([np.full(w.shape, fill, w.dtype) for w in model.get_weights()])
        keep.on_epoch_end(epoch, {"val_loss": val_loss})
    keep.on_train_end()
    assert all((w == 2.0).all() for w in model.get_weights()), "the weights of epoch 2 are back"
    resumed = sr.KeepBest(tmp_path)  # after a disconnect: the best so far is remembered
    resumed.set_model(model)
    resumed.on_train_begin()
    assert resumed.best == 1.0
    model.set_weights([np.full(w.shape, 9.0, w.dtype) for w in model.get_weights()])
    resumed.on_epoch_end(3, {"val_loss": 1.5})
    resumed.on_train_end()
    assert all((w == 2.0).all() for w in model.get_weights())
    assert json.loads((tmp_path / "best.json").read_text())["epoch"] == 2


def test_a_changed_knob_gets_its_own_run_folder():
    cfg = profile_for("08_kidney_segmentation", "cpu")
    tag = sr.config_tag(cfg)
    assert tag.startswith("cfg-") and tag == sr.config_tag(cfg.replace(bootstrap=5))
    assert sr.config_tag(cfg.replace(epochs=cfg.epochs + 1)) != tag
    assert sr.config_tag(cfg.replace(zoom=0.2)) != tag


def test_forward_flops_counts_convolutions_and_transposed_ones():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, padding="same")(inputs)  # 2·8·8·2·9·1 = 2,304
    x = keras.layers.Conv2DTranspose(4, 2, strides=2)(x)  # 2·8·8·2·4·4 = 4,096
    assert sr.forward_flops(keras.Model(inputs, x)) == 2_304 + 4_096


@pytest.mark.slow
def test_full_size_flops_constants_match_the_given_models():
    assert sr.forward_flops(heavy_unet((256, 256, 1))) == sr.FULL_SIZE_FLOPS["U-Net2"]
    assert sr.forward_flops(fpn((256, 256, 1))) == sr.FULL_SIZE_FLOPS["FPN"]


def test_gpu_hours_is_work_over_throughput():
    hours = sr.gpu_hours(1e9, 1000, 100, 10, peak_flops=1e12, utilisation=0.5)
    assert hours == pytest.approx(10 * (3000 + 100) * 1e9 / 0.5e12 / 3600)


def test_fpn_encoder_can_be_narrowed_for_cpu():
    narrow = fpn((64, 64, 1), pyramid=64, head=32, encoder_width=16)
    assert narrow.get_layer("stem_conv").filters == 16
    assert narrow.get_layer("c5_block1_a_conv").filters == 128
    assert narrow.output_shape == (None, 64, 64, 3)
    with pytest.raises(ValueError, match="encoder_width"):
        fpn((64, 64, 1), encoder_width=0)


@pytest.mark.parametrize("profile", ["smoke", "cpu", "gpu"])
def test_08_reads_the_phantom_07_wrote_in_every_profile(profile):
    """The same folder, hence the same patients and split, and a synthetic set that fits."""
    seg_cfg = profile_for("08_kidney_segmentation", profile)
    pix_cfg = profile_for("07_pix2pix_ct", profile)
    for knob in ("cases", "data_size", "ct_slice_thickness_mm", "data_seed"):
        assert getattr(seg_cfg, knob) == getattr(pix_cfg, knob), knob
    side = seg_cfg.image_size
    assert side % 2**seg_cfg.light_depth == 0 and side % 16 == 0 and side % 32 == 0
    assert seg_cfg.empty in ("one", "exclude") and seg_cfg.loss in sr.LOSSES


# --- figures -----------------------------------------------------------------------------


def test_describe_failure_names_the_largest_error():
    truth = np.zeros((16, 16, 1), np.uint8)
    truth[4:10, 4:10] = 1
    truth[6:9, 6:9] = 2
    assert figures.describe_failure(truth, truth) == "no error"
    assert figures.describe_failure(truth, np.zeros_like(truth)).startswith("nothing found")
    calls_kidney = np.where(truth == 2, 1, truth)
    assert figures.describe_failure(truth, calls_kidney) == "tumour called kidney: 9 px"
    extra = truth.copy()
    extra[12:16, :] = 1
    assert figures.describe_failure(truth, extra) == "64 px of kidney marked where there is none"


def test_figures_draw_without_error():
    images, labels = _pairs(4)
    predictions = {"s1": labels, "s2": np.zeros_like(labels)}
    scores = {"s1": np.ones(4), "s2": np.zeros(4)}
    assert figures.overlay_grid(images, labels, predictions, scores).axes
    rows = [
        {"model": m, "scenario": s, "iou": 0.8, "iou_low": 0.7, "iou_high": 0.9}
        for m in ("U-Net1", "FPN")
        for s in (1, 2)
    ]
    assert figures.table2_figure(rows).axes
    assert figures.iou_distributions({"U-Net1": scores}).axes
    fig, notes = figures.failure_gallery(
        images, labels, predictions["s2"], np.zeros(4), list("abcd"), 2
    )
    assert len(notes) == 2 and notes[0][3].startswith("nothing found")
    matplotlib.pyplot.close("all")
