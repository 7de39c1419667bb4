"""A case's volume: slices rendered with partial-volume blur and correlated noise,
geometry checks, and the case's metadata."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from medganlab.data.ct.anatomy import Z_HALF_EXTENT_MM, _Patient, _sample_patient
from medganlab.data.ct.painting import _render_slice

__all__ = ["CtCase", "case_seed", "render_case"]


@dataclass
class CtCase:
    """One rendered case.

    Attributes:
        hu: HU volume, int16, shape (slices, H, W), slice 0 the most cranial.
        labels: KiTS19 labels, uint8 (0 background, 1 kidney, 2 tumour), same shape.
        spacing: voxel size (dz, dy, dx) in mm.
        meta: case description (kidney and tumour volumes in mL, tumour diameters, sides...).
        tissues: tissue ids (see :data:`TISSUES`) of the central sub-slice, uint8.
        origin: patient position (x, y, z) in mm of voxel (0, 0, 0), DICOM LPS axes.
    """

    hu: np.ndarray
    labels: np.ndarray
    spacing: tuple[float, float, float]
    meta: dict[str, Any]
    tissues: np.ndarray
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)


def _check_geometry(size: int, slice_thickness_mm: float) -> None:
    if not 16 <= int(size) <= 1024:
        raise ValueError(
            f"size must be between 16 and 1024 pixels (64-512 recommended), got {size}"
        )
    if not 0.5 <= float(slice_thickness_mm) <= 10.0:
        raise ValueError(
            f"slice_thickness_mm must be between 0.5 and 10 mm (1-5 typical), got {slice_thickness_mm}"
        )


def render_case(
    seed: int, size: int = 512, slice_thickness_mm: float = 3.0, tumour: bool | None = None
) -> CtCase:
    """Render one phantom patient as a CT volume with KiTS19 labels.

    Args:
        seed: patient seed; the same seed gives the same anatomy at every size and thickness.
        size: in-plane matrix (size x size pixels); the field of view is the patient's.
        slice_thickness_mm: slice thickness and spacing in mm (contiguous slices).
        tumour: force a tumour (True) or none (False); None draws one in 80 % of patients.

    Returns:
        The case: ``hu`` int16 (slices, size, size), ``labels`` uint8, ``spacing`` (dz, dy, dx).
    """
    _check_geometry(size, slice_thickness_mm)
    patient = _sample_patient(seed, tumour)
    dx = patient.fov / size
    coords = ((np.arange(size) - (size - 1) / 2) * dx).astype(np.float32)
    n_slices = max(1, int(round(2 * Z_HALF_EXTENT_MM / slice_thickness_mm)))
    z_centres = (n_slices - 1) / 2 * slice_thickness_mm - np.arange(n_slices) * slice_thickness_mm
    n_sub = 1 if slice_thickness_mm < 2.0 else 3  # odd: the centre sub-slice gives the labels
    offsets = (np.arange(n_sub) - (n_sub - 1) / 2) * slice_thickness_mm / n_sub

    noise_rng = np.random.default_rng(
        np.random.SeedSequence([int(seed), int(size), int(round(slice_thickness_mm * 1000)), 7])
    )
    blur_px = max(0.5, 0.7 / dx)
    noise_blur_px = max(0.6, 0.8 / dx)
    noise_gain = _noise_gain(noise_blur_px)

    hu = np.empty((n_slices, size, size), dtype=np.int16)
    labels = np.empty((n_slices, size, size), dtype=np.uint8)
    tissues = np.empty((n_slices, size, size), dtype=np.uint8)
    for index, z in enumerate(z_centres):
        accumulated = np.zeros((size, size), dtype=np.float32)
        for offset in offsets:
            canvas = _render_slice(patient, float(z + offset), coords, coords)
            accumulated += canvas.hu
            if abs(offset) < 1e-9:
                labels[index], tissues[index] = canvas.label, canvas.tissue
        image = ndimage.gaussian_filter(accumulated / n_sub, blur_px, mode="nearest")
        noise = ndimage.gaussian_filter(
            noise_rng.standard_normal((size, size), dtype=np.float32), noise_blur_px
        )
        image += noise * np.float32(patient.noise_sigma * noise_gain)
        hu[index] = np.clip(np.rint(image), -1024, 3071).astype(np.int16)
    spacing = (float(slice_thickness_mm), float(dx), float(dx))
    origin = (float(coords[0]), float(coords[0]), float(z_centres[0]))
    return CtCase(hu, labels, spacing, _case_meta(seed, patient, labels, spacing), tissues, origin)


def _noise_gain(sigma_px: float) -> float:
    """Factor restoring unit standard deviation to white noise blurred by ``sigma_px``."""
    probe = ndimage.gaussian_filter(np.random.default_rng(0).standard_normal((128, 128)), sigma_px)
    return float(1.0 / probe[16:-16, 16:-16].std())


def _case_meta(
    seed: int, patient: _Patient, labels: np.ndarray, spacing: tuple[float, float, float]
) -> dict[str, Any]:
    voxel_ml = spacing[0] * spacing[1] * spacing[2] / 1000.0
    width = labels.shape[2]
    right_half = np.zeros(width, dtype=bool)
    right_half[: width // 2] = True  # patient's right is image left
    kidney = labels == 1
    tumour = labels == 2
    return {
        "seed": int(seed),
        "shape": list(labels.shape),
        "spacing_mm": list(spacing),
        "field_of_view_mm": round(patient.fov, 3),
        "noise_sigma_hu": round(patient.noise_sigma, 2),
        "kidney_volume_ml": round(float(kidney.sum() * voxel_ml), 2),
        "kidney_volume_ml_right": round(float(kidney[:, :, right_half].sum() * voxel_ml), 2),
        "kidney_volume_ml_left": round(float(kidney[:, :, ~right_half].sum() * voxel_ml), 2),
        "tumour_volume_ml": round(float(tumour.sum() * voxel_ml), 2),
        "has_tumour": bool(patient.tumours),
        "tumours": [
            {
                "side": "left" if t.side > 0 else "right",
                "diameter_mm": round(t.diameter, 1),
                "exophytic_fraction": round(t.exophytic, 2),
                "necrotic_core": t.core > 0,
            }
            for t in patient.tumours
        ],
        "tumour_sides": sorted({"left" if t.side > 0 else "right" for t in patient.tumours}),
        "kidney_length_mm": {
            "right": round(2 * patient.kidneys[0].half_length, 1),
            "left": round(2 * patient.kidneys[1].half_length, 1),
        },
        "left_kidney_higher_mm": round(patient.kidneys[1].z - patient.kidneys[0].z, 1),
        "hu": {name: round(value, 1) for name, value in sorted(patient.hu.items())},
    }


def case_seed(seed: int, index: int) -> int:
    """Seed of case ``index`` of a data set made with ``seed`` (independent of workers)."""
    return int(np.random.SeedSequence([int(seed), int(index), 19]).generate_state(1)[0])
