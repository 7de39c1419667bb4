"""Assignment 05's package side: the normal-vs-abnormal loader, bootstrap CIs, Grad-CAM,
resumable runs, FLOPs, and the full-size VGG-16 parameter counts of the solution's builder."""

from __future__ import annotations

import csv
import gc
import types

import numpy as np
import pytest

from medganlab.data import cxr_binary
from medganlab.evaluation import gradcam, roc

from conftest import REPO

SOURCE = REPO / "solutions" / "05_vgg16_kernels_activations" / "05_vgg16_kernels_activations.py"


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    """A tiny normal-vs-abnormal phantom set (generated once for the module)."""
    from medganlab.data.cxr_phantom import generate_dataset

    root = tmp_path_factory.mktemp("cxr") / "vgg"
    return generate_dataset(
        root, n=40, size=64, seed=3, prevalence="normal-abnormal", progress=False
    )


def test_binary_index_is_balanced_and_carries_boxes(phantom):
    records = cxr_binary.binary_index(phantom)
    labels = [r["abnormal"] for r in records]
    assert labels.count(0) == labels.count(1) > 0
    for r in records:
        assert bool(r["boxes"]) == bool(r["abnormal"]), r["labels"]
        for x0, y0, x1, y1 in r["boxes"]:
            assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    capped = cxr_binary.binary_index(phantom, images_per_class=5, seed=1)
    assert len(capped) == 10 and capped == cxr_binary.binary_index(phantom, 5, seed=1)


def test_split_is_by_patient_and_described(phantom):
    records = cxr_binary.binary_index(phantom)
    splits = cxr_binary.split(records, seed=0)
    assert list(splits) == ["train", "validation", "test"]
    assert sum(len(v) for v in splits.values()) == len(records)
    rows = cxr_binary.describe_splits(splits)
    assert sum(r["images"] for r in rows) == len(records)
    shared = {"train": [{**splits["test"][0]}], "test": splits["test"][:1]}
    with pytest.raises(ValueError, match="patient"):
        cxr_binary.describe_splits(shared)


@pytest.mark.parametrize(
    ("labels", "message"), [([0, 0, 0], "both classes"), ([0, 1, 2], "binary"), ([], "both")]
)
def test_check_binary_names_what_is_allowed(labels, message):
    with pytest.raises(ValueError, match=message):
        cxr_binary.check_binary(labels)


def test_a_folder_with_one_class_is_rejected(tmp_path):
    from medganlab.data.cxr_phantom import generate_dataset

    root = generate_dataset(
        tmp_path / "normals", n=4, size=64, seed=1, prevalence={"No Finding": 1}, progress=False
    )
    with pytest.raises(ValueError, match="both classes"):
        cxr_binary.binary_index(root)


def test_nih_bounding_boxes_are_read_as_fractions(tmp_path):
    path = tmp_path / cxr_binary.BBOX_CSV
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Image Index", "Finding Label", "Bbox [x", "y", "w", "h]", "", "", ""])
        writer.writerow(["a.png", "Mass", "512", "256", "128", "64"])
        writer.writerow(["a.png", "Emphysema", "0", "0", "10", "10"])  # not a course finding
    boxes = cxr_binary.load_boxes(tmp_path, [{"name": "a.png", "width": 1024, "height": 1024}])
    assert boxes == {"a.png": [[0.5, 0.25, 0.625, 0.3125]]}


def test_bootstrap_resamples_patients_deterministically():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(60), np.ones(60)]
    s = y + rng.normal(0, 1.0, 120)
    groups = np.repeat(np.arange(40), 3)
    a = roc.bootstrap_auc(y, s, groups, n_boot=200, seed=1)
    assert a == roc.bootstrap_auc(y, s, groups, n_boot=200, seed=1)
    assert a["low"] < a["auc"] < a["high"] and a["patients"] == 40
    assert abs(a["auc"] - roc.reference_auc(y, s)) < 1e-12
    # one patient per image gives a narrower interval than 3 correlated images per patient
    with pytest.raises(ValueError, match="lengths"):
        roc.bootstrap_auc(y, s[:-1], groups)


def test_pointing_game_and_chance():
    maps = np.zeros((2, 8, 8), np.float32)
    maps[0, 1, 6] = 1  # peak at x = 6.5/8, y = 1.5/8
    maps[1, 7, 0] = 1
    boxes = [[[0.75, 0.0, 1.0, 0.25]], [[0.5, 0.5, 1.0, 1.0]]]
    assert gradcam.pointing_game(maps, boxes).tolist() == [True, False]
    assert abs(gradcam.chance_rate(boxes) - (1 / 16 + 1 / 4) / 2) < 0.02
    with pytest.raises(ValueError, match="one box list per map"):
        gradcam.pointing_game(maps, boxes[:1])


def _tiny_model():
    import keras
    from keras import layers

    x = inputs = keras.Input((32, 32, 1))
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="block1_conv1")(x)
    x = layers.MaxPooling2D(4, name="block1_pool")(x)
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="block5_conv3")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(8, activation="relu", name="fc1")(x)
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs)


def test_grad_cam_shapes_flops_and_gradient_norms():
    from medganlab.training import runs

    model = _tiny_model()
    images = np.random.default_rng(0).normal(size=(3, 32, 32, 1)).astype("float32")
    maps = gradcam.grad_cam(model, images, batch=2)
    assert maps.shape == (3, 32, 32) and maps.min() >= 0 and maps.max() <= 1 + 1e-6
    with pytest.raises(ValueError, match="no layer"):
        gradcam.grad_cam(model, images, layer="block9_conv1")
    expected = 2 * (32 * 32 * 9 * 1 * 4 + 8 * 8 * 9 * 4 * 4 + 256 * 8 + 8)
    assert runs.count_flops(model) == expected
    norms = runs.gradient_norms(model, images, [0, 1, 1])
    assert set(norms) == {"block1", "block5", "fc1", "predictions"}
    assert all(np.isfinite(v) and v >= 0 for v in norms.values())


def test_fit_resumable_trains_once_then_reloads(tmp_path):
    import keras
    import tensorflow as tf

    from medganlab.training import runs

    x = np.random.default_rng(0).normal(size=(16, 32, 32, 1)).astype("float32")
    y = np.r_[np.zeros(8), np.ones(8)].astype("float32")
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    model = _tiny_model()
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    first = runs.fit_resumable(model, data, data, tmp_path, epochs=2, verbose=0)
    assert not first["reloaded"] and first["epochs"] == 2
    assert len(first["history"]["val_loss"]) == 2 and first["seconds"] > 0
    again = _tiny_model()
    second = runs.fit_resumable(again, data, data, tmp_path, epochs=2, verbose=0)
    assert second["reloaded"] and second["history"] == first["history"]
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


def _solution_builder():
    """The solution's builder and its constants, executed from the jupytext source."""
    import jupytext
    import keras
    from keras import layers

    cfg = types.SimpleNamespace(width=1.0)  # the cell defining scaled() shows it on cfg.width
    namespace = {"keras": keras, "layers": layers, "np": np, "cfg": cfg}
    wanted = ("BLOCKS = (", "def scaled", "def build_vgg16")
    for cell in jupytext.read(SOURCE, fmt="py:percent").cells:
        if cell.cell_type == "code" and any(text in cell.source for text in wanted):
            exec(cell.source, namespace)
    return namespace["build_vgg16"]


@pytest.mark.slow
@pytest.mark.parametrize(("kernel", "count"), [(3, 134_263_489), (7, 199_638_209)])
def test_full_size_vgg16_parameter_counts(kernel, count):
    """Configuration D with a 1-channel 224² input, one output; built, never trained."""
    import keras

    model = _solution_builder()((224, 224, 1), kernel_size=kernel)
    assert model.count_params() == count
    assert tuple(model.get_layer("block5_pool").output.shape) == (None, 7, 7, 512)
    assert model.get_layer("fc1").kernel.shape == (25088, 4096)
    del model
    gc.collect()
    keras.backend.clear_session()
