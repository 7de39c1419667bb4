"""Generators exported by one notebook and loaded by a later one."""

from __future__ import annotations

import json
import shutil
import zipfile

import keras
import numpy as np
import pytest
from test_training_gan import LATENT, tiny_generator

from medganlab.training import (
    export_generator,
    install_reference_artifacts,
    load_generator,
    pack_reference_artifacts,
)


def test_export_then_load_gives_identical_outputs(tmp_path):
    generator = tiny_generator(num_classes=3)
    names = ["Atelectasis", "Effusion", "Mass"]
    folder = export_generator(
        generator,
        "02_conditional_gan",
        {"latent_dim": LATENT, "class_names": names, "created_by": "02_conditional_gan"},
        directory=tmp_path,
    )
    assert folder == tmp_path / "02_conditional_gan"
    assert sorted(p.name for p in folder.iterdir()) == [
        "generator.keras",
        "metadata.json",
        "saved_model",
    ]

    loaded, meta = load_generator("02_conditional_gan", directory=tmp_path)
    z = np.random.default_rng(0).normal(size=(4, LATENT + 3)).astype("float32")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(generator(z, training=False)),
        keras.ops.convert_to_numpy(loaded(z, training=False)),
    )
    assert meta["latent_dim"] == LATENT and meta["num_classes"] == 3
    assert meta["class_names"] == names and meta["image_size"] == 16
    assert meta["created_by"] == "02_conditional_gan"
    assert meta["keras_version"] == keras.__version__
    assert meta["profile"] in {"smoke", "cpu", "gpu"}
    stored = json.loads((folder / "metadata.json").read_text())
    assert stored == {k: v for k, v in meta.items() if k not in ("source", "folder")}
    assert meta["source"] == "own" and meta["folder"] == str(folder)

    export_generator(tiny_generator(3), "02_conditional_gan", {"num_classes": 3}, tmp_path)
    _, meta = load_generator("02_conditional_gan", directory=tmp_path)  # replaced in place
    assert meta["class_names"] is None and meta["latent_dim"] == LATENT


class HalfScale(keras.layers.Layer):
    """A custom layer as a notebook defines it: not registered, so not rebuildable elsewhere."""

    def call(self, x):
        return 0.5 * x


def test_generator_with_an_unknown_custom_layer_loads_from_the_saved_model(tmp_path):
    z = keras.Input((LATENT,))
    x = HalfScale()(keras.layers.Dense(16 * 16, activation="tanh")(z))
    generator = keras.Model(z, keras.layers.Reshape((16, 16, 1))(x))
    export_generator(generator, "03_multiscale_attention_gan", {}, directory=tmp_path)
    with pytest.warns(UserWarning, match="SavedModel"):
        loaded, meta = load_generator("03_multiscale_attention_gan", directory=tmp_path)
    z = np.random.default_rng(1).normal(size=(3, LATENT)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(z)), keras.ops.convert_to_numpy(generator(z)), atol=1e-6
    )
    rebuilt, _ = load_generator(
        "03_multiscale_attention_gan", tmp_path, custom_objects={"HalfScale": HalfScale}
    )
    assert any(isinstance(layer, HalfScale) for layer in rebuilt.layers)


def test_missing_artifact_says_what_to_run(tmp_path):
    export_generator(tiny_generator(), "01_dcgan", {}, directory=tmp_path)
    with pytest.raises(FileNotFoundError) as error:
        load_generator("02_conditional_gan", directory=tmp_path)
    message = str(error.value)
    assert "notebook 02" in message and "make artifacts" in message, message
    assert "reference" in message, "a student without their own export learns of the reference"
    assert "01_dcgan" in message, "the message should list the artifacts that exist"


def test_bad_export_arguments_raise_value_errors(tmp_path):
    with pytest.raises(ValueError, match="folder name"):
        export_generator(tiny_generator(), "../escape", {}, directory=tmp_path)
    with pytest.raises(ValueError, match="latent_dim"):
        export_generator(tiny_generator(), "x", {"latent_dim": 5}, directory=tmp_path)
    with pytest.raises(ValueError, match="class_names"):
        export_generator(
            tiny_generator(3), "x", {"num_classes": 3, "class_names": ["a"]}, directory=tmp_path
        )


def _own_and_reference(tmp_path, monkeypatch):
    own, reference = tmp_path / "own", tmp_path / "reference"
    monkeypatch.setenv("MEDGANLAB_ARTIFACTS", str(own))
    monkeypatch.setenv("MEDGANLAB_REFERENCE_ARTIFACTS", str(reference))
    return own, reference


def test_reference_artifact_is_used_when_the_student_has_none(tmp_path, monkeypatch, capsys):
    own, reference = _own_and_reference(tmp_path, monkeypatch)
    export_generator(tiny_generator(), "02_conditional_gan", {}, directory=reference)
    _, meta = load_generator("02_conditional_gan")
    assert meta["source"] == "reference" and meta["folder"] == str(reference / "02_conditional_gan")
    assert "reference artifact" in capsys.readouterr().out
    export_generator(tiny_generator(), "02_conditional_gan", {"note": "mine"}, directory=own)
    _, meta = load_generator("02_conditional_gan")
    assert meta["source"] == "own" and meta["note"] == "mine", "the student's own export wins"


def test_missing_everywhere_names_both_places(tmp_path, monkeypatch):
    own, reference = _own_and_reference(tmp_path, monkeypatch)
    export_generator(tiny_generator(), "01_dcgan", {}, directory=reference)
    with pytest.raises(FileNotFoundError) as error:
        load_generator("03_multiscale_attention_gan")
    message = str(error.value)
    assert str(own) in message and str(reference) in message, message
    assert "MEDGANLAB_REFERENCE_ARTIFACTS" in message and "install_reference_artifacts" in message
    assert "01_dcgan" in message, "the message lists what the reference folder holds"


def test_pack_then_install_reference_artifacts(tmp_path, monkeypatch):
    own, reference = _own_and_reference(tmp_path, monkeypatch)
    generator = tiny_generator()
    export_generator(generator, "01_dcgan", {}, directory=own)
    (own / ".01_dcgan.partial").mkdir()  # an interrupted export is not packed
    (own / "07_pix2pix_ct_smoke_synthetic").mkdir()  # a data artifact with its manifest is
    (own / "07_pix2pix_ct_smoke_synthetic" / "manifest.json").write_text("{}")
    archive = pack_reference_artifacts(tmp_path / "ref.zip")
    assert install_reference_artifacts(archive) == ["01_dcgan", "07_pix2pix_ct_smoke_synthetic"]
    shutil.rmtree(own)
    loaded, meta = load_generator("01_dcgan")
    assert meta["source"] == "reference"
    z = np.random.default_rng(2).normal(size=(2, LATENT)).astype("float32")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(z)), keras.ops.convert_to_numpy(generator(z))
    )


def test_install_refuses_unsafe_or_foreign_zips(tmp_path, monkeypatch):
    _own_and_reference(tmp_path, monkeypatch)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../outside/generator.keras", b"x")
    with pytest.raises(ValueError, match="unsafe entry"):
        install_reference_artifacts(evil)
    assert not (tmp_path / "outside").exists()
    (tmp_path / "notes.txt").write_text("not a zip")
    with pytest.raises(ValueError, match="expected a zip"):
        install_reference_artifacts(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError, match="make artifacts"):
        pack_reference_artifacts(tmp_path / "x.zip", source=tmp_path / "empty")
