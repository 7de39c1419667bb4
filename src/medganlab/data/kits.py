"""KiTS19 reader and the kidney CT slice pipeline.

Reads a real KiTS19 folder (``case_XXXXX/imaging.nii.gz`` + ``segmentation.nii.gz``, arrays
(slices, H, W), as the KiTS19 repository ships them under ``data/``) and a generated phantom
folder (``case_XXXXX/dicom/*.dcm`` + ``labels.npy``) to the same arrays: HU float32 and
labels uint8 in {0 background, 1 kidney, 2 tumour}. On top: a patient-level split (never by
slice), slice arrays windowed to [-1, 1] (W400/L0 as the Pix2Pix paper), a tf.data pipeline
and geometric augmentation applied identically to image and mask.

TensorFlow is imported inside the functions that need it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from medganlab.data.dicom import read_ct_series, window

__all__ = [
    "LABELS",
    "case_dirs",
    "is_kits_layout",
    "is_nifti_layout",
    "kits_affine",
    "write_kits_case",
    "load_case",
    "load_labels",
    "check_labels",
    "dataset_info",
    "describe",
    "split_cases",
    "slice_arrays",
    "augment_pair",
    "make_dataset",
]

LABELS = {0: "background", 1: "kidney", 2: "tumour"}


# --------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------


def _case_root(root: Path) -> Path:
    """The folder holding ``case_*`` folders: ``root`` or ``root/data`` (KiTS19 repository)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"{root}: no such folder (expected a KiTS19 or generated kidney CT folder)"
        )
    if not any(root.glob("case_*")) and (root / "data").is_dir():
        return root / "data"
    return root


def case_dirs(root: Path) -> list[Path]:
    """Case folders (``case_XXXXX``) under ``root``, sorted by name."""
    base = _case_root(root)
    cases = sorted(p for p in base.glob("case_*") if p.is_dir())
    if not cases:
        raise FileNotFoundError(
            f"{base}: no case_XXXXX folders; expected a KiTS19 or generated kidney CT folder"
        )
    return cases


def _readable_case(case: Path) -> bool:
    return (case / "imaging.nii.gz").is_file() or (
        (case / "dicom").is_dir() and (case / "labels.npy").is_file()
    )


def is_kits_layout(root: Path) -> bool:
    """True when ``root`` (or ``root/data``) holds kidney CT cases this module reads.

    That is real KiTS19 (``case_*/imaging.nii.gz``) or a generated phantom folder
    (``case_*/dicom/`` + ``labels.npy``); :func:`is_nifti_layout` tells them apart.
    """
    try:
        return any(_readable_case(case) for case in case_dirs(root))
    except FileNotFoundError:
        return False


def is_nifti_layout(root: Path) -> bool:
    """True when the cases are stored as KiTS19 NIfTI files (``imaging.nii.gz``)."""
    try:
        return any((case / "imaging.nii.gz").is_file() for case in case_dirs(root))
    except FileNotFoundError:
        return False


# --------------------------------------------------------------------------------------
# NIfTI (KiTS19 layout)
# --------------------------------------------------------------------------------------


def kits_affine(spacing: Sequence[float], origin: Sequence[float] = (0.0, 0.0, 0.0)) -> np.ndarray:
    """The NIfTI affine of an array (slices, H, W) as KiTS19 stores it (RAS world axes).

    Axis 0 (slice, cranial -> caudal) maps to -S, axis 1 (row, anterior -> posterior) to -A,
    axis 2 (column, patient right -> left) to -R: ``[[0, 0, -dx, .], [0, -dy, 0, .],
    [-dz, 0, 0, .]]``. ``origin`` is the DICOM (LPS) position of voxel (0, 0, 0).
    """
    dz, dy, dx = (float(value) for value in spacing)
    x0, y0, z0 = (float(value) for value in origin)
    return np.array(
        [[0.0, 0.0, -dx, -x0], [0.0, -dy, 0.0, -y0], [-dz, 0.0, 0.0, z0], [0.0, 0.0, 0.0, 1.0]]
    )


def _save_nifti_gz(path: Path, array: np.ndarray, affine: np.ndarray) -> None:
    """Write a .nii.gz byte-identically for the same input (gzip mtime 0)."""
    import nibabel as nib

    image = nib.Nifti1Image(array, affine)
    image.header.set_xyzt_units("mm", "sec")
    path.write_bytes(gzip.compress(image.to_bytes(), compresslevel=6, mtime=0))


def write_kits_case(
    folder: Path,
    hu: np.ndarray,
    labels: np.ndarray,
    spacing: Sequence[float],
    origin: Sequence[float] = (0.0, 0.0, 0.0),
) -> tuple[Path, Path]:
    """Write ``imaging.nii.gz`` (int16 HU) and ``segmentation.nii.gz`` (uint8) as KiTS19.

    Args:
        folder: the case folder (``case_XXXXX``), created if needed.
        hu: HU volume (slices, H, W).
        labels: labels (slices, H, W) in {0, 1, 2}.
        spacing: (dz, dy, dx) in mm.
        origin: DICOM position (x, y, z) of voxel (0, 0, 0).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    labels = np.asarray(labels)
    check_labels(labels, folder / "segmentation.nii.gz")
    if np.shape(hu) != labels.shape:
        raise ValueError(
            f"{folder}: imaging shape {np.shape(hu)} differs from segmentation shape {labels.shape}"
        )
    affine = kits_affine(spacing, origin)
    imaging_path, segmentation_path = folder / "imaging.nii.gz", folder / "segmentation.nii.gz"
    _save_nifti_gz(imaging_path, np.asarray(hu).astype(np.int16), affine)
    _save_nifti_gz(segmentation_path, labels.astype(np.uint8), affine)
    return imaging_path, segmentation_path


def _read_nifti(path: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    import nibabel as nib

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such NIfTI file")
    try:
        image = nib.load(str(path))
        data = np.asarray(image.dataobj)
    except Exception as error:
        raise ValueError(
            f"{path}: corrupt or unreadable NIfTI file ({type(error).__name__}: {error})"
        ) from error
    if data.ndim != 3:
        raise ValueError(f"{path}: expected a 3-D volume (slices, H, W), found shape {data.shape}")
    zooms = tuple(float(z) for z in image.header.get_zooms()[:3])
    return data, zooms  # type: ignore[return-value]


def check_labels(labels: np.ndarray, source: Path | str) -> np.ndarray:
    """Return ``labels`` as uint8 after checking every value is 0, 1 or 2."""
    values = np.unique(labels)
    bad = [v for v in values.tolist() if v not in (0, 1, 2)]
    if bad:
        raise ValueError(
            f"{source}: labels must be 0 (background), 1 (kidney) or 2 (tumour); found {sorted(bad)[:10]}"
        )
    return np.asarray(labels).astype(np.uint8)


def load_labels(case: Path) -> np.ndarray | None:
    """Labels of a case (``segmentation.nii.gz`` or ``labels.npy``), None when it has none."""
    case = Path(case)
    if (case / "segmentation.nii.gz").is_file():
        data, _ = _read_nifti(case / "segmentation.nii.gz")
        return check_labels(data, case / "segmentation.nii.gz")
    if (case / "labels.npy").is_file():
        try:
            data = np.load(case / "labels.npy", allow_pickle=False)
        except Exception as error:
            raise ValueError(f"{case / 'labels.npy'}: unreadable label volume ({error})") from error
        return check_labels(data, case / "labels.npy")
    return None


def load_case(
    case: Path, require_labels: bool = True
) -> tuple[np.ndarray, np.ndarray | None, tuple[float, float, float]]:
    """Read one case of either layout.

    Args:
        case: a ``case_XXXXX`` folder (KiTS19 NIfTI or generated DICOM + labels.npy).
        require_labels: raise when the case has no segmentation (KiTS19 test cases).

    Returns:
        ``(hu, labels, spacing)``: HU float32 (slices, H, W), labels uint8 or None, (dz, dy, dx).
    """
    case = Path(case)
    if (case / "imaging.nii.gz").is_file():
        data, spacing = _read_nifti(case / "imaging.nii.gz")
        hu = data.astype(np.float32)
    elif (case / "dicom").is_dir():
        hu, spacing, _ = read_ct_series(case / "dicom")
    else:
        raise FileNotFoundError(
            f"{case}: expected imaging.nii.gz (KiTS19) or a dicom/ series folder"
        )
    labels = load_labels(case)
    if labels is None and require_labels:
        raise FileNotFoundError(f"{case}: no segmentation.nii.gz or labels.npy (unlabelled case)")
    if labels is not None and labels.shape != hu.shape:
        raise ValueError(
            f"{case}: labels shape {labels.shape} differs from imaging shape {hu.shape}"
        )
    return hu, labels, spacing


# --------------------------------------------------------------------------------------
# Summaries (``medganlab data info DIR``)
# --------------------------------------------------------------------------------------


def _case_slices(case: Path) -> int:
    if (case / "imaging.nii.gz").is_file():
        import nibabel as nib

        return int(nib.load(str(case / "imaging.nii.gz")).shape[0])
    return len([p for p in (case / "dicom").glob("*.dcm")])


def dataset_info(root: Path) -> dict[str, Any]:
    """Cases, slices and label voxel counts of a KiTS19 or generated folder (no imaging read)."""
    cases = case_dirs(root)
    counts = {name: 0 for name in LABELS.values()}
    slices = labelled_slices = with_tumour = unlabelled = 0
    for case in cases:
        slices += _case_slices(case)
        labels = load_labels(case)
        if labels is None:
            unlabelled += 1
            continue
        values = np.bincount(labels.ravel(), minlength=3)
        for value, name in LABELS.items():
            counts[name] += int(values[value])
        labelled_slices += int(np.any(labels > 0, axis=(1, 2)).sum())
        with_tumour += int(values[2] > 0)
    return {
        "root": str(Path(root)),
        "layout": "nifti" if is_nifti_layout(root) else "dicom",
        "generated": _is_generated(root),
        "cases": len(cases),
        "unlabelled_cases": unlabelled,
        "cases_with_tumour": with_tumour,
        "slices": slices,
        "slices_with_kidney_or_tumour": labelled_slices,
        "label_voxels": counts,
    }


def _is_generated(root: Path) -> bool:
    """True when ``root`` carries the manifest of a generated kidney CT phantom."""
    from medganlab.data.manifest import read_manifest

    manifest = read_manifest(Path(root))
    return bool(manifest and manifest.get("kind") == "kidney_ct_phantom")


def describe(root: Path) -> str:
    """A short human-readable summary of :func:`dataset_info`."""
    info = dataset_info(root)
    voxels = info["label_voxels"]
    total = max(1, sum(voxels.values()))
    lines = [
        f"{info['root']} ({'generated kidney CT phantom' if info['generated'] else 'KiTS19-style folder'}, "
        f"{'NIfTI imaging.nii.gz' if info['layout'] == 'nifti' else 'DICOM series + labels.npy'})",
        f"  cases: {info['cases']} ({info['cases_with_tumour']} with tumour, {info['unlabelled_cases']} unlabelled)",
        f"  slices: {info['slices']} ({info['slices_with_kidney_or_tumour']} with kidney or tumour)",
        "  label voxels: "
        + ", ".join(
            f"{value} {name} {voxels[name]:,} ({100 * voxels[name] / total:.2f} %)"
            for value, name in LABELS.items()
        ),
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Split and slices
# --------------------------------------------------------------------------------------


def split_cases(
    case_ids: Sequence[str], fractions: Sequence[float] = (0.7, 0.2, 0.1), seed: int = 0
) -> dict[str, list[str]]:
    """Split patients (never slices) into train / val / test.

    Args:
        case_ids: patient (case) identifiers, unique.
        fractions: train, val, test fractions summing to 1.
        seed: shuffle seed.

    Returns:
        ``{"train": [...], "val": [...], "test": [...]}``, each sorted; together all cases.
    """
    ids = list(case_ids)
    if len(set(ids)) != len(ids):
        raise ValueError(
            f"case_ids must be unique patients, found {len(ids) - len(set(ids))} duplicate(s)"
        )
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(
            f"fractions must be three non-negative numbers summing to 1, got {tuple(fractions)}"
        )
    order = np.random.default_rng(seed).permutation(len(ids))
    n_train = int(round(fractions[0] * len(ids)))
    n_val = int(round(fractions[1] * len(ids)))
    n_val = min(n_val, len(ids) - n_train)
    shuffled = [ids[i] for i in order]
    return {
        "train": sorted(shuffled[:n_train]),
        "val": sorted(shuffled[n_train : n_train + n_val]),
        "test": sorted(shuffled[n_train + n_val :]),
    }


def _resize(image: np.ndarray, size: int, order: int) -> np.ndarray:
    if image.shape == (size, size):
        return image
    factors = (size / image.shape[0], size / image.shape[1])
    return ndimage.zoom(image, factors, order=order, mode="nearest", grid_mode=True)


def slice_arrays(
    root: Path,
    case_ids: Iterable[str] | None = None,
    size: int | None = None,
    only_labelled: bool = True,
    center: float = 0.0,
    width: float = 400.0,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Axial slices of some cases as arrays ready for a network.

    Args:
        root: KiTS19 or generated folder.
        case_ids: case folder names (default: every labelled case).
        size: output size (bilinear for images, nearest for masks); default: unchanged.
        only_labelled: keep only slices containing kidney or tumour (as the paper), judged
            after resizing.
        center, width: the HU window (W400/L0 -> [-1, 1]).

    Returns:
        ``(images, masks, case_of_slice)``: float32 (N, S, S, 1) in [-1, 1], uint8
        (N, S, S, 1) in {0, 1, 2}, and the case name of every slice.
    """
    folders = {case.name: case for case in case_dirs(root)}
    names = sorted(folders) if case_ids is None else list(case_ids)
    images, masks, owners = [], [], []
    for name in names:
        if name not in folders:
            raise FileNotFoundError(f"{_case_root(root)}: no case folder {name}")
        hu, labels, _ = load_case(folders[name])
        assert labels is not None
        keep = (
            np.flatnonzero(np.any(labels > 0, axis=(1, 2)))
            if only_labelled
            else np.arange(len(labels))
        )
        for index in keep:
            image = window(hu[index], center, width)
            mask = labels[index]
            if size is not None:
                image = np.clip(_resize(image, size, 1), -1.0, 1.0)
                mask = _resize(mask, size, 0)
                if only_labelled and not mask.any():  # a sliver lost in resizing
                    continue
            images.append(image.astype(np.float32))
            masks.append(mask.astype(np.uint8))
            owners.append(name)
    if not images:
        side = size or 0
        return np.zeros((0, side, side, 1), np.float32), np.zeros((0, side, side, 1), np.uint8), []
    return np.stack(images)[..., None], np.stack(masks)[..., None], owners


# --------------------------------------------------------------------------------------
# tf.data and augmentation
# --------------------------------------------------------------------------------------


def _inverse_affine(angle: Any, zoom: Any, shift: Any, flip: Any, height: int, width: int) -> Any:
    """The 8-parameter projective transform mapping output pixels to input pixels."""
    import tensorflow as tf

    centre = tf.constant([(width - 1) / 2.0, (height - 1) / 2.0])
    cos, sin = tf.cos(angle), tf.sin(angle)
    sign = tf.where(flip, -1.0, 1.0)
    # forward: p_out = zoom * R * F * (p_in - c) + c + shift
    forward = zoom * tf.stack([tf.stack([cos * sign, -sin]), tf.stack([sin * sign, cos])])
    inverse = tf.linalg.inv(forward)
    offset = centre - tf.linalg.matvec(inverse, centre + shift)
    return tf.stack(
        [inverse[0, 0], inverse[0, 1], offset[0], inverse[1, 0], inverse[1, 1], offset[1], 0.0, 0.0]
    )


def augment_pair(
    image: Any,
    mask: Any,
    seed: Any,
    rotation_deg: float = 15.0,
    translation: float = 0.1,
    zoom: float = 0.1,
    flip: bool = True,
) -> tuple[Any, Any]:
    """Apply one random rotation, translation, zoom and flip to an image and its mask.

    The same transform moves both; the image is resampled bilinearly (fill -1, air), the
    mask by nearest neighbour (fill 0), so mask values stay in {0, 1, 2}.

    Args:
        image: float32 (H, W, 1) in [-1, 1].
        mask: integer (H, W, 1) labels.
        seed: stateless seed, int32/int64 tensor of shape (2,).
        rotation_deg: maximum rotation in degrees (either way).
        translation: maximum shift as a fraction of the size.
        zoom: maximum relative zoom in or out.
        flip: flip left-right with probability 0.5.
    """
    import tensorflow as tf

    image = tf.convert_to_tensor(image, tf.float32)
    height, width = int(image.shape[0]), int(image.shape[1])
    values = tf.random.stateless_uniform([5], seed=seed, minval=-1.0, maxval=1.0)
    angle = values[0] * (rotation_deg * np.pi / 180.0)
    scale = 1.0 + values[1] * zoom
    shift = values[2:4] * translation * tf.constant([width, height], tf.float32)
    flipped = tf.logical_and(tf.constant(flip), values[4] > 0.0)
    transform = _inverse_affine(angle, scale, shift, flipped, height, width)[None, :]

    def warp(array: Any, interpolation: str, fill: float) -> Any:
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=array[None, ...],
            transforms=transform,
            output_shape=tf.constant([height, width], tf.int32),
            fill_value=tf.constant(fill, tf.float32),
            interpolation=interpolation,
            fill_mode="CONSTANT",
        )[0]

    warped_image = warp(image, "BILINEAR", -1.0)
    mask_dtype = tf.as_dtype(mask.dtype) if hasattr(mask, "dtype") else tf.uint8
    warped_mask = warp(tf.cast(mask, tf.float32), "NEAREST", 0.0)
    return warped_image, tf.cast(tf.round(warped_mask), mask_dtype)


def make_dataset(
    images: np.ndarray,
    masks: np.ndarray,
    batch_size: int = 8,
    shuffle: bool = True,
    augment: bool = False,
    seed: int = 0,
    **augment_options: Any,
) -> Any:
    """A tf.data pipeline of (image, mask) batches, optionally augmented on the fly.

    Args:
        images: float32 (N, H, W, 1) in [-1, 1] (see :func:`slice_arrays`).
        masks: uint8 (N, H, W, 1) in {0, 1, 2}.
        batch_size: batch size.
        shuffle: reshuffle every epoch (seeded).
        augment: apply :func:`augment_pair` (new random transform every epoch).
        seed: seed of shuffling and augmentation.
        **augment_options: passed to :func:`augment_pair` (rotation_deg, translation, zoom, flip).
    """
    import tensorflow as tf

    if len(images) != len(masks):
        raise ValueError(
            f"images and masks must have the same length, got {len(images)} and {len(masks)}"
        )
    if len(images) and (images.ndim != 4 or masks.shape != images.shape):
        raise ValueError(
            f"expected images and masks of shape (N, H, W, 1), got {images.shape} and {masks.shape}"
        )
    dataset = tf.data.Dataset.from_tensor_slices(
        (images.astype(np.float32), masks.astype(np.uint8))
    )
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if augment:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip((dataset, seeds)).map(
            lambda pair, pair_seed: augment_pair(pair[0], pair[1], pair_seed, **augment_options),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def read_case_meta(case: Path) -> dict[str, Any]:
    """The ``case.json`` of a generated case ({} for a real KiTS19 case)."""
    path = Path(case) / "case.json"
    return json.loads(path.read_text()) if path.is_file() else {}
