"""Assignment 06's infrastructure: arms, real and synthetic streams, generator checks,
training with the same budget, per-finding AUC and its summaries."""

from __future__ import annotations

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf
from keras import layers
from sklearn.metrics import roc_auc_score

from medganlab.data import cxr_splits, nih
from medganlab.data.cxr import generate_dataset
from medganlab.data.vocabulary import FINDINGS
from medganlab.evaluation import augmentation_plots as plots
from medganlab.evaluation import finding_auc as effects
from medganlab.evaluation.finding_auc import aggregate, finding_auc
from medganlab.training import export_generator
from medganlab.training import gan_augmentation as aug

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A multi-label phantom set (the experiment's) and a single-finding one (a GAN's), seed 5."""
    base = tmp_path_factory.mktemp("cxr06")
    multi = generate_dataset(base / "multi", n=60, size=64, seed=5, progress=False)
    single = generate_dataset(
        base / "single", n=40, size=64, seed=5, single_finding=True, progress=False
    )
    return multi, single, cxr_splits.split_records(nih.load_index(multi))


def _generator(size: int = 32, classes: int = 8, latent: int = 4) -> keras.Model:
    z, c = keras.Input((latent,)), keras.Input((classes,))
    x = layers.Dense(4 * 4 * 4)(layers.Concatenate()([z, c]))
    x = layers.Reshape((4, 4, 4))(x)
    while x.shape[1] < size:
        x = layers.UpSampling2D()(x)
    out = layers.Conv2D(1, 3, padding="same", activation="tanh", dtype="float32")(x)
    return keras.Model([z, c], out)


def _export(directory, name, records, root, size=32, classes=FINDINGS):
    meta = {"latent_dim": 4, "num_classes": 8, "classes": list(classes), "image_size": size}
    if records is not None:
        meta["training_data"] = cxr_splits.training_provenance(root, records)
    return export_generator(_generator(size), name, meta, directory=directory, saved_model=False)


@pytest.fixture
def artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDGANLAB_ARTIFACTS", str(tmp_path / "own"))
    monkeypatch.setenv("MEDGANLAB_REFERENCE_ARTIFACTS", str(tmp_path / "reference"))
    return tmp_path / "own"


def test_plan_has_every_arm_and_refuses_ratios_outside_the_range():
    arms = aug.plan_arms(["cDCGAN", "multi-scale GAN"], [1.0, 4.0])
    assert [a.name for a in arms] == [
        "baseline", "class weights", "geometric", "cDCGAN x1", "cDCGAN x4",
        "multi-scale GAN x1", "multi-scale GAN x4",
        "cDCGAN: synthetic only", "multi-scale GAN: synthetic only",
    ]  # fmt: skip
    assert {a.kind for a in arms} == {
        "baseline",
        "class weights",
        "geometric",
        "gan",
        "synthetic only",
    }
    for bad in (10.5, -1):
        with pytest.raises(ValueError, match=r"\[0, 10\]"):
            aug.plan_arms(["cDCGAN"], [bad])


def test_real_splits_stream_labelled_images(data):
    parts = data[2]
    real = aug.real_splits(parts, size=32, seed=0)
    test = list(real["test"].as_numpy_iterator())
    assert len(test) == len(parts["test"]), "the test split is read once, in order"
    labels = np.stack([y for _, y in test])
    np.testing.assert_array_equal(labels, aug.labels_of(parts["test"]))
    images = np.stack([x for x, _ in test])
    assert images.shape[1:] == (32, 32, 1) and images.dtype == np.float32
    assert -1.0 <= images.min() and images.max() <= 1.0
    np.testing.assert_allclose(images, aug.read_images(parts["test"], 32), atol=1e-6)
    assert len(list(real["train"].take(3 * len(parts["train"])))) == 3 * len(parts["train"])
    with pytest.raises(ValueError, match="empty"):
        aug.real_splits({**parts, "validation": []}, size=32)


def test_generator_check_refuses_a_leak_and_accepts_a_clean_one(data, artifacts):
    multi, single, parts = data
    identity = cxr_splits.dataset_identity(multi)
    test_patients = aug.patients_of(parts["test"])
    gan_train = cxr_splits.split_records(nih.load_index(single))["train"]
    _export(artifacts, "02_conditional_gan_smoke", gan_train, single)
    loaded = aug.load_generators(
        {"cDCGAN": "02_conditional_gan_smoke"}, identity, test_patients, 32, FINDINGS
    )
    sample, meta = loaded["cDCGAN"]
    assert sample(1, 3, seed=0).shape == (3, 32, 32, 1)
    assert meta["training_data_checked"]["split"]["part"] == "train"

    # a test split holding the generator's training patients
    seen = meta["training_data"]["split"]["patients"]
    with pytest.raises(ValueError, match="refused"):
        aug.check_generator(meta, identity, [*test_patients, seen[0]], 32, FINDINGS)
    _export(artifacts, "03_multiscale_attention_gan_smoke", None, single)  # records nothing
    with pytest.raises(ValueError, match="records no training data"):
        aug.load_generators(
            {"ms": "03_multiscale_attention_gan_smoke"}, identity, test_patients, 32, FINDINGS
        )
    with pytest.raises(ValueError, match="expected at least the classifier's 64 px"):
        aug.check_generator(meta, identity, test_patients, 64, FINDINGS)
    with pytest.raises(ValueError, match="expected .*in order"):
        aug.check_generator(meta, identity, test_patients, 32, list(reversed(FINDINGS)))


def test_without_any_generator_the_message_says_to_run_02_and_03(data, artifacts):
    identity = cxr_splits.dataset_identity(data[0])
    names = {"cDCGAN": "02_conditional_gan_cpu", "ms": "03_multiscale_attention_gan_cpu"}
    with pytest.raises(FileNotFoundError, match="run notebooks 02, 03 to the end"):
        aug.load_generators(names, identity, [], 32, FINDINGS)


def test_synthetic_pools_are_quantised_and_resized_and_synthetic_only_is_balanced():
    def sample(k, n, seed=0):
        return np.full((n, 64, 64, 1), -1.0 + 0.25 * k, np.float32)

    pools = aug.synthetic_pools(sample, {k: 6 for k in range(8)}, size=32)
    assert pools[0].dtype == np.uint8 and pools[3].shape == (6, 32, 32, 1)
    assert pools[4][0, 0, 0, 0] == round(1.0 * 127.5)
    streams = aug.synthetic_streams(pools)
    first = next(iter(streams[2]))
    assert first.dtype == tf.float32 and abs(float(first[0, 0, 0]) - (-0.5)) < 0.01
    images, labels = next(iter(aug.synthetic_only(pools, 8, seed=0).take(800).batch(800)))
    labels = labels.numpy()
    assert np.all(labels.sum(axis=1) == 1), "one finding per synthetic image"
    counts = labels.sum(axis=0)
    assert counts.min() > 60 and counts.max() < 140, f"every finding equally often, got {counts}"
    k = labels.argmax(axis=1)
    np.testing.assert_allclose(
        images.numpy()[:, 0, 0, 0], (np.round(127.5 * 0.25 * k) / 127.5 - 1), atol=1e-6
    )
    with pytest.raises(ValueError, match="all 8 findings"):
        aug.synthetic_only({0: pools[0]}, 8)


def test_geometric_augmentation_moves_images_but_keeps_labels():
    x = np.zeros((8, 16, 16, 1), np.float32)
    x[:, 4:12, 6:10] = 1.0
    y = np.eye(8, dtype=np.float32)
    stream = tf.data.Dataset.from_tensor_slices((x, y))
    out = list(aug.geometric(stream, 20.0, 0.2, 0.2, seed=1).as_numpy_iterator())
    np.testing.assert_array_equal(np.stack([b for _, b in out]), y)
    moved = np.stack([a for a, _ in out])
    assert moved.shape == x.shape and np.abs(moved - x).max() > 0.1


def test_class_weights_and_weighted_loss():
    labels = np.zeros((100, 3), np.float32)
    labels[:10, 0], labels[:1, 1] = 1, 1
    weights = aug.positive_weights(labels, cap=50.0)
    np.testing.assert_allclose(weights, [9.0, 50.0, 50.0])  # 90/10, 99 capped, none: capped
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], np.float32)
    z = np.array([[0.3, -1.2, 2.0], [-0.5, 0.7, 0.0]], np.float32)
    plain = aug.weighted_bce(np.ones(3))(y, z)
    reference = keras.losses.binary_crossentropy(y, z, from_logits=True)
    np.testing.assert_allclose(plain, reference, rtol=1e-5)
    heavy = aug.weighted_bce([2.0, 1.0, 1.0])(y, z)
    expected = np.asarray(plain) + np.array([np.log1p(np.exp(-0.3)), 0.0]) / 3
    np.testing.assert_allclose(heavy, expected, rtol=1e-5)


def test_train_arm_takes_exactly_the_budget_and_reloads(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (40, 16, 16, 1)).astype(np.float32)
    y = (rng.random((40, 8)) < 0.3).astype(np.float32)
    stream = tf.data.Dataset.from_tensor_slices((x, y)).repeat()
    val = tf.data.Dataset.from_tensor_slices((x[:8], y[:8]))
    args = dict(
        image_size=16,
        width=2,
        steps=4,
        evaluations=2,
        batch_size=8,
        learning_rate=1e-3,
        seed=3,
        run_eagerly=True,
    )
    model, record = aug.train_arm(stream, val, tmp_path / "arm", **args)
    assert int(model.optimizer.iterations) == 4 and len(record["history"]["val_loss"]) == 2
    scores = aug.predict_scores(model, val)
    again, reloaded = aug.train_arm(stream, val, tmp_path / "arm", **args)
    assert reloaded["reloaded"] and np.allclose(aug.predict_scores(again, val), scores, atol=1e-5)
    with pytest.raises(ValueError, match="multiple of evaluations"):
        aug.train_arm(stream, val, tmp_path / "bad", **{**args, "steps": 5})
    assert aug.arm_folder(tmp_path, aug.Arm("cDCGAN x1", "gan"), 0, {"a": 1}) != aug.arm_folder(
        tmp_path, aug.Arm("cDCGAN x1", "gan"), 0, {"a": 2}
    ), "a changed setting trains afresh"


def test_finding_auc_matches_sklearn_with_ties_missing_classes_and_seeds():
    rng = np.random.default_rng(1)
    y = (rng.random((120, 4)) < 0.3).astype(np.float32)
    y[:, 3] = 0  # no positive: no AUC
    s = np.round(rng.normal(size=(120, 4)) + y, 1)  # ties
    got = finding_auc(y, s)
    want = [roc_auc_score(y[:, k], s[:, k]) for k in range(3)]
    np.testing.assert_allclose(got[:3], want, rtol=1e-12)
    assert np.isnan(got[3])
    two = np.stack([s, -s])
    np.testing.assert_allclose(finding_auc(y, two)[:3], [0.5, 0.5, 0.5], atol=1e-12)
    with pytest.raises(ValueError, match="expected labels"):
        finding_auc(y, s[:, :2])


def test_aggregate_means_and_intervals():
    point = np.array([0.6, 0.8, np.nan])
    reps = np.array([[0.5, 0.7, np.nan], [0.7, 0.9, 0.8], [0.6, 0.8, np.nan]])
    macro = aggregate(point, reps)
    assert macro["value"] == pytest.approx(0.7)
    weighted = aggregate(point, reps, weights=[3, 1, 1])
    assert weighted["value"] == pytest.approx(0.65)
    only = aggregate(point, reps, columns=[1])
    assert only["value"] == pytest.approx(0.8) and only["low"] >= 0.7 and only["high"] <= 0.9


def _results(arms, rng, gain_low=-0.02):
    out = {}
    for arm in arms:
        auc = rng.uniform(0.6, 0.9, 8)
        reps = auc + rng.normal(0, 0.02, (50, 8))
        gain = np.zeros(8) if arm.kind == "baseline" else np.full(8, 0.03)
        greps = (
            gain
            + rng.normal(0, 0.001, (50, 8))
            + (0 if gain_low > 0 else rng.normal(0, 0.05, (50, 8)))
        )
        out[arm.name] = {
            "auc": {"auc": auc, "low": auc - 0.05, "high": auc + 0.05, "replicates": reps},
            "gain": {
                "difference": gain,
                "low": np.percentile(greps, 2.5, axis=0),
                "high": np.percentile(greps, 97.5, axis=0),
                "replicates": greps,
            },
        }
    return out


def test_rows_figures_and_conclusion_come_from_the_numbers():
    rng = np.random.default_rng(2)
    arms = aug.plan_arms(["cDCGAN"], [1.0])
    train = (rng.random((200, 8)) < 0.1).astype(np.float32)
    test = (rng.random((80, 8)) < 0.2).astype(np.float32)
    minority = ["Cardiomegaly", "Pneumonia"]
    rows = effects.effect_rows(
        arms, _results(arms, rng, gain_low=0.01), FINDINGS, minority, train, test, "cpu", 1
    )
    assert len(rows) == len(arms) * (len(FINDINGS) + 3)
    summary = {(r["arm"], r["finding"]): r for r in rows}
    assert summary[("cDCGAN x1", "minority")]["gain_low"] > 0
    assert summary[("baseline", "Pneumonia")]["minority"] and summary[("baseline", "Pneumonia")][
        "train_positives"
    ] == int(train[:, 6].sum())
    text = effects.conclusion(rows, {"cDCGAN": [0.5] * 8}, judge_accuracy=0.9)
    assert "cDCGAN x1: minority AUC gain +0.030" in text and "a gain beyond the noise" in text
    assert "recognises the requested finding in 50%" in text
    assert "Per finding, of 24 comparisons" in text, "class weights, geometric, cDCGAN x1"
    assert "cDCGAN: synthetic only: macro AUC" in text and "on real images" in text
    noisy = effects.effect_rows(
        arms, _results(arms, rng), FINDINGS, minority, train, test, "cpu", 1
    )
    assert "within the noise" in effects.conclusion(noisy)
    for figure in (
        plots.plot_gain_vs_prevalence(rows),
        plots.plot_summary(rows),
        plots.plot_synthetic_only(rows, FINDINGS),
    ):
        assert figure.axes
    with pytest.raises(ValueError, match="synthetic-only arm"):
        plots.plot_synthetic_only([r for r in rows if r["kind"] != "synthetic only"], FINDINGS)
