"""CT DICOM I/O: write and read axial CT series in Hounsfield units.

Geometry follows DICOM's patient (LPS) axes: ``x`` to the patient's left, ``y`` posterior,
``z`` superior. A volume's axis 0 runs cranial -> caudal (slice 0 is the highest), as in
the course's KiTS19 arrays; ``read_ct_series`` sorts files by their position along the
slice normal whatever their names or order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medganlab.data.dicom.core import (
    STUDY_DATE,
    STUDY_TIME,
    decimal_string,
    deterministic_uid,
    file_meta,
    first_value,
    read_dataset,
)

__all__ = [
    "CT_IMAGE_STORAGE",
    "RESCALE_INTERCEPT",
    "write_ct_series",
    "read_ct_slice",
    "read_ct_series",
    "dicom_files",
]

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
RESCALE_INTERCEPT = -1024.0
_SPACING_TOLERANCE = 0.05  # relative tolerance on slice spacing


def write_ct_series(
    folder: Path,
    hu_volume: np.ndarray,
    spacing: Sequence[float],
    *,
    patient_id: str,
    uid_seed: str | int,
    origin: Sequence[float] | None = None,
    description: str = "MedGAN Lab kidney CT phantom",
) -> list[Path]:
    """Write a HU volume as a CT Image Storage series, one file per slice.

    Args:
        folder: output folder (created); files are ``IM_0001.dcm``, ``IM_0002.dcm``...
        hu_volume: HU values, shape (slices, rows, columns), slice 0 the most cranial.
        spacing: voxel size (dz, dy, dx) in mm; slices are contiguous (thickness = dz).
        patient_id: PatientID and PatientName.
        uid_seed: seed of the Study/Series/FrameOfReference/SOP UIDs (same seed, same UIDs).
        origin: (x, y, z) in mm of the first voxel of slice 0 (default: centred at 0).
        description: SeriesDescription.

    Returns:
        The written paths, in slice order.
    """
    from pydicom.dataset import Dataset

    volume = np.asarray(hu_volume)
    if volume.ndim != 3:
        raise ValueError(f"hu_volume must be 3-D (slices, rows, columns), got shape {volume.shape}")
    dz, dy, dx = (float(value) for value in spacing)
    if min(dz, dy, dx) <= 0:
        raise ValueError(f"spacing must be positive (dz, dy, dx) in mm, got {tuple(spacing)}")
    slices, rows, columns = volume.shape
    if origin is None:
        origin = (-(columns - 1) / 2 * dx, -(rows - 1) / 2 * dy, (slices - 1) / 2 * dz)
    x0, y0, z0 = (float(value) for value in origin)
    stored = np.clip(np.rint(volume.astype(np.float64) - RESCALE_INTERCEPT), 0, 4095).astype("<u2")
    study, series, frame = (
        deterministic_uid(uid_seed, role) for role in ("study", "series", "frame")
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(slices):
        sop = deterministic_uid(uid_seed, "sop", index)
        meta = file_meta(CT_IMAGE_STORAGE, sop)
        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
        ds.SOPClassUID = CT_IMAGE_STORAGE
        ds.SOPInstanceUID = sop
        ds.StudyDate = ds.SeriesDate = ds.ContentDate = STUDY_DATE
        ds.StudyTime = ds.SeriesTime = ds.ContentTime = STUDY_TIME
        ds.AccessionNumber = ""
        ds.Modality = "CT"
        ds.Manufacturer = "MedGAN Lab phantom"
        ds.ReferringPhysicianName = ""
        ds.StudyDescription = "Abdomen arterial phase (synthetic)"
        ds.SeriesDescription = description
        ds.PatientName = patient_id
        ds.PatientID = patient_id
        ds.PatientBirthDate = ""
        ds.PatientSex = "O"
        ds.BodyPartExamined = "ABDOMEN"
        ds.SliceThickness = decimal_string(dz)
        ds.KVP = "120"
        ds.PatientPosition = "FFS"
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.StudyID = "1"
        ds.SeriesNumber = 1
        ds.InstanceNumber = index + 1
        z = z0 - index * dz
        ds.ImagePositionPatient = [decimal_string(x0), decimal_string(y0), decimal_string(z)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.FrameOfReferenceUID = frame
        ds.PositionReferenceIndicator = ""
        ds.SliceLocation = decimal_string(z)
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = rows, columns
        ds.PixelSpacing = [decimal_string(dy), decimal_string(dx)]
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
        ds.PixelRepresentation = 0
        ds.WindowCenter, ds.WindowWidth = "0", "400"
        ds.RescaleIntercept, ds.RescaleSlope = decimal_string(RESCALE_INTERCEPT), "1"
        ds.RescaleType = "HU"
        ds.PixelData = stored[index].tobytes()
        path = folder / f"IM_{index + 1:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def _require(ds: Any, path: Path, *keywords: str) -> None:
    missing = [keyword for keyword in keywords if keyword not in ds]
    if missing:
        raise ValueError(
            f"{path}: missing DICOM attribute(s) {', '.join(missing)} (truncated file, or not an image)"
        )


def _expected_pixel_bytes(ds: Any) -> int:
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    return (
        int(ds.Rows)
        * int(ds.Columns)
        * int(ds.SamplesPerPixel)
        * (int(ds.BitsAllocated) // 8)
        * frames
    )


def _pixels_hu(ds: Any, path: Path) -> np.ndarray:
    """Stored pixels -> HU (float32), with the pixel data length checked first."""
    _require(ds, path, "PixelData", "Rows", "Columns", "BitsAllocated")
    if "SamplesPerPixel" not in ds:
        ds.SamplesPerPixel = 1
    if not ds.file_meta.TransferSyntaxUID.is_compressed:
        expected, found = _expected_pixel_bytes(ds), len(ds.PixelData)
        if found not in (expected, expected + 1):  # odd lengths are padded to even
            raise ValueError(
                f"{path}: pixel data has {found} bytes, expected {expected} "
                f"({ds.Rows}x{ds.Columns}, {ds.BitsAllocated}-bit); the file is truncated or inconsistent"
            )
    try:
        pixels = ds.pixel_array
    except Exception as error:
        raise ValueError(
            f"{path}: cannot decode pixel data ({type(error).__name__}: {error})"
        ) from error
    if pixels.ndim != 2:
        raise ValueError(
            f"{path}: expected a single-frame greyscale CT image, got pixel array shape {pixels.shape}"
        )
    slope = float(getattr(ds, "RescaleSlope", 1.0) or 1.0)
    intercept = float(getattr(ds, "RescaleIntercept", 0.0) or 0.0)
    return (pixels.astype(np.float32) * np.float32(slope) + np.float32(intercept)).astype(
        np.float32
    )


def _slice_meta(ds: Any, path: Path) -> dict[str, Any]:
    def floats(keyword: str) -> list[float] | None:
        value = getattr(ds, keyword, None)
        return [float(v) for v in value] if value is not None else None

    return {
        "path": str(path),
        "modality": str(getattr(ds, "Modality", "")),
        "sop_instance_uid": str(getattr(ds, "SOPInstanceUID", "")),
        "series_instance_uid": str(getattr(ds, "SeriesInstanceUID", "")),
        "study_instance_uid": str(getattr(ds, "StudyInstanceUID", "")),
        "patient_id": str(getattr(ds, "PatientID", "")),
        "instance_number": int(ds.InstanceNumber)
        if "InstanceNumber" in ds and ds.InstanceNumber is not None
        else None,
        "image_position": floats("ImagePositionPatient"),
        "image_orientation": floats("ImageOrientationPatient"),
        "pixel_spacing": floats("PixelSpacing"),
        "slice_thickness": float(ds.SliceThickness)
        if getattr(ds, "SliceThickness", None) not in (None, "")
        else None,
        "window_center": first_value(getattr(ds, "WindowCenter", None)),
        "window_width": first_value(getattr(ds, "WindowWidth", None)),
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
    }


def read_ct_slice(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Read one CT DICOM file as HU.

    Args:
        path: a DICOM file of Modality CT.

    Returns:
        ``(hu, meta)``: HU image float32 (rows, columns) and a dict of geometry and UIDs.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: not DICOM, corrupt or truncated, not CT, or pixel data of the wrong length.
    """
    path = Path(path)
    ds = read_dataset(path)
    _require(ds, path, "Modality")
    modality = str(ds.Modality)
    if modality != "CT":
        raise ValueError(f"{path}: expected Modality CT, found {modality or 'none'}")
    hu = _pixels_hu(ds, path)
    return hu, _slice_meta(ds, path)


def _slice_normal(orientation: list[float]) -> np.ndarray:
    row, column = np.array(orientation[:3]), np.array(orientation[3:])
    return np.cross(row, column)


def dicom_files(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder (expected a DICOM CT series)")
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in (".dcm", "")
    )
    if not files:
        raise FileNotFoundError(f"{folder}: no DICOM files (*.dcm) found")
    return files


def read_ct_series(folder: Path) -> tuple[np.ndarray, tuple[float, float, float], dict[str, Any]]:
    """Read a CT series folder into a HU volume sorted along the slice normal.

    The files may have any names and order: slices are sorted by ImagePositionPatient
    projected on the slice normal, highest (cranial) first. The geometry is checked: one
    SeriesInstanceUID, one ImageOrientationPatient, one pixel spacing and matrix, and evenly
    spaced slices (a missing slice is reported with the files around the gap).

    Args:
        folder: folder of ``*.dcm`` files (or extension-less files) of one series.

    Returns:
        ``(hu, spacing, meta)``: HU float32 (slices, rows, columns), (dz, dy, dx) in mm, and
        a dict with the UIDs, origin, orientation and the sorted file paths.
    """
    files = dicom_files(folder)
    slices = []
    for path in files:
        hu, meta = read_ct_slice(path)
        for keyword, key in (
            ("ImagePositionPatient", "image_position"),
            ("ImageOrientationPatient", "image_orientation"),
            ("PixelSpacing", "pixel_spacing"),
        ):
            if meta[key] is None:
                raise ValueError(f"{path}: missing {keyword}; cannot place the slice in the series")
        slices.append((hu, meta))
    first = slices[0][1]
    for hu, meta in slices[1:]:
        _check_same(
            first,
            meta,
            "series_instance_uid",
            "SeriesInstanceUID",
            "two series are mixed in one folder",
        )
        if not np.allclose(meta["image_orientation"], first["image_orientation"], atol=1e-4):
            raise ValueError(
                f"{meta['path']}: ImageOrientationPatient {meta['image_orientation']} differs from "
                f"{first['image_orientation']} in {first['path']}; expected one orientation per series"
            )
        if not np.allclose(meta["pixel_spacing"], first["pixel_spacing"], rtol=1e-4):
            raise ValueError(
                f"{meta['path']}: PixelSpacing {meta['pixel_spacing']} differs from {first['pixel_spacing']} in {first['path']}"
            )
        if hu.shape != slices[0][0].shape:
            raise ValueError(
                f"{meta['path']}: matrix {hu.shape} differs from {slices[0][0].shape} in {first['path']}"
            )
    normal = _slice_normal(first["image_orientation"])
    positions = np.array([float(np.dot(meta["image_position"], normal)) for _, meta in slices])
    order = np.argsort(-positions, kind="stable")
    slices = [slices[i] for i in order]
    positions = positions[order]
    dz = _check_spacing(positions, [meta["path"] for _, meta in slices], first)
    volume = np.stack([hu for hu, _ in slices]).astype(np.float32)
    dy, dx = first["pixel_spacing"]
    info = {
        "series_instance_uid": first["series_instance_uid"],
        "study_instance_uid": first["study_instance_uid"],
        "patient_id": first["patient_id"],
        "origin": slices[0][1]["image_position"],
        "orientation": first["image_orientation"],
        "files": [meta["path"] for _, meta in slices],
        "window_center": first["window_center"],
        "window_width": first["window_width"],
    }
    return volume, (float(dz), float(dy), float(dx)), info


def _check_same(
    first: dict[str, Any], meta: dict[str, Any], key: str, keyword: str, problem: str
) -> None:
    if meta[key] != first[key]:
        raise ValueError(
            f"{meta['path']}: {keyword} {meta[key]} differs from {first[key]} in {first['path']}: {problem}"
        )


def _check_spacing(positions: np.ndarray, paths: list[str], first: dict[str, Any]) -> float:
    """Return the slice spacing; raise on duplicates or gaps (a missing slice)."""
    if len(positions) == 1:
        return float(first["slice_thickness"] or 1.0)
    gaps = -np.diff(positions)
    if np.any(gaps < 1e-3):
        index = int(np.argmin(gaps))
        raise ValueError(
            f"{paths[index + 1]}: same slice position as {paths[index]} ({positions[index]:.3f} mm); duplicate slice"
        )
    spacing = float(np.median(gaps))
    bad = np.flatnonzero(np.abs(gaps - spacing) > _SPACING_TOLERANCE * spacing)
    if bad.size:
        index = int(bad[0])
        missing = int(round(gaps[index] / spacing)) - 1
        hint = f"{missing} missing slice(s)" if missing >= 1 else "uneven spacing"
        raise ValueError(
            f"{paths[index + 1]}: gap of {gaps[index]:.3f} mm after {paths[index]}, expected {spacing:.3f} mm "
            f"between slices ({hint})"
        )
    return spacing
