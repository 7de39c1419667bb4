"""FDD machinery of notebook 04 (``medganlab.evaluation.fdd``): fast contracts, no DenseNet."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medganlab.evaluation import fdd
from medganlab.evaluation.frechet import frechet_distance


@pytest.fixture
def artifacts(tmp_path, monkeypatch):
    folder = tmp_path / "artifacts"
    monkeypatch.setenv("MEDGANLAB_ARTIFACTS", str(folder))
    monkeypatch.setenv("MEDGANLAB_BUILD", str(tmp_path / "build"))
    return folder


def _tiny_extractor(size=32, dim=12):
    """Stands in for the DenseNet cut at its pooled layer: same contract, tiny cost."""
    import keras
    from keras import layers

    image = keras.Input((size, size, 1))
    x = layers.Conv2D(4, 3, strides=4, activation="relu")(image)
    features = layers.Identity(name="features")(
        layers.Dense(dim)(layers.GlobalAveragePooling2D()(x))
    )
    logits = layers.Dense(8, name="logits")(features)
    return keras.Model(image, logits)


def test_scaled_counts_keep_the_papers_proportions_and_a_floor():
    assert fdd.scaled_counts(1.0) == fdd.PAPER_COUNTS
    quarter = fdd.scaled_counts(0.25, minimum=60)
    assert quarter["Atelectasis"] == 250 and quarter["Pneumonia"] == 60  # 242/4 = 60.5 -> 60
    assert fdd.scaled_counts(0.01, minimum=8)["Pneumonia"] == 8
    assert sum(fdd.PAPER_COUNTS.values()) == 5859
    with pytest.raises(ValueError, match="positive"):
        fdd.scaled_counts(0)
    with pytest.raises(ValueError, match="at least 2"):
        fdd.scaled_counts(0.5, minimum=1)


def test_paper_table_has_the_multiscale_gan_winning_six_of_eight():
    wins = [f for f, (cdcgan, ours) in fdd.PAPER_TABLE_1.items() if ours < cdcgan]
    assert len(wins) == 6 and set(fdd.PAPER_TABLE_1) - set(wins) == {"Effusion", "Pneumonia"}


def test_feature_extractor_returns_pooled_features_resized_from_any_size():
    model = _tiny_extractor(size=32, dim=12)
    extractor = fdd.feature_extractor(model)
    images = np.random.default_rng(0).uniform(-1, 1, (70, 64, 64, 1)).astype("float32")
    features = fdd.extract_features(extractor, images, batch=32)
    assert features.shape == (70, 12) and features.dtype == np.float32
    same = fdd.extract_features(extractor, fdd.resize_images(images, 32), batch=64)
    np.testing.assert_allclose(features, same, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"\(n, h, w, 1\)"):
        fdd.resize_images(np.zeros((2, 8, 8, 3)), 4)


def test_densenet_feature_network_is_1024_wide():
    model = fdd.build_feature_network(32)
    assert fdd.feature_extractor(model).output_shape == (None, 1024)
    assert model.output_shape == (None, 8) and model.input_shape == (None, 32, 32, 1)
    with pytest.raises(ValueError, match="32"):
        fdd.build_feature_network(16)


def test_predict_features_logits_match_the_model():
    import tensorflow as tf

    model = _tiny_extractor()
    images = np.random.default_rng(1).uniform(-1, 1, (10, 32, 32, 1)).astype("float32")
    labels = np.eye(8, dtype="float32")[np.arange(10) % 8]
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    features, logits, got_labels = fdd.predict_features(model, dataset)
    assert features.shape == (10, 12) and logits.shape == (10, 8)
    np.testing.assert_allclose(logits, model.predict(images, verbose=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(got_labels, labels)


def test_statistics_cache_round_trip_and_keying(artifacts):
    features = np.random.default_rng(2).normal(size=(30, 5))
    stats = fdd.statistics_of(features)
    path = fdd.save_statistics("netA_data1", "Pleural Effusion", stats)
    assert path.is_relative_to(artifacts) and path.suffix == ".npz"
    back = fdd.load_statistics("netA_data1", "Pleural Effusion")
    np.testing.assert_array_equal(back.mean, stats.mean)
    np.testing.assert_array_equal(back.cov, stats.cov)
    assert back.n == 30 and back.mean.dtype == np.float64
    assert fdd.load_statistics("netB_data1", "Pleural Effusion") is None  # another network
    assert fdd.load_statistics("netA_data1", "Mass") is None
    with pytest.raises(ValueError, match="key"):
        fdd.save_statistics("../escape", "Mass", stats)


def test_real_statistics_are_computed_once_then_read_from_the_cache(artifacts, tmp_path):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(3)
    records = []
    for i in range(6):
        path = folder / f"{i}.png"
        Image.fromarray(rng.integers(0, 255, (40, 40), dtype=np.uint8)).save(path)
        records.append({"image": str(path), "labels": ["Mass"]})
    extractor = fdd.feature_extractor(_tiny_extractor())
    first = fdd.real_statistics(extractor, {"Mass": records}, key="tiny_set")
    assert first["Mass"].n == 6 and first["Mass"].cov.shape == (12, 12)
    for record in records:  # a second call must not read the images again
        record["image"] = str(folder / "gone.png")
    again = fdd.real_statistics(extractor, {"Mass": records}, key="tiny_set")
    np.testing.assert_array_equal(again["Mass"].cov, first["Mass"].cov)


def test_pooled_statistics_equal_those_of_the_union():
    rng = np.random.default_rng(4)
    parts = [rng.normal(k, 1 + k, size=(n, 3)) for k, n in ((0, 10), (1, 25), (3, 7))]
    pooled = fdd.pool_statistics([fdd.statistics_of(p) for p in parts])
    union = fdd.statistics_of(np.concatenate(parts))
    np.testing.assert_allclose(pooled.mean, union.mean)
    np.testing.assert_allclose(pooled.cov, union.cov)
    assert pooled.n == 42


def test_projection_maps_statistics_exactly():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(200, 6)), rng.normal(0.5, 1.5, size=(200, 6))
    sa, sb = fdd.statistics_of(a), fdd.statistics_of(b)
    centre, basis = fdd.pca_basis(sa, 3)
    assert basis.shape == (6, 3)
    direct = fdd.statistics_of((b - centre) @ basis)
    projected = fdd.project(sb, centre, basis)
    np.testing.assert_allclose(projected.mean, direct.mean, atol=1e-12)
    np.testing.assert_allclose(projected.cov, direct.cov, atol=1e-12)
    full = fdd.pca_basis(sa, 6)
    assert frechet_distance(
        *(lambda s: (s.mean, s.cov))(fdd.project(sa, *full)),
        *(lambda s: (s.mean, s.cov))(fdd.project(sb, *full)),
    ) == pytest.approx(frechet_distance(sa.mean, sa.cov, sb.mean, sb.cov), rel=1e-9)
    with pytest.raises(ValueError, match="components"):
        fdd.pca_basis(sa, 7)


def _generators(latent=4, classes=3, size=8):
    import keras
    from keras import layers

    def head(x):
        x = layers.Dense(size * size)(x)
        return layers.Activation("tanh")(layers.Reshape((size, size, 1))(x))

    z, c = keras.Input((latent,)), keras.Input((classes,))
    two = keras.Model([z, c], head(layers.Concatenate()([z, c])))
    joined = keras.Input((latent + classes,))
    one = keras.Model(joined, head(joined))
    return two, one


@pytest.mark.parametrize("inputs", ["two", "one"])
def test_sampler_loads_two_input_and_one_input_generators(artifacts, inputs):
    from medganlab.training import export_generator

    two, one = _generators()
    generator = two if inputs == "two" else one
    meta = {"latent_dim": 4, "num_classes": 3, "classes": ["A", "B", "C"], "image_size": 8}
    export_generator(generator, f"02_stand_in_{inputs}", meta, saved_model=False)
    sample, loaded = fdd.load_sampler(f"02_stand_in_{inputs}")
    assert loaded["latent_dim"] == 4 and loaded["classes"] == ["A", "B", "C"]
    images = sample(2, 70, seed=1)
    assert images.shape == (70, 8, 8, 1) and images.dtype == np.float32
    assert np.abs(images).max() <= 1.0
    np.testing.assert_array_equal(images, sample(2, 70, seed=1))  # reproducible
    assert not np.array_equal(images[:5], sample(1, 5, seed=1))  # the label matters


def test_sampler_keeps_the_largest_image_of_a_multi_scale_tree():
    import keras
    from keras import layers

    joined = keras.Input((7,))
    small = layers.Reshape((4, 4, 1))(layers.Dense(16)(joined))
    large = layers.Reshape((8, 8, 1))(layers.Dense(64)(joined))
    tree = keras.Model(joined, [small, large])
    sample = fdd.conditional_sampler(tree, {"latent_dim": 4, "num_classes": 3})
    assert sample(0, 3).shape == (3, 8, 8, 1)


def test_missing_generator_is_a_message_not_a_crash(artifacts):
    sample, message = fdd.load_sampler("03_multiscale_attention_gan_cpu")
    assert sample is None
    assert "03_multiscale_attention_gan_cpu" in message and "skipped" in message


def test_write_table_writes_csv_and_json(artifacts, tmp_path):
    rows = [{"finding": "Mass", "n": 5, "fdd_cDCGAN": 1.5}, {"finding": "Nodule", "n": 6}]
    meta = {"profile": "smoke", "auc": {"Mass": float("nan"), "Nodule": np.float64(0.75)}}
    csv_path, json_path = fdd.write_table(rows, "04_fdd_test", meta)
    assert csv_path == tmp_path / "build" / "tables" / "04_fdd_test.csv"
    lines = csv_path.read_text().splitlines()
    assert lines[0] == "finding,n,fdd_cDCGAN" and lines[2] == "Nodule,6,"
    payload = json.loads(json_path.read_text())
    assert payload["meta"] == {"profile": "smoke", "auc": {"Mass": None, "Nodule": 0.75}}
    assert payload["rows"][0]["fdd_cDCGAN"] == 1.5


def test_notebook_04_samples_from_the_reference_artifact_when_the_student_has_none(
    artifacts, tmp_path, monkeypatch
):
    """A student who skipped 03 still gets 04's column: the instructor's reference is used."""
    from medganlab.training import export_generator

    reference = tmp_path / "reference"
    monkeypatch.setenv("MEDGANLAB_REFERENCE_ARTIFACTS", str(reference))
    two, _ = _generators()
    meta = {"latent_dim": 4, "num_classes": 3, "classes": ["A", "B", "C"], "image_size": 8}
    export_generator(two, "03_multiscale_attention_gan_smoke", meta, directory=reference)
    assert not (artifacts / "03_multiscale_attention_gan_smoke").exists()
    sample, loaded = fdd.load_sampler("03_multiscale_attention_gan_smoke")
    assert sample is not None and loaded["source"] == "reference"
    assert any("reference artifact" in note for note in loaded["notes"])
    assert sample(1, 5, seed=0).shape == (5, 8, 8, 1)
