"""From anatomy and findings to a radiograph: attenuation line integrals, exposure,
noise and blur, placement, the cardiothoracic ratio, and the per-image metadata."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from medganlab.data.cxr.anatomy import (
    FIELD_MM,
    MAX_SIZE,
    MIN_SIZE,
    _airways,
    _body,
    _descending_aorta,
    _gastric_bubble,
    _Grid,
    _grid,
    _half_grid,
    _heart_fields,
    _heart_geometry,
    _hila,
    _lung_fields,
    _Lungs,
    _noise_field,
    _Patient,
    _retro_air,
    _ribs_and_girdle,
    _sample_patient,
    _smoothstep,
    _spine,
    _upsample,
    _vessels,
    _working_size,
)
from medganlab.data.cxr.findings import _apply_findings, _box, _sample_finding, _Shot
from medganlab.data.vocabulary import FINDINGS, NO_FINDING

__all__ = ["CxrCase", "GENERATOR_VERSION", "render_case"]


GENERATOR_VERSION = 2  # bump when the images of a seed change (old manifests stop matching)


@dataclass
class CxrCase:
    """One rendered radiograph: ``image`` (uint8, HxW), ``meta`` and optional ``masks``."""

    image: np.ndarray
    meta: dict[str, Any]
    masks: dict[str, np.ndarray] | None = None


def _sample_shot(seed: int, findings: Sequence[str]) -> _Shot:
    rng = np.random.default_rng([seed, 29])
    shot = _Shot(
        shift_x=float(rng.normal(0, 6)),
        shift_y=float(rng.normal(0, 7)),
        rotation_deg=float(np.clip(rng.normal(0, 1.8), -5, 5)),
        exposure_mid=float(rng.uniform(142, 168)),
        exposure_width=float(rng.uniform(50, 60)),
        gamma=float(rng.uniform(0.9, 1.15)),
        noise=float(rng.uniform(0.004, 0.01)),
        sharpen=float(rng.uniform(0.5, 0.8)),
    )
    for name in FINDINGS:  # fixed order: the stream does not depend on the label order
        spec = _sample_finding(name, rng)
        if name in findings:
            shot.findings[name] = spec
    return shot


def _render_attenuation(patient: _Patient, shot: _Shot, grid: _Grid, ctr: float):
    """Water-equivalent attenuation map (mm) and the anatomy masks in the patient frame."""
    lungs = _Lungs(patient, shot.findings)
    fields = _lung_fields(grid, lungs)
    geometry = _heart_geometry(patient, lungs, ctr)
    heart_depth, heart_mask = _heart_fields(grid, patient, lungs, geometry)
    rng = np.random.default_rng([patient.seed, 3])

    retro = _upsample(_retro_air(_half_grid(grid), patient, lungs), grid.size)
    smooth_air = air = fields[-1]["air"] + fields[1]["air"] + retro
    texture = _noise_field(rng, grid, 3.0, cells=192)
    air = air * (1 + 0.025 * texture)
    vessels = _vessels(grid, patient, lungs, rng)
    # no vessels in the outer 1-2 cm of lung (distance to the pleura, the hila excepted)
    chest = fields[-1]["inside"] | fields[1]["inside"] | (np.abs(grid.x) < 45)
    step = max(1, grid.size // 128)  # a coarse distance map is enough for a 1 cm margin
    coarse = ndimage.distance_transform_edt(chest[::step, ::step]) * grid.pixel * step
    depth_mm = np.repeat(np.repeat(coarse, step, 0), step, 1)[: grid.size, : grid.size]
    vessels = vessels * _smoothstep(depth_mm, 9, 20)
    opacity, lucency, density, lesion_masks = _apply_findings(grid, patient, lungs, fields, shot)
    airways = _upsample(_airways(_half_grid(grid), patient, lungs), grid.size)
    top_fade = _smoothstep(
        grid.y, geometry["cy"] - 1.3 * geometry["b"], geometry["cy"] - 0.15 * geometry["b"]
    )
    # the heart is a 3-D body in front of the lungs: its shadow thins toward its borders
    chord = heart_depth / patient.heart_depth
    heart_fraction = 0.72 * (1 - (1 - chord) ** 2.5) * top_fade
    vessel_air = 6.0 * patient.vessel_gain * vessels**0.8
    lung_air = np.clip(air * (1 - heart_fraction) - vessel_air, 0, None)
    lung_air = lung_air * (1 - opacity) + lucency
    if "Pneumothorax" in lesion_masks:  # pleural air: no parenchyma, no vessels, lucent
        space = lesion_masks["Pneumothorax"]
        side = shot.findings["Pneumothorax"]["_side"]
        collapsed = fields[side]["inside"] & ~space  # the collapsed lung is denser
        lung_air = np.where(collapsed, 0.7 * lung_air, lung_air)
        lung_air = np.where(space, 1.35 * smooth_air * (1 - heart_fraction) + 8, lung_air)
        vessels = vessels * ~space
    lesion_masks["vessels"] = vessels > 0.5
    aorta = _descending_aorta(grid, patient, lungs)
    lung_air = np.clip(lung_air - aorta, 0, None)
    stomach = _gastric_bubble(grid, patient, lungs, rng)

    body = _upsample(_body(_half_grid(grid), patient), grid.size)  # smooth: half resolution
    bone = _spine(grid, patient, lungs.shift) + _ribs_and_girdle(grid, patient, lungs, lungs.shift)
    hila = _hila(grid, patient, lungs)
    attenuation = (
        body - 0.92 * (lung_air + airways + stomach) + 2.3 * bone + density + hila * (1 - opacity)
    )
    lung_mask = fields[-1]["inside"] | fields[1]["inside"]
    return attenuation, lung_mask, heart_mask, lesion_masks, geometry


def _lowpass(image: np.ndarray, sigma_mm: float, grid: _Grid) -> np.ndarray:
    """Gaussian blur of ``sigma_mm`` computed on a block-averaged copy (cost independent
    of the size: a wide blur needs no full-resolution detail)."""
    sigma = sigma_mm / grid.pixel
    factor = max(1, int(sigma / 2.0))
    if factor == 1:
        return ndimage.gaussian_filter(image, sigma, mode="nearest")
    small_size = max(8, int(round(image.shape[0] / factor)))
    pil = Image.fromarray(image.astype(np.float32), mode="F")
    small = np.asarray(pil.resize((small_size, small_size), Image.BOX), dtype=np.float32)
    small = ndimage.gaussian_filter(small, sigma * small_size / image.shape[0], mode="nearest")
    return _upsample(small, image.shape[0])


def _expose(attenuation: np.ndarray, shot: _Shot, grid: _Grid, seed: int) -> np.ndarray:
    """Characteristic curve, processing (unsharp mask), blur and detector noise -> [0, 1]."""
    attenuation = attenuation.astype(np.float32)
    image = 1 / (1 + np.exp(-(attenuation - shot.exposure_mid) / np.float32(shot.exposure_width)))
    image = image ** np.float32(shot.gamma)
    image = image * (0.9 / max(float(np.percentile(image[::4, ::4], 99.5)), 0.3))  # auto-level
    # processing as on a digital radiograph: large-scale dynamic-range compression (greys
    # the mediastinum and abdomen), then unsharp masking of the fine detail
    broad = _lowpass(image, 22.0, grid)
    image = image - 0.3 * np.maximum(broad - 0.45, 0)
    image = image + shot.sharpen * (image - _lowpass(image, 9.0, grid))
    image = ndimage.gaussian_filter(image, max(0.35, 0.38 / grid.pixel))
    rng = np.random.default_rng([seed, 41, grid.size])
    noise = rng.standard_normal(image.shape, dtype=np.float32)
    noise = ndimage.gaussian_filter(noise, 0.6)
    level = shot.noise * (0.5 + 0.9 * np.clip(image, 0, 1)) * 1.6
    return np.clip(image + level * noise, 0, 1).astype(np.float32)


def _place(array: np.ndarray, shot: _Shot, grid: _Grid, order: int = 1) -> np.ndarray:
    """Apply the patient position (shift, slight rotation) as an affine resampling."""
    angle = math.radians(shot.rotation_deg)
    cos, sin = math.cos(angle), math.sin(angle)
    matrix = np.array([[cos, -sin], [sin, cos]])
    centre = np.array([grid.size / 2 - 0.5] * 2)
    shift = np.array([shot.shift_y, shot.shift_x]) / grid.pixel
    offset = centre - matrix @ (centre + shift)
    return ndimage.affine_transform(
        array.astype(np.float32), matrix, offset=offset, order=order, mode="nearest"
    )


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    if image.shape[0] == size:
        return image
    pil = Image.fromarray(image.astype(np.float32), mode="F")
    return np.asarray(pil.resize((size, size), Image.LANCZOS), dtype=np.float32)


def _measure_ctr(heart: np.ndarray, lungs: np.ndarray) -> float:
    """Cardiothoracic ratio from masks: widest heart row over widest inner thorax row."""

    def widest(mask: np.ndarray) -> int:
        rows = mask.any(axis=1)
        if not rows.any():
            return 0
        first = np.argmax(mask[rows], axis=1)
        last = mask.shape[1] - 1 - np.argmax(mask[rows][:, ::-1], axis=1)
        return int(np.max(last - first + 1))

    thorax = widest(lungs)
    return widest(heart) / thorax if thorax else float("nan")


def render_case(
    seed: int,
    findings: Sequence[str] = (),
    size: int = 256,
    masks: bool = False,
    patient_seed: int | None = None,
) -> CxrCase:
    """Render one PA chest radiograph.

    Args:
        seed: Seed of the image (findings, their severity/location, position, exposure).
        findings: Labels from ``FINDINGS`` (empty or ``["No Finding"]`` for a normal image).
        size: Output width and height in pixels (64-1024); the anatomy scale is fixed in mm.
        masks: Also return boolean masks ``lungs``, ``heart``, ``lesions`` (union of the
            findings' regions), ``vessels`` (visible lung markings) and one per finding.
        patient_seed: Seed of the anatomy; defaults to ``seed``. Follow-ups share it.

    Returns:
        A :class:`CxrCase` with the uint8 image, metadata and optional masks.
    """
    size = int(size)
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {size}")
    labels = [f for f in findings if f != NO_FINDING]
    unknown = sorted(set(labels) - set(FINDINGS))
    if unknown:
        raise ValueError(f"unknown finding(s) {unknown}; expected names from {list(FINDINGS)}")
    patient = _sample_patient(seed if patient_seed is None else patient_seed)
    shot = _sample_shot(seed, labels)
    ctr_target = shot.findings.get("Cardiomegaly", {}).get("ctr_target", patient.ctr_normal)
    grid = _grid(_working_size(size))
    attenuation, lung_mask, heart_mask, lesion_masks, geometry = _render_attenuation(
        patient, shot, grid, ctr_target
    )
    ctr = _measure_ctr(heart_mask, lung_mask)
    image = _expose(_place(attenuation, shot, grid), shot, grid, seed)
    image8 = np.clip(np.round(_resize(image, size) * 255), 0, 255).astype(np.uint8)

    placed = {k: v for k, v in lesion_masks.items() if k != "vessels" or masks}
    if masks or "Cardiomegaly" in labels:
        placed["heart"] = heart_mask
    if masks:
        placed["lungs"] = lung_mask
    out_masks = {
        name: _resize(_place(mask.astype(np.float32), shot, grid), size) > 0.5
        for name, mask in placed.items()
    }
    if "Cardiomegaly" in labels:
        out_masks["Cardiomegaly"] = out_masks["heart"]
    lesions = np.zeros((size, size), bool)
    for name in labels:
        if name in out_masks and name != "Cardiomegaly":
            lesions |= out_masks[name]
    out_masks["lesions"] = lesions
    meta = _metadata(seed, patient, shot, labels, size, ctr, ctr_target, geometry, out_masks)
    return CxrCase(image=image8, meta=meta, masks=out_masks if masks else None)


def _metadata(seed, patient, shot, labels, size, ctr, ctr_target, geometry, out_masks) -> dict:
    spacing = FIELD_MM / size
    findings_meta = {}
    for name in labels:
        spec = {k: v for k, v in shot.findings[name].items() if not k.startswith("_")}
        for key, value in list(spec.items()):
            if isinstance(value, float):
                spec[key] = round(value, 3)
        box = _box(out_masks[name]) if name in out_masks else None
        spec["box"] = box
        if box is not None:
            spec["box_mm"] = [
                round((box[2] - box[0]) * spacing, 1),
                round((box[3] - box[1]) * spacing, 1),
            ]
        findings_meta[name] = spec
    return {
        "seed": int(seed),
        "labels": list(labels) or [NO_FINDING],
        "size": size,
        "pixel_spacing_mm": round(spacing, 6),
        "field_mm": FIELD_MM,
        "ctr": round(float(ctr), 4),
        "ctr_target": round(float(ctr_target), 4),
        "heart_width_mm": round(float(ctr * _Lungs(patient, shot.findings).thorax_width()), 1),
        "sex": patient.sex,
        "age": patient.age,
        "habitus": round(patient.habitus, 3),
        "inspiration_dome_right_mm": round(patient.dome_y[-1], 1),
        "rotation_deg": round(shot.rotation_deg, 2),
        "shift_mm": [round(shot.shift_x, 1), round(shot.shift_y, 1)],
        "exposure": [round(shot.exposure_mid, 1), round(shot.exposure_width, 1)],
        "findings": findings_meta,
        "generator_version": GENERATOR_VERSION,
    }
