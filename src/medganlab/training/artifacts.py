"""Generators exported by one assignment and loaded by a later one.

``export_generator`` writes ``<artifacts_dir>/<name>/generator.keras``, ``metadata.json`` and a
TensorFlow SavedModel (``saved_model/``); ``load_generator`` reads them back, so notebook 04
can compare the generators of 02 and 03 without importing graded code. A generator with a
custom layer defined in a notebook (03's self-attention) cannot be rebuilt from the
``.keras`` file elsewhere without that code: ``load_generator`` then loads the SavedModel
(inference only) and says so. The reference artifacts come from ``make artifacts``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import keras

from medganlab.paths import artifacts_dir

__all__ = ["export_generator", "load_generator", "artifact_path"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_MODEL = "generator.keras"
_META = "metadata.json"
_SAVED_MODEL = "saved_model"


def artifact_path(name: str, directory: str | os.PathLike | None = None) -> Path:
    """Folder of the artifact ``name`` (``<artifacts_dir>/<name>``).

    Raises:
        ValueError: ``name`` is not a plain folder name.
    """
    if not isinstance(name, str) or not _NAME.match(name) or name in {".", ".."}:
        raise ValueError(
            f"artifact name: expected a folder name such as '01_dcgan' (letters, digits, "
            f"'_', '-', '.'), got {name!r}"
        )
    root = Path(directory).expanduser() if directory is not None else artifacts_dir()
    return root / name


def _shape(value) -> tuple:
    shape = value[0] if isinstance(value, list) else value
    return tuple(shape)


def export_generator(
    generator: keras.Model,
    name: str,
    metadata: dict[str, Any],
    directory: str | os.PathLike | None = None,
    saved_model: bool = True,
) -> Path:
    """Save ``generator`` and what a later notebook needs to use it.

    ``metadata.json`` holds ``latent_dim``, ``num_classes``, ``class_names``, ``image_size``,
    ``profile``, ``created_by`` (the assignment), ``keras_version`` and ``created_at``; the
    values in ``metadata`` win, the rest is read from the model and the environment.

    Args:
        generator: the trained generator (a functional or Sequential model).
        name: artifact name, e.g. the assignment folder ``"02_conditional_gan"``.
        metadata: at least ``latent_dim`` for a conditional generator; any JSON values.
        directory: the artifacts folder (default :func:`medganlab.paths.artifacts_dir`).
        saved_model: also export a TensorFlow SavedModel, loadable without the model's code.

    Returns:
        The artifact folder.
    """
    if not isinstance(generator, keras.Model):
        raise ValueError(
            f"export_generator: expected a keras.Model, got {type(generator).__name__}"
        )
    if not isinstance(metadata, dict):
        raise ValueError(f"metadata: expected a dict, got {type(metadata).__name__}")
    folder = artifact_path(name, directory)
    # One input concat(z, c) or separate inputs [z, c]: either way the widths add up.
    input_shapes = (
        generator.input_shape
        if isinstance(generator.input_shape, list)
        else [generator.input_shape]
    )
    widths = [tuple(shape)[-1] for shape in input_shapes]
    input_width = None if None in widths else sum(widths)
    output_shape = _shape(generator.output_shape)
    num_classes = metadata.get("num_classes")
    class_names = metadata.get("class_names")
    if num_classes is None and class_names is not None:
        num_classes = len(class_names)
    latent_dim = metadata.get("latent_dim", (input_width or 0) - (num_classes or 0))
    if input_width is not None and latent_dim + (num_classes or 0) != input_width:
        raise ValueError(
            f"metadata: the generator takes {input_width} inputs, expected latent_dim "
            f"+ num_classes = {latent_dim} + {num_classes or 0} to match"
        )
    if class_names is not None and len(class_names) != num_classes:
        raise ValueError(
            f"class_names: expected {num_classes} names, got {len(class_names)}: {class_names}"
        )
    profile = metadata.get("profile")
    if profile is None:
        from medganlab.profiles import active_profile

        profile = active_profile()
    meta = {
        "name": name,
        "latent_dim": int(latent_dim),
        "num_classes": num_classes,
        "class_names": list(class_names) if class_names is not None else None,
        "image_size": metadata.get("image_size", output_shape[1]),
        "channels": output_shape[-1],
        "profile": profile,
        "created_by": metadata.get("created_by", name),
        "keras_version": keras.__version__,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    meta.update({k: v for k, v in metadata.items() if k not in meta})  # extra keys
    text = json.dumps(meta, indent=1, default=str) + "\n"

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    generator.save(staging / _MODEL)
    if saved_model:
        generator.export(staging / _SAVED_MODEL, format="tf_saved_model", verbose=False)
    (staging / _META).write_text(text)
    old = folder.parent / f".{name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(staging, folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def _hint(name: str) -> str:
    match = re.match(r"^(\d\d)_", name)
    notebook = f"notebook {match.group(1)} ({name})" if match else "the notebook that exports it"
    return f"run {notebook} to the end, or `make artifacts` for the reference artifacts"


def load_generator(
    name: str,
    directory: str | os.PathLike | None = None,
    custom_objects: dict[str, Any] | None = None,
) -> tuple[keras.Model, dict[str, Any]]:
    """Load the generator exported as ``name`` and its metadata.

    Args:
        name: the artifact name given to :func:`export_generator`.
        directory: the artifacts folder (default :func:`medganlab.paths.artifacts_dir`).
        custom_objects: custom layers the generator uses, for ``keras.saving.load_model``.

    Raises:
        FileNotFoundError: no such artifact; the message says what to run.
    """
    folder = artifact_path(name, directory)
    model_path, meta_path = folder / _MODEL, folder / _META
    if not model_path.is_file() or not meta_path.is_file():
        found = sorted(p.name for p in folder.parent.glob("*") if (p / _MODEL).is_file())
        raise FileNotFoundError(
            f"no exported generator {name!r}: expected {model_path} and {meta_path}. "
            f"{_hint(name)[0].upper()}{_hint(name)[1:]}. "
            f"Artifacts found in {folder.parent}: {', '.join(found) or 'none'}."
        )
    meta = json.loads(meta_path.read_text())
    try:
        generator = keras.saving.load_model(
            model_path, custom_objects=custom_objects, compile=False
        )
    except (TypeError, ValueError) as error:
        if not (folder / _SAVED_MODEL).is_dir():
            raise ValueError(
                f"cannot rebuild the generator of {model_path}: {error}. Pass its custom "
                "layers as custom_objects={'Name': Class}, or export it again with "
                "saved_model=True."
            ) from error
        warnings.warn(
            f"could not rebuild {model_path} (a custom layer without its code?); loaded the "
            "SavedModel export instead: it generates images but cannot be trained further",
            stacklevel=2,
        )
        generator = _from_saved_model(folder / _SAVED_MODEL, meta)
    return generator, meta


def _from_saved_model(path: Path, meta: dict[str, Any]) -> keras.Model:
    """Wrap a SavedModel export; its signature is float32 whatever the active dtype policy.

    Under ``mixed_float16``/``mixed_bfloat16`` a Keras input and layer would otherwise be cast
    to the compute dtype and fail to bind to the float32 signature.
    """
    inputs = keras.Input((meta["latent_dim"] + (meta.get("num_classes") or 0),), dtype="float32")
    layer = keras.layers.TFSMLayer(
        str(path), call_endpoint="serve", name="saved_generator", dtype="float32"
    )
    return keras.Model(inputs, layer(inputs), name=f"{meta.get('name', 'generator')}_savedmodel")
