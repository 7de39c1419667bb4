"""From anatomy and findings to a radiograph: the water-equivalent attenuation map, the
film curve and digital processing, patient position, the cardiothoracic ratio and the
per-image metadata. :func:`render_case` is the entry point."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from medganlab.data.cxr.anatomy import (
    FIELD_MM,
    MAX_SIZE,
    MIN_SIZE,
    _clip01,
    _Grid,
    _grid,
    _Lungs,
    _Patient,
    _root,
    _sample_patient,
    _Silhouette,
    _silhouette,
    _smoothstep,
    _uclip,
    _window,
    _working_size,
)
from medganlab.data.cxr.findings import _apply_findings, _box, _sample_finding, _Shot
from medganlab.data.cxr.skeleton import _skeleton
from medganlab.data.cxr.soft_tissue import _abdominal_gas, _body
from medganlab.data.cxr.textures import (
    _blur3,
    _detector_noise,
    _lowpass,
    _resize,
    _texture,
)
from medganlab.data.cxr.vessels import _airways, _draw_segments, _hila, _vessel_trees
from medganlab.data.vocabulary import FINDINGS, NO_FINDING

__all__ = ["CxrCase", "GENERATOR_VERSION", "render_case"]


# Bump when the images of a seed or of a data set change (old manifests and caches stop
# matching). 6: data sets group 3.6 images per patient, as NIH does (was 1.9); one image
# of a seed renders as in 5.
GENERATOR_VERSION = 6

AIR = 0.92  # water-equivalent attenuation of a millimetre of lung air removed
BONE = 2.3  # ... of a millimetre of bone
COMPRESSION, KNEE = 0.55, 120.0  # dynamic-range compression above KNEE mm (broad scale)
LEVEL = 0.92  # the 99th percentile of the film after processing
FOG = 0.09  # scatter: lifts the darkest lung by about this fraction of white
SHARPEN = 1.1  # unsharp masking gain on the log scale per unit of the shot's sharpening


@dataclass
class CxrCase:
    """One rendered radiograph: ``image`` (uint8, HxW), ``meta`` and optional ``masks``."""

    image: np.ndarray
    meta: dict[str, Any]
    masks: dict[str, np.ndarray] | None = None


def _sample_shot(seed: int, findings: Sequence[str]) -> _Shot:
    rng = np.random.default_rng([seed, 29])
    shift_x, shift_y, rotation = rng.normal(0, 1, 3)
    aec, width, gamma, noise, sharpen = rng.random(5)
    shot = _Shot(
        shift_x=float(6 * shift_x),
        shift_y=float(7 * shift_y),
        rotation_deg=float(np.clip(1.8 * rotation, -5, 5)),
        aec_offset=float(28 + 16 * aec),
        exposure_width=float(40 + 8 * width),
        gamma=float(0.9 + 0.2 * gamma),
        noise=float(0.003 + 0.004 * noise),
        sharpen=float(0.12 + 0.25 * sharpen),
    )
    for name in findings:  # each finding its own stream: independent of the other labels
        index = FINDINGS.index(name)
        shot.findings[name] = _sample_finding(name, np.random.default_rng([seed, 29, index]))
    return shot


@functools.lru_cache(maxsize=4)
def _patient_layers(patient_seed: int, size: int) -> dict[str, Any]:
    """What depends on the patient only (cached: follow-ups reuse it): the attenuation of
    everything but the lungs (soft tissue, bone, airways, hila, gas), and the vessel trees."""
    p = _sample_patient(patient_seed)
    grid = _grid(size)
    lungs = _Lungs(p, {})
    # the same key as the normal image's lung state (one silhouette per patient, not two)
    silhouette = _silhouette(p, lungs, round(p.ctr_normal, 6))
    coarse = _grid(max(64, size // 3))  # soft tissue is smooth: a third of the grid
    rng = np.random.default_rng([patient_seed, 3])
    static = _resize(_body(coarse, p), size)
    static -= AIR * (_airways(grid, p, lungs) + _abdominal_gas(grid, p, lungs, rng))
    static += BONE * _skeleton(grid, p, lungs, silhouette)
    static += _hila(grid, p, silhouette)
    static.setflags(write=False)
    vessels = _draw_segments(grid, _vessel_trees(p, lungs, silhouette))
    vessels *= np.float32(4.0 * p.vessel_gain)  # mm of lung air they displace (visibly)
    vessels.setflags(write=False)
    return {"static": static, "vessels": vessels}


@dataclass
class _LungState:
    """The lungs of one patient for one set of outline-changing findings (cached)."""

    lungs: _Lungs
    silhouette: _Silhouette
    air: np.ndarray  # lung air (mm) before vessels and the mediastinum
    vessel: np.ndarray  # air displaced by the visible vessels (mm)
    occupancy: np.ndarray  # fraction of the depth taken by mediastinum and heart
    window: tuple[slice, slice]  # where ``occupancy`` lies
    lung_air: np.ndarray  # the air seen on the film (mm)
    inside: dict[int, np.ndarray]  # lung fields (keys -1, 1) and hemithoraces (-2, 2)
    heart: np.ndarray  # the visible heart
    lung_mask: np.ndarray  # both lung fields
    ctr: float  # cardiothoracic ratio measured on the masks
    film: _Prepared | None = None  # the processed attenuation of a film without findings


@dataclass
class _Prepared:
    """Attenuation made ready for the film curve (before the patient's position)."""

    compressed: np.ndarray  # after large-scale dynamic-range compression
    detail: np.ndarray  # its fine detail (what unsharp masking amplifies)
    fog: np.ndarray  # scatter, as a fraction of white (smooth: placement ignored)
    level: float  # automatic exposure control: mean attenuation of the lung fields


@functools.lru_cache(maxsize=8)
def _lung_state(patient_seed: int, size: int, ctr: float, atelectasis: tuple | None):
    """Lung air, fields and heart for a patient, a heart size and an optional volume loss
    (``atelectasis`` = (side, severity)); everything else about an image changes less."""
    p = _sample_patient(patient_seed)
    grid = _grid(size)
    findings = {}
    if atelectasis is not None:
        findings["Atelectasis"] = {"_side": atelectasis[0], "severity": atelectasis[1]}
    lungs = _Lungs(p, findings)
    silhouette = _silhouette(p, lungs, ctr)
    air, fade, inside = _lung_air(grid, p, lungs, silhouette)
    occupancy, window = _occupancy(grid, p, lungs, silhouette)
    rng = np.random.default_rng([patient_seed, 31])
    # parenchyma: fine texture of the lung air (unresolved vessels, interstitium), smoothed
    # away behind the heart (it moves)
    texture = 0.012 * _texture(rng, grid, 1.2) + 0.025 * _texture(rng, grid, 7.0)
    texture[window] *= _clip01(1 - 1.6 * occupancy)
    air *= 1 + texture
    vessel = _patient_layers(patient_seed, size)["vessels"] * fade
    lung_air = _visible_air(air, vessel, occupancy, window)
    heart = np.zeros((size, size), bool)
    heart[window] = silhouette.heart_mask(grid.x[:, window[1]], grid.y[window[0]])
    lung_mask = inside[-1] | inside[1]
    ctr = _measure_ctr(heart, lung_mask)
    state = _LungState(
        lungs, silhouette, air, vessel, occupancy, window, lung_air, inside, heart, lung_mask, ctr
    )
    for array in (air, vessel, occupancy, lung_air, heart, lung_mask, *inside.values()):
        array.setflags(write=False)
    return state


def _prepare(attenuation: np.ndarray, lung_mask: np.ndarray, grid: _Grid) -> _Prepared:
    """Dynamic-range compression, scatter and the exposure level of one attenuation map."""
    broad = _lowpass(attenuation, 35.0, grid.pixel)
    # scattered radiation greys the darkest parts of the body (not the air beside it)
    fog = _clip01(broad * np.float32(1 / 150))
    fog *= np.float32(FOG)
    broad -= np.float32(KNEE)
    np.maximum(broad, 0, out=broad)
    broad *= np.float32(COMPRESSION)
    compressed = attenuation - broad
    # unsharp masking works on the log-exposure scale (as on a digital radiograph)
    detail = compressed - _lowpass(compressed, 5.0, grid.pixel)
    # automatic exposure control: the film curve follows the lung fields' attenuation
    sample = attenuation[::4, ::4][lung_mask[::4, ::4]]
    level = float(sample.mean()) if sample.size else 90.0
    for array in (compressed, detail, fog):
        array.setflags(write=False)
    return _Prepared(compressed, detail, fog, level)


def _visible_air(air, vessel, occupancy, window) -> np.ndarray:
    """Lung air minus what vessels displace, thinned where the mediastinum lies in front."""
    lung_air = np.maximum(air - vessel, 0)
    lung_air[window] *= 1 - occupancy
    return lung_air


def _lung_air(grid: _Grid, p: _Patient, lungs: _Lungs, silhouette: _Silhouette):
    """Air depth of both lungs (mm), the masks of each lung field (``inside[side]``) and
    hemithorax (``inside[2 * side]``, with the lung behind the heart), and the vessel
    visibility (0 within ~1 cm of the lateral pleura)."""
    n = grid.size
    air = np.zeros((n, n), np.float32)
    fade = np.zeros((n, n), np.float32)
    inside = {}
    axis = silhouette.axis
    for side in (-1, 1):
        lateral_max = p.half_width[side] * 1.04 + 4
        x0, x1 = (-lateral_max, axis) if side == -1 else (axis, lateral_max)
        window = _window(grid, x0, x1, p.apex_y - 40, lungs.cp_y(side) + 70)
        y = grid.y[window[0]]
        u = side * grid.x[:, window[1]]
        t = 0.5 * (lungs.t(y, -1) + lungs.t(y, 1))  # one depth profile for both lungs
        depth = p.lung_depth * (0.5 + 0.5 * np.sqrt(t)) * (1 - 0.1 * _smoothstep(t, 0.6, 1.0))
        d_lat = lungs.lateral(y, side) - u
        d_dome = lungs.dome_y(u, side) - y
        d_apex = y - lungs.apex(u, side)
        # round (tangential) margins; the posterior recesses show faintly through the domes
        scaled = d_dome / 12.0
        dome = _root(scaled)
        dome *= 0.85
        dome += 0.15
        recess = np.exp(scaled, out=scaled)
        recess *= 0.15
        dome = np.where(d_dome > 0, dome, recess)
        # the lung thins toward the ribs over a few centimetres (no step at the border)
        lateral = _clip01(d_lat / 32.0)
        a = depth * lateral * (2 - lateral) * dome * _root(d_apex / 14.0)
        air[window] = a
        fade[window] = (
            _smoothstep(d_lat, 12, 22) * _smoothstep(d_dome, 8, 18) * _smoothstep(d_apex, 8, 18)
        )
        border = silhouette.medial(y, side)
        thorax = (d_lat > 0) & (d_dome > 0) & (d_apex > 0)
        full = np.zeros((n, n), bool)
        full[window] = thorax & (u > border)
        inside[side] = full
        behind = np.zeros((n, n), bool)  # the hemithorax, with the lung behind the heart
        behind[window] = thorax
        inside[2 * side] = behind
    return air, fade, inside


def _occupancy(grid: _Grid, p: _Patient, lungs: _Lungs, silhouette: _Silhouette):
    """Fraction of the lung depth taken by the mediastinum and heart (a 3-D body: its
    shadow thins toward its borders), on the silhouette's window."""
    right_max, left_max = float(silhouette.right.max()), float(silhouette.left.max())
    axis = silhouette.axis
    window = _window(grid, axis - right_max, axis + left_max, p.apex_y - 60, 215)
    y = grid.y[window[0]]
    x = grid.x[:, window[1]]
    right, left = silhouette.border(y, -1), silhouette.border(y, 1)
    centre = axis + 0.5 * (left - right)
    half = 0.5 * (left + right)
    r2 = ((x - centre) / half) ** 2
    chord = _root(1 - r2) * (0.75 + 0.25 * _clip01(1 - r2))  # between a chord and a cone
    heart = _smoothstep(y, silhouette.top - 25, silhouette.top + 10)
    fraction = 0.55 - (0.55 - p.heart_depth) * heart
    return fraction * chord, window


def _render_attenuation(patient: _Patient, shot: _Shot, grid: _Grid, ctr: float):
    """The water-equivalent attenuation map (mm) of one image, prepared for the film
    curve, the findings' signs (with their masks) and the lung state."""
    atelectasis = shot.findings.get("Atelectasis")
    key = None if atelectasis is None else (atelectasis["_side"], atelectasis["severity"])
    state = _lung_state(patient.seed, grid.size, round(float(ctr), 6), key)
    lungs = state.lungs
    if "Pneumothorax" in shot.findings:  # the collapsed lung: a new outline for the signs
        lungs = _Lungs(patient, shot.findings)
    signs = _apply_findings(grid, patient, lungs, state.silhouette, state.inside, shot)
    signs.masks["vessels"] = state.vessel > 2.0
    static = _patient_layers(patient.seed, grid.size)["static"]
    if signs.changes_nothing():  # the patient's own film: computed once, reused
        if state.film is None:
            state.film = _prepare(static - AIR * state.lung_air, state.lung_mask, grid)
        return state.film, signs, state
    lung_air, vessel = state.lung_air, state.vessel
    if signs.pleural_space is not None:  # pleural air: no lung markings, lucent
        space = signs.pleural_space
        collapsed = state.inside[signs.pleural_side] & ~space
        vessel = np.where(space, 0, vessel)
        air = np.where(
            space, 1.3 * state.air + 10, np.where(collapsed, 0.88 * state.air, state.air)
        )
        lung_air = _visible_air(air, vessel, state.occupancy, state.window)
    if signs.opacity is not None:
        lung_air = lung_air * (1 - signs.opacity)
    if signs.lucency is not None:
        lung_air = lung_air + signs.lucency
    attenuation = static - AIR * lung_air
    if signs.density is not None:
        attenuation += signs.density
    signs.masks["vessels"] = vessel > 2.0
    return _prepare(attenuation, state.lung_mask, grid), signs, state


def _expose(compressed: np.ndarray, fog: np.ndarray, shot: _Shot) -> np.ndarray:
    """The film curve on the working grid (the attenuation already compressed and
    sharpened; the patient is placed afterwards): characteristic curve, scatter,
    levelling -> about [0, 1] (noise comes at the output size)."""
    exponent = np.array(compressed, dtype=np.float32)
    exponent -= np.float32(shot.exposure_mid)
    exponent *= np.float32(-1 / shot.exposure_width)
    image = np.exp(exponent, out=exponent)
    image += np.float32(1)
    image = np.reciprocal(image, out=image)
    floor = 1 / (1 + math.exp(shot.exposure_mid / shot.exposure_width))
    image -= np.float32(floor)
    image *= np.float32(1 / (1 - floor))
    image += fog * (1 - image)
    sample = image[::4, ::4].ravel()
    level = float(
        np.partition(sample, int(0.99 * (sample.size - 1)))[int(0.99 * (sample.size - 1))]
    )
    image *= np.float32(LEVEL / max(level, 0.3))
    # contrast of the processing curve: a cheap S-shaped tweak around mid-grey
    image += np.float32(shot.gamma - 1) * image * (1 - image)
    return image


def _to_film(image: np.ndarray, shot: _Shot, grid: _Grid, size: int, rng) -> np.ndarray:
    """The exposed working-grid image placed (patient position), resampled to the output
    size, with detector blur and signal-dependent noise, as 8-bit grey levels."""
    image = _place(image, shot, grid)
    if grid.size < size:
        image = _resize(image, size, Image.BILINEAR)
    elif grid.size > size:
        image = _resize(image, size, Image.LANCZOS)
    if FIELD_MM / size < 1.2:  # detector blur at fine pixels
        image = _blur3(image)
    noise = _detector_noise(rng, size) * np.float32(shot.noise)
    film = _clip01(image)  # ``image`` may be read-only (a view of PIL's output)
    film *= np.float32(0.8)
    film += np.float32(0.6)
    film *= noise  # the grain: signal-dependent noise
    film += image
    film *= np.float32(255)
    _uclip(film, 0, 255, out=film)
    return np.rint(film, out=film).astype(np.uint8)


def _affine(shot: _Shot, grid: _Grid, pad: int = 0) -> tuple[float, ...]:
    """PIL affine coefficients mapping output pixels to input pixels for the patient
    position (shift, slight rotation about the centre); ``pad`` = input padding."""
    angle = math.radians(shot.rotation_deg)
    a, b, d, e = math.cos(angle), -math.sin(angle), math.sin(angle), math.cos(angle)
    centre = grid.size / 2
    dx, dy = shot.shift_x / grid.pixel, shot.shift_y / grid.pixel
    c = centre + pad - a * (centre + dx) - b * (centre + dy)
    f = centre + pad - d * (centre + dx) - e * (centre + dy)
    return a, b, c, d, e, f


def _pad_edge(array: np.ndarray, pad: int) -> np.ndarray:
    """``np.pad(array, pad, mode="edge")`` for a float32 image, without its overhead."""
    rows, cols = array.shape
    out = np.empty((rows + 2 * pad, cols + 2 * pad), np.float32)
    out[pad:-pad, pad:-pad] = array
    out[:pad, pad:-pad] = array[0]
    out[-pad:, pad:-pad] = array[-1]
    out[:, :pad] = out[:, pad : pad + 1]
    out[:, -pad:] = out[:, -pad - 1 : -pad]
    return out


def _place(array: np.ndarray, shot: _Shot, grid: _Grid) -> np.ndarray:
    """A working-grid image in the patient's position (bilinear; edges extended).
    Read-only (a view of PIL's output): callers make new arrays from it."""
    pad = int(math.ceil(0.12 * grid.size))
    source = Image.fromarray(_pad_edge(array, pad), mode="F")
    n = grid.size
    out = source.transform((n, n), Image.AFFINE, _affine(shot, grid, pad), Image.BILINEAR)
    return np.asarray(out)


def _output_mask(mask: np.ndarray, shot: _Shot, grid: _Grid, size: int) -> np.ndarray:
    """A working-grid mask placed like the image and resampled to the output size; only
    the window the mask can reach is resampled."""
    out = np.zeros((size, size), bool)
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        return out
    a, b, c, d, e, f = _affine(shot, grid)
    # output pixels whose source lies in the mask's box (inverse of the affine map)
    det = a * e - b * d
    corners = [(x, y) for x in (cols[0] - 1, cols[-1] + 2) for y in (rows[0] - 1, rows[-1] + 2)]
    xs = [(e * (x - c) - b * (y - f)) / det for x, y in corners]
    ys = [(-d * (x - c) + a * (y - f)) / det for x, y in corners]
    scale = size / grid.size
    x0, x1 = max(0, int(min(xs) * scale) - 1), min(size, int(max(xs) * scale) + 2)
    y0, y1 = max(0, int(min(ys) * scale) - 1), min(size, int(max(ys) * scale) + 2)
    if x1 <= x0 or y1 <= y0:
        return out
    # output pixel (x0 + i, y0 + j) at output scale -> working pixel -> source pixel
    s = 1 / scale
    coeffs = (a * s, b * s, a * x0 * s + b * y0 * s + c, d * s, e * s, d * x0 * s + e * y0 * s + f)
    source = Image.fromarray(mask.astype(np.uint8) * 255, mode="L")
    window = np.asarray(source.transform((x1 - x0, y1 - y0), Image.AFFINE, coeffs, Image.BILINEAR))
    found = window > 127
    if not found.any():  # thinner than an output pixel (a plate at 64 px): keep a trace
        found = window >= max(1, int(window.max()))
    out[y0:y1, x0:x1] = found
    return out


def _measure_ctr(heart: np.ndarray, lungs: np.ndarray) -> float:
    """Cardiothoracic ratio from masks: widest heart row over widest inner thorax row."""

    def widest(mask: np.ndarray) -> int:
        rows = mask.any(axis=1)
        if not rows.any():
            return 0
        first = np.argmax(mask, axis=1)
        last = mask.shape[1] - 1 - np.argmax(mask[:, ::-1], axis=1)
        return int(np.max((last - first + 1)[rows]))

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
        masks: Also return boolean masks ``lungs`` (the lung fields), ``heart``, ``lesions``
            (union of the findings' regions), ``vessels`` (visible lung markings) and one
            per finding.
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
    patient = _sample_patient(int(seed if patient_seed is None else patient_seed))
    shot = _sample_shot(seed, labels)
    ctr_target = shot.findings.get("Cardiomegaly", {}).get("ctr_target", patient.ctr_normal)
    grid = _grid(_working_size(size))
    rng = np.random.default_rng([seed, 41])
    film, signs, state = _render_attenuation(patient, shot, grid, ctr_target)
    ctr, silhouette = state.ctr, state.silhouette
    heart_mask, lung_mask = state.heart, state.lung_mask
    shot.exposure_mid = film.level + shot.aec_offset
    sharpened = film.compressed + np.float32(SHARPEN * shot.sharpen) * film.detail
    image8 = _to_film(_expose(sharpened, film.fog, shot), shot, grid, size, rng)

    placed = {k: v for k, v in signs.masks.items() if k != "vessels" or masks}
    if masks or "Cardiomegaly" in labels:
        placed["heart"] = heart_mask
    if masks:
        placed["lungs"] = lung_mask
    out_masks = {name: _output_mask(mask, shot, grid, size) for name, mask in placed.items()}
    if "Cardiomegaly" in labels:
        out_masks["Cardiomegaly"] = out_masks["heart"]
    lesions = np.zeros((size, size), bool)
    for name in labels:
        if name in out_masks and name != "Cardiomegaly":
            lesions |= out_masks[name]
    out_masks["lesions"] = lesions
    meta = _metadata(seed, patient, shot, labels, size, ctr, ctr_target, silhouette, out_masks)
    return CxrCase(image=image8, meta=meta, masks=out_masks if masks else None)


def _metadata(seed, patient, shot, labels, size, ctr, ctr_target, silhouette, out_masks) -> dict:
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
        "heart_width_mm": round(float(ctr * silhouette.lungs.thorax_width()), 1),
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
