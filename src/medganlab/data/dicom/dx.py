"""DICOM chest radiographs: write DX (for presentation), read DX and CR, render to PNG.

Writing produces Digital X-Ray Image Storage - For Presentation
(1.2.840.10008.5.1.4.1.1.1.1), MONOCHROME2, with PixelSpacing and a complete file meta,
saved with ``enforce_file_format=True``; UIDs are derived from a seed so files are
byte-identical between runs. Reading accepts DX and CR, uncompressed or compressed pixel
data (JPEG baseline/lossless via pylibjpeg or Pillow), inverts MONOCHROME1 so bone is
always bright, and applies the modality rescale. Course use: assignment 00 (DICOM tour).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from medganlab.data.dicom.core import (
    STUDY_DATE,
    STUDY_TIME,
    deterministic_uid,
    file_meta,
    file_window,
    read_dataset,
    to_uint8,
)

__all__ = [
    "DX_PRESENTATION_STORAGE",
    "CR_STORAGE",
    "write_dx",
    "read_dx",
    "render_dx_png",
]

DX_PRESENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.1.1"
DX_PROCESSING_STORAGE = "1.2.840.10008.5.1.4.1.1.1.1.1"
CR_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
_READABLE = {DX_PRESENTATION_STORAGE, DX_PROCESSING_STORAGE, CR_STORAGE}
_MODALITIES = {"DX", "CR"}


def write_dx(
    path: Path,
    image: np.ndarray,
    pixel_spacing_mm: float,
    *,
    patient_id: str = "00000000",
    patient_sex: str = "O",
    patient_age: int | None = None,
    uid_seed: int | str = 0,
    description: str = "MedGAN Lab chest X-ray phantom (PA)",
) -> Path:
    """Write a 2-D grayscale radiograph as a DX For Presentation DICOM file.

    Args:
        path: Output ``.dcm`` file (parent folders are created).
        image: uint8 or uint16 array (rows, columns), MONOCHROME2 (bone bright).
        pixel_spacing_mm: Detector pixel spacing in millimetres (square pixels).
        patient_id, patient_sex, patient_age: Patient module values.
        uid_seed: Seed of the Study/Series/SOP Instance UIDs (same seed, same UIDs).
        description: SeriesDescription.

    Returns:
        ``path``.
    """
    import pydicom

    image = np.asarray(image)
    if image.ndim != 2 or image.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"expected a 2-D uint8 or uint16 image, got shape {image.shape} dtype {image.dtype}"
        )
    if not pixel_spacing_mm > 0:
        raise ValueError(f"pixel_spacing_mm must be > 0, got {pixel_spacing_mm}")
    bits = 8 if image.dtype == np.uint8 else 16
    sop_uid = deterministic_uid("dx-sop", uid_seed)
    meta = file_meta(DX_PRESENTATION_STORAGE, sop_uid)
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = DX_PRESENTATION_STORAGE
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = deterministic_uid("dx-study", uid_seed)
    ds.SeriesInstanceUID = deterministic_uid("dx-series", uid_seed)
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = STUDY_DATE
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = STUDY_TIME
    ds.AccessionNumber = ""
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.Modality = "DX"
    ds.Manufacturer = "MedGAN Lab phantom"
    ds.ReferringPhysicianName = ""
    ds.PatientName = f"Phantom^{patient_id}"
    ds.PatientID = str(patient_id)
    ds.PatientBirthDate = ""
    ds.PatientSex = patient_sex if patient_sex in ("M", "F", "O") else "O"
    if patient_age is not None:
        ds.PatientAge = f"{int(patient_age):03d}Y"
    ds.SeriesDescription = description
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = "PA"
    ds.PatientOrientation = ["L", "F"]
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.BurnedInAnnotation = "NO"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = (int(v) for v in image.shape)
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.PixelSpacing = [f"{pixel_spacing_mm:.6g}", f"{pixel_spacing_mm:.6g}"]
    ds.ImagerPixelSpacing = ds.PixelSpacing
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelIntensityRelationshipSign = 1
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "US"
    ds.LossyImageCompression = "00"
    top = (1 << bits) - 1
    ds.WindowCenter = f"{(top + 1) / 2:g}"
    ds.WindowWidth = f"{top + 1:g}"
    ds.PixelData = np.ascontiguousarray(image).astype(f"<u{bits // 8}").tobytes()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _check_radiograph(ds: Any, path: Path) -> None:
    sop_class = str(
        getattr(ds, "SOPClassUID", "") or ds.file_meta.get("MediaStorageSOPClassUID", "")
    )
    modality = str(getattr(ds, "Modality", ""))
    if sop_class not in _READABLE and modality not in _MODALITIES:
        raise ValueError(
            f"{path}: expected a DX or CR chest radiograph, found Modality {modality or '?'} "
            f"(SOP Class {sop_class or '?'})"
        )
    if "PixelData" not in ds:
        raise ValueError(f"{path}: the file has no pixel data (not an image)")
    photometric = str(getattr(ds, "PhotometricInterpretation", ""))
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise ValueError(
            f"{path}: expected MONOCHROME1 or MONOCHROME2 pixel data, found {photometric or '?'}"
        )


def _pixels(ds: Any, path: Path) -> np.ndarray:
    syntax = ds.file_meta.get("TransferSyntaxUID")
    if syntax is not None and not syntax.is_compressed:
        bits = int(ds.BitsAllocated)
        expected = (
            int(ds.Rows) * int(ds.Columns) * int(getattr(ds, "SamplesPerPixel", 1)) * bits // 8
        )
        found = len(ds.PixelData)
        if found < expected:
            raise ValueError(
                f"{path}: truncated pixel data: expected {expected} bytes for "
                f"{ds.Rows}x{ds.Columns} at {bits} bits, found {found}"
            )
    try:
        array = ds.pixel_array
    except Exception as error:
        name = getattr(syntax, "name", syntax)
        raise ValueError(
            f"{path}: cannot decode pixel data with transfer syntax {name} "
            f"({type(error).__name__}: {error}); JPEG needs pylibjpeg-libjpeg or Pillow"
        ) from None
    if array.ndim != 2:
        raise ValueError(
            f"{path}: expected one 2-D frame, found pixel array of shape {array.shape}"
        )
    return array


def read_dx(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a DX or CR radiograph as float32 in MONOCHROME2 orientation (bone bright).

    Modality rescale (slope/intercept) is applied; MONOCHROME1 images are inverted so that
    the smallest stored value becomes the darkest. The window from the file (also
    inverted for MONOCHROME1) is returned in the metadata.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: not DICOM, truncated, not a DX/CR image, or undecodable pixel data.
    """
    path = Path(path)
    ds = read_dataset(path)
    _check_radiograph(ds, path)
    stored = _pixels(ds, path).astype(np.float32)
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    image = stored * slope + intercept
    photometric = str(ds.PhotometricInterpretation)
    low = intercept if slope > 0 else intercept + slope * ((1 << int(ds.BitsStored)) - 1)
    high = intercept + slope * ((1 << int(ds.BitsStored)) - 1) if slope > 0 else intercept
    center, width = file_window(ds)
    if photometric == "MONOCHROME1":
        image = (low + high) - image
        if center is not None:
            center = (low + high) - center
    spacing = getattr(ds, "PixelSpacing", None) or getattr(ds, "ImagerPixelSpacing", None)
    meta = {
        "path": str(path),
        "modality": str(getattr(ds, "Modality", "")),
        "sop_class_uid": str(getattr(ds, "SOPClassUID", "")),
        "photometric_interpretation": photometric,
        "inverted": photometric == "MONOCHROME1",
        "transfer_syntax": str(ds.file_meta.get("TransferSyntaxUID", "")),
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "bits_stored": int(ds.BitsStored),
        "pixel_spacing_mm": [float(v) for v in spacing] if spacing else None,
        "window_center": center,
        "window_width": width,
        "view_position": str(getattr(ds, "ViewPosition", "")),
        "patient_id": str(getattr(ds, "PatientID", "")),
    }
    return image.astype(np.float32), meta


def render_dx_png(
    path: Path, out_png: Path, window: tuple[float, float] | str | None = None
) -> Path:
    """Render a DX/CR DICOM file to an 8-bit PNG.

    Args:
        path: DICOM file.
        out_png: PNG to write.
        window: ``(center, width)``; ``"file"`` for the file's own window (percentiles if
            it has none); ``None`` for the 0.5-99.5 percentile range.

    Returns:
        ``out_png``.
    """
    from PIL import Image

    image, meta = read_dx(path)
    if window == "file":
        window = (
            (meta["window_center"], meta["window_width"])
            if meta["window_center"] is not None
            else None
        )
    elif isinstance(window, str):
        raise ValueError(f"window must be (center, width), 'file' or None, got {window!r}")
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(to_uint8(image, window)).save(out_png, format="PNG")
    return out_png
