"""DICOM core shared by the CT and DX modules: UIDs, file meta, one study date, reading
with clear errors, multi-valued elements, and the two display mappings.

``window`` maps values to the course's [-1, 1] (what networks see; CT's W400/L0 by default);
``to_uint8`` maps them to 8-bit grey levels for a PNG with DICOM's linear VOI function (or
by percentiles).
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "IMPLEMENTATION_CLASS_UID",
    "IMPLEMENTATION_VERSION_NAME",
    "STUDY_DATE",
    "STUDY_TIME",
    "deterministic_uid",
    "file_meta",
    "decimal_string",
    "read_dataset",
    "first_value",
    "file_window",
    "window",
    "to_uint8",
]

IMPLEMENTATION_CLASS_UID = "1.2.826.0.1.3680043.8.498.1"
IMPLEMENTATION_VERSION_NAME = "MEDGANLAB_0_1"
# One study date for every file the course writes (CT series and DX radiographs alike).
STUDY_DATE = "20260101"
STUDY_TIME = "120000"


def deterministic_uid(*parts: object) -> str:
    """A DICOM UID under the 2.25 (UUID) root derived from a hash of ``parts``.

    pydicom's ``generate_uid(prefix=None)`` ignores its entropy sources and is random, so
    the UUID is built here from SHA-256: the same parts always give the same UID.
    """
    digest = hashlib.sha256("/".join(str(part) for part in parts).encode()).digest()
    return f"2.25.{uuid.UUID(bytes=digest[:16]).int}"


def file_meta(sop_class_uid: str, sop_instance_uid: str) -> Any:
    """The file meta information (a ``FileMetaDataset``) of an explicit-VR little-endian
    file written by the course."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class_uid
    meta.MediaStorageSOPInstanceUID = sop_instance_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    return meta


def decimal_string(value: float) -> str:
    """A DICOM decimal string (at most 16 characters)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def read_dataset(path: Path, stop_before_pixels: bool = False) -> Any:
    """``pydicom.dcmread`` with errors that say what was expected.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not DICOM, or corrupt/truncated.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such DICOM file")
    try:
        return pydicom.dcmread(path, stop_before_pixels=stop_before_pixels)
    except InvalidDicomError as error:
        raise ValueError(
            f"{path}: not a DICOM file (expected a 'DICM' preamble or a DICOM dataset): {error}"
        ) from None
    except Exception as error:  # truncated or garbled files fail deep inside pydicom
        raise ValueError(
            f"{path}: corrupt or truncated DICOM file ({type(error).__name__}: {error})"
        ) from None


def first_value(value: Any) -> float | None:
    """First number of a possibly multi-valued DICOM element (``None`` if absent/empty)."""
    if value is None:
        return None
    if hasattr(value, "__len__") and not isinstance(value, str):
        if len(value) == 0:
            return None
        value = value[0]
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def file_window(ds: Any) -> tuple[float | None, float | None]:
    """The file's (WindowCenter, WindowWidth), or (None, None)."""
    center = first_value(getattr(ds, "WindowCenter", None))
    width = first_value(getattr(ds, "WindowWidth", None))
    if center is None or width is None:
        return None, None
    return center, width


def window(hu: np.ndarray, center: float = 0.0, width: float = 400.0) -> np.ndarray:
    """Window HU to [-1, 1]: clip to [center - width/2, center + width/2] and scale.

    The paper's window is W400/L0, i.e. [-200, 200] HU -> [-1, 1].
    """
    if width <= 0:
        raise ValueError(f"window width must be positive, got {width}")
    low = center - width / 2
    clipped = np.clip(np.asarray(hu, dtype=np.float32), low, center + width / 2)
    return ((clipped - low) / np.float32(width / 2) - 1.0).astype(np.float32)


def to_uint8(
    image: np.ndarray,
    window: tuple[float, float] | None = None,
    percentiles: tuple[float, float] = (0.5, 99.5),
) -> np.ndarray:
    """Map an image to uint8 with a (center, width) window, or by percentiles when None."""
    image = np.asarray(image, dtype=np.float32)
    if window is None:
        low, high = np.percentile(image, percentiles)
    else:
        center, width = window
        if width < 1:
            raise ValueError(f"window width must be >= 1, got {width}")
        # DICOM PS3.3 C.11.2.1.2 linear VOI function
        low, high = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
    scaled = (image - low) / max(float(high - low), 1e-6)
    return np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8)
