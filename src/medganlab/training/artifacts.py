"""Generators exported by one assignment and loaded by a later one.

``export_generator`` writes ``<artifacts_dir>/<name>/generator.keras``, ``metadata.json`` and a
TensorFlow SavedModel (``saved_model/``); ``load_generator`` reads them back, so notebook 04
can compare the generators of 02 and 03 without importing graded code. A generator with a
custom layer defined in a notebook (03's self-attention) cannot be rebuilt from the
``.keras`` file elsewhere without that code: ``load_generator`` then loads the SavedModel
(inference only) and says so.

Where ``load_generator`` looks: the student's own export first (``MEDGANLAB_ARTIFACTS``),
then the instructor's **reference artifacts** (``MEDGANLAB_REFERENCE_ARTIFACTS``), built once
with ``make artifacts`` and published read-only on the hub, or as a zip for Colab
(:func:`pack_reference_artifacts`, :func:`install_reference_artifacts`). A student who
skipped or failed notebook 02 or 03 can still do 04.
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

from medganlab.paths import artifacts_dir, reference_artifacts_dir

__all__ = [
    "export_generator",
    "load_generator",
    "artifact_path",
    "find_artifact",
    "pack_reference_artifacts",
    "install_reference_artifacts",
]

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
    return swap_into_place(staging, folder)


def swap_into_place(staging: Path, folder: Path) -> Path:
    """Replace ``folder`` by the finished ``staging`` folder (same parent) in two renames, so
    a reader sees the old artifact or the new one, never half of one."""
    old = folder.parent / f".{folder.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(staging, folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def _hint(name: str) -> str:
    match = re.match(r"^(\d\d)_", name)
    notebook = f"notebook {match.group(1)} ({name})" if match else "the notebook that exports it"
    return (
        f"Run {notebook} to the end to export your own, or use the course's reference "
        "artifacts: on the hub your instructor sets MEDGANLAB_REFERENCE_ARTIFACTS to a shared "
        "folder; on Colab run medganlab.training.install_reference_artifacts(<the zip's "
        "address from the course page>). Instructors build them with `make artifacts`."
    )


def _complete(folder: Path) -> bool:
    return (folder / _MODEL).is_file() and (folder / _META).is_file()


def _packable(folder: Path) -> bool:
    """An exported generator, or a data artifact with its manifest (07's synthetic set)."""
    return _complete(folder) or (folder / "manifest.json").is_file()


def find_artifact(name: str, directory: str | os.PathLike | None = None) -> tuple[Path, str]:
    """The folder of artifact ``name`` and where it came from (``"own"`` or ``"reference"``).

    With ``directory`` only that folder is searched; otherwise the student's own artifacts
    (``MEDGANLAB_ARTIFACTS``), then the instructor's reference artifacts
    (``MEDGANLAB_REFERENCE_ARTIFACTS``).

    Raises:
        FileNotFoundError: in none of those places; the message names each and what to do.
    """
    places = (
        [("own", artifact_path(name, directory))]
        if directory is not None
        else [
            ("own", artifact_path(name)),
            ("reference", artifact_path(name, reference_artifacts_dir())),
        ]
    )
    for source, folder in places:
        if _complete(folder):
            return folder, source
    looked = []
    for source, folder in places:
        found = sorted(p.name for p in folder.parent.glob("*") if _complete(p))
        looked.append(
            f"{'your artifacts' if source == 'own' else 'the reference artifacts'} "
            f"({folder.parent}: {', '.join(found) or 'none'})"
        )
    raise FileNotFoundError(
        f"no exported generator {name!r} (expected {_MODEL} and {_META}) in "
        + " or ".join(looked)
        + f". {_hint(name)}"
    )


def load_generator(
    name: str,
    directory: str | os.PathLike | None = None,
    custom_objects: dict[str, Any] | None = None,
) -> tuple[keras.Model, dict[str, Any]]:
    """Load the generator exported as ``name`` and its metadata.

    Looks in the student's own artifacts, then the reference artifacts (:func:`find_artifact`);
    ``meta["source"]`` says which (``"own"`` / ``"reference"``) and ``meta["folder"]`` where.

    Args:
        name: the artifact name given to :func:`export_generator`.
        directory: search only this folder (default: own, then reference artifacts).
        custom_objects: custom layers the generator uses, for ``keras.saving.load_model``.

    Raises:
        FileNotFoundError: no such artifact; the message says where it looked and what to do.
    """
    folder, source = find_artifact(name, directory)
    model_path = folder / _MODEL
    meta = json.loads((folder / _META).read_text())
    meta["source"], meta["folder"] = source, str(folder)
    if source == "reference":
        print(f"{name}: your own export was not found; using the reference artifact in {folder}")
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
            f"{name}: its Keras file needs a custom layer defined in the notebook that trained "
            "it (such as 03's SelfAttention), so its SavedModel export was loaded instead: it "
            "draws images as usual but cannot be trained further (expected in later notebooks)",
            stacklevel=2,
        )
        generator = _from_saved_model(folder / _SAVED_MODEL, meta)
    return generator, meta


def pack_reference_artifacts(
    out: str | os.PathLike, source: str | os.PathLike | None = None
) -> Path:
    """Zip every complete artifact of ``source`` (default: ``MEDGANLAB_ARTIFACTS``) to ``out``:
    exported generators and data artifacts with a manifest (07's synthetic set for 08).

    What an instructor publishes for Colab students after ``make artifacts``.

    Raises:
        FileNotFoundError: ``source`` holds no complete artifact.
    """
    import zipfile

    root = Path(source).expanduser() if source is not None else artifacts_dir()
    folders = sorted(p for p in root.glob("*") if p.is_dir() and _packable(p))
    if not folders:
        raise FileNotFoundError(
            f"no artifacts to pack in {root}: run `make artifacts` first (expected folders "
            f"holding {_MODEL} and {_META})"
        )
    out = Path(out).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder in folders:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(root).as_posix())
    os.replace(partial, out)
    return out


def install_reference_artifacts(
    source: str | os.PathLike, directory: str | os.PathLike | None = None
) -> list[str]:
    """Unpack a reference-artifacts zip (a path, or an https address on Colab); return names.

    Args:
        source: the zip made by :func:`pack_reference_artifacts` (``medganlab artifacts
            pack``), as a file path or an ``https://`` address.
        directory: where to unpack (default ``MEDGANLAB_REFERENCE_ARTIFACTS``).

    Raises:
        ValueError: not a zip of artifacts, or an entry would land outside ``directory``.
    """
    import tempfile
    import urllib.request
    import zipfile

    target = Path(directory).expanduser() if directory is not None else reference_artifacts_dir()
    text = str(source)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(text).expanduser()
        if text.startswith(("https://", "http://")):
            path = Path(scratch) / "reference_artifacts.zip"
            urllib.request.urlretrieve(text, path)  # noqa: S310 (the course's own address)
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{source}: expected a zip made by `medganlab artifacts pack`")
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            for entry in names:
                parts = Path(entry).parts
                if entry.startswith("/") or ".." in parts or not parts:
                    raise ValueError(f"{source}: unsafe entry {entry!r} in the zip; not unpacked")
            tops = sorted({Path(n).parts[0] for n in names})
            for top in tops:
                artifact_path(top)  # a plain artifact name, or ValueError
            staging = Path(scratch) / "unpacked"
            archive.extractall(staging)
        target.mkdir(parents=True, exist_ok=True)
        installed = []
        for top in tops:
            if _packable(staging / top):
                shutil.rmtree(target / top, ignore_errors=True)
                shutil.copytree(staging / top, target / top)
                installed.append(top)
    if not installed:
        raise ValueError(f"{source}: no complete artifact ({_MODEL} + {_META}) in the zip")
    return installed


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
