"""The eight findings drawn from their radiographic signs on top of the anatomy."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medganlab.data.cxr.anatomy import (
    _branch_tree,
    _choose,
    _draw_segments,
    _ellipse_depth,
    _Grid,
    _Interior,
    _lung_point_inside,
    _Lungs,
    _noise_field,
    _Patient,
    _pneumothorax_gap,
    _root,
    _smoothstep,
)

__all__ = []


@dataclass
class _Shot:
    """Acquisition of one image: position, exposure, noise and the finding specs."""

    shift_x: float
    shift_y: float
    rotation_deg: float
    exposure_mid: float
    exposure_width: float
    gamma: float
    noise: float
    sharpen: float
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)


def _sample_finding(name: str, rng: np.random.Generator) -> dict[str, Any]:
    """Severity, side, location and size of one finding (drawn in a fixed order)."""
    severity = float(rng.uniform(0.15, 1.0))
    spec: dict[str, Any] = {"severity": round(severity, 3)}
    side = int(_choose(rng, [-1, 1], [0.55, 0.45]))
    spec["side"] = "right" if side == -1 else "left"
    spec["_side"] = side
    if name == "Atelectasis":
        spec["form"] = _choose(rng, ["plate", "lower-lobe"], [0.55, 0.45])
        spec["zone_y"] = float(rng.uniform(0.6, 0.85))
        spec["angle"] = float(rng.uniform(-12, 12))
        spec["length"] = float(rng.uniform(45, 95))
    elif name == "Cardiomegaly":
        spec["ctr_target"] = round(0.53 + 0.15 * severity + rng.uniform(0, 0.02), 3)
    elif name == "Effusion":
        spec["bilateral"] = bool(rng.random() < 0.25)
        spec["meniscus"] = float(rng.uniform(18, 40))
    elif name == "Infiltration":
        spec["zone_y"] = float(rng.uniform(0.35, 0.85))
        spec["zone_u"] = float(rng.uniform(0.35, 0.75))
        spec["extent"] = float(rng.uniform(45, 85))
        spec["bilateral"] = bool(rng.random() < 0.3)
    elif name in ("Mass", "Nodule"):
        if name == "Mass":
            spec["diameter_mm"] = round(float(np.exp(rng.uniform(np.log(34), np.log(85)))), 1)
        else:
            spec["diameter_mm"] = round(float(np.exp(rng.uniform(np.log(8), np.log(29)))), 1)
        spec["zone_y"] = float(rng.uniform(0.12, 0.8))
        spec["zone_u"] = float(rng.uniform(0.3, 0.8))
        spec["lobulation"] = float(rng.uniform(0.0, 0.12))
        spec["calcified"] = bool(name == "Nodule" and rng.random() < 0.15)
        spec["phase"] = float(rng.uniform(0, 2 * np.pi))
    elif name == "Pneumonia":
        lobes = ["RUL", "RML", "RLL", "LUL", "LLL"]
        spec["lobe"] = _choose(rng, lobes, [0.15, 0.25, 0.3, 0.1, 0.2])
        spec["side"] = "right" if spec["lobe"][0] == "R" else "left"
        spec["_side"] = -1 if spec["lobe"][0] == "R" else 1
    elif name == "Pneumothorax":
        spec["collapse"] = round(0.2 + 0.4 * severity, 3)
    spec["_seed"] = int(rng.integers(0, 2**31))
    return spec


def _box(mask: np.ndarray) -> list[int] | None:
    rows = np.nonzero(mask.any(axis=1))[0]
    cols = np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        return None
    return [int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1]


def _apply_findings(
    grid: _Grid,
    p: _Patient,
    lungs: _Lungs,
    fields: dict[int, dict[str, np.ndarray]],
    shot: _Shot,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Opacity (0..1 of air replaced), extra lucency (mm of air), extra density and masks."""
    n = grid.size
    opacity = np.zeros((n, n), np.float32)
    lucency = np.zeros((n, n), np.float32)
    density = np.zeros((n, n), np.float32)
    masks: dict[str, np.ndarray] = {}
    inside = {s: fields[s]["inside"] for s in (-1, 1)}
    both = inside[-1] | inside[1]
    for name, spec in shot.findings.items():
        rng = np.random.default_rng(spec["_seed"])
        side = spec["_side"]
        if name == "Atelectasis":
            local = _atelectasis(grid, lungs, spec, inside[side])
        elif name == "Effusion":
            local = np.zeros_like(opacity)
            sides = (-1, 1) if spec.get("bilateral") else (side,)
            for s in sides:
                local = np.maximum(local, _effusion(grid, lungs, spec, s, fields[s]))
        elif name == "Infiltration":
            sides = (-1, 1) if spec.get("bilateral") else (side,)
            local = np.zeros_like(opacity)
            for s in sides:
                local = np.maximum(local, _infiltration(grid, lungs, spec, s, rng, inside[s]))
        elif name in ("Mass", "Nodule"):
            local, extra = _round_lesion(grid, lungs, spec, p, rng)
            density += extra
        elif name == "Pneumonia":
            local, bronchi = _pneumonia(grid, lungs, spec, rng, inside[side])
            lucency += bronchi
        elif name == "Pneumothorax":
            local, line = _pneumothorax(grid, lungs, spec, fields[side])
            density += line
            masks[name] = local > 0.5
            continue
        else:  # Cardiomegaly: drawn by the heart itself
            continue
        opacity = np.maximum(opacity, local)
        masks[name] = (local > 0.35) & both
    return opacity, lucency, density, masks


def _atelectasis(grid, lungs: _Lungs, spec, inside) -> np.ndarray:
    side, sev = spec["_side"], spec["severity"]
    u, y = spec["_side"] * grid.x, grid.y
    width = lungs.p.half_width[side]
    if spec["form"] == "plate":  # discoid (plate-like) atelectasis above the dome
        cy = lungs.dome[side] - 18 - 40 * (1 - spec["zone_y"])
        cu = 0.55 * width
        angle = math.radians(spec["angle"])
        along = (u - cu) * math.cos(angle) + (y - cy) * math.sin(angle)
        across = -(u - cu) * math.sin(angle) + (y - cy) * math.cos(angle)
        thick = 3.0 + 4.0 * sev
        band = _root(1 - (across / thick) ** 2) * _smoothstep(
            spec["length"] / 2 - np.abs(along), 0, 12
        )
        return (0.8 * band * inside).astype(np.float32)
    # lower-lobe collapse: triangle from the hilum to the medial diaphragm, sharp lateral edge
    hilum = lungs.p.hilum_y
    base = lungs.dome[side] + 10
    s = np.clip((y - hilum) / (base - hilum), 0, 1)
    edge = 18 + (0.25 + 0.3 * sev) * width * s
    wedge = _smoothstep(edge - u, -2, 6) * _smoothstep(y, hilum - 5, hilum + 25)
    return ((0.45 + 0.35 * sev) * wedge * inside).astype(np.float32)


def _effusion(grid, lungs: _Lungs, spec, side, field_: Mapping[str, np.ndarray]) -> np.ndarray:
    """Dependent fluid with a meniscus rising laterally; fills the costophrenic angle."""
    sev = spec["severity"]
    u, y = side * grid.x, grid.y
    cp = lungs.cp_y(side)
    level = cp - 18 - sev * (cp - lungs.p.hilum_y - 10)
    width = lungs.p.half_width[side]
    lateral = np.clip((u - 0.25 * width) / (0.75 * width), 0, 1.2)
    surface = level - spec["meniscus"] * (0.6 + 0.8 * sev) * lateral**2.2
    fluid = _smoothstep(y - surface, -6, 26)
    hemithorax = (u > lungs.medial(y, side) - 4) & (u < lungs.lateral(y, side) + 6)
    return (0.97 * fluid * hemithorax * (y > lungs.p.apex_y)).astype(np.float32)


def _infiltration(grid, lungs: _Lungs, spec, side, rng, inside) -> np.ndarray:
    sev = spec["severity"]
    u, y = side * grid.x, grid.y
    width = lungs.p.half_width[side]
    cy = lungs.p.apex_y + spec["zone_y"] * (lungs.dome[side] - lungs.p.apex_y)
    cu = spec["zone_u"] * width
    extent = spec["extent"] * (0.7 + 0.6 * sev)
    zone = np.exp(-(((u - cu) / extent) ** 2 + ((y - cy) / (extent * 1.2)) ** 2))
    patches = _noise_field(rng, grid, 7.0, cells=128)
    patches = np.clip((patches + 0.3) / 1.6, 0, 1)
    return ((0.4 + 0.4 * sev) * zone * patches * inside).astype(np.float32)


def _lesion_centre(lungs: _Lungs, spec, radius: float) -> tuple[float, float]:
    side = spec["_side"]
    for shrink in np.linspace(1.0, 0.0, 11):
        zy = 0.5 + (spec["zone_y"] - 0.5) * shrink
        y = lungs.p.apex_y + 25 + zy * (lungs.dome[side] - lungs.p.apex_y - 40)
        med, lat = float(lungs.medial(y, side)), float(lungs.lateral(y, side))
        zu = 0.5 + (spec["zone_u"] - 0.5) * shrink
        u = med + zu * (lat - med)
        if _lung_point_inside(lungs, side * u, y, radius * 0.5 + 4):
            return side * u, y
    y = lungs.p.hilum_y - 30
    return side * 0.6 * lungs.p.half_width[side], y


def _round_lesion(grid, lungs: _Lungs, spec, p: _Patient, rng) -> tuple[np.ndarray, np.ndarray]:
    """Mass or nodule: a round, slightly lobulated soft-tissue sphere in the lung."""
    radius = spec["diameter_mm"] / 2
    cx, cy = _lesion_centre(lungs, spec, radius)
    spec["centre_mm"] = [round(cx, 1), round(cy, 1)]
    _, window = _ellipse_depth(grid, cx, cy, radius * 1.2, radius * 1.2)
    dx, dy = grid.x[:, window[1]] - cx, grid.y[window[0]] - cy
    angle = np.arctan2(dy, dx)
    lobes = 1 + spec["lobulation"] * np.sin(3 * angle + spec["phase"]) * np.cos(2 * angle)
    r = np.sqrt(dx * dx + dy * dy) / (radius * lobes)
    chord = _root(1 - r * r)
    local = np.zeros((grid.size, grid.size), np.float32)
    extra = np.zeros_like(local)
    local[window] = np.clip(chord * 0.9, 0, 1)
    # a soft-tissue sphere also adds thickness beyond the air it replaces; calcium is bone
    extra[window] = (0.12 * spec["diameter_mm"] + (6.0 if spec.get("calcified") else 0)) * chord
    return local, extra


_LOBES = {
    # (upper bound as fraction apex->dome, lower bound, medial u fraction, lateral u fraction)
    "RUL": (0.0, 0.42, 0.0, 1.4),
    "RML": (0.5, 0.98, 0.0, 0.62),
    "RLL": (0.58, 1.2, 0.2, 1.4),
    "LUL": (0.35, 0.8, 0.0, 0.6),
    "LLL": (0.6, 1.2, 0.0, 1.4),
}


def _pneumonia(grid, lungs: _Lungs, spec, rng, inside) -> tuple[np.ndarray, np.ndarray]:
    """Lobar consolidation with a fissure edge, air bronchograms and the silhouette sign."""
    side, sev = spec["_side"], spec["severity"]
    top_f, bottom_f, med_f, lat_f = _LOBES[spec["lobe"]]
    u, y = side * grid.x, grid.y
    apex, dome = lungs.p.apex_y, lungs.dome[side]
    top = apex + top_f * (dome - apex)
    bottom = apex + bottom_f * (dome - apex)
    width = lungs.p.half_width[side]
    sharp_top = 2.0 if spec["lobe"] in ("RML", "RLL") else 10.0
    vertical = _smoothstep(y, top - sharp_top, top + sharp_top) * _smoothstep(
        -y, -bottom - 12, -bottom + 12
    )
    horizontal = _smoothstep(u, med_f * width - 10, med_f * width + 10) * _smoothstep(
        -u, -lat_f * width - 15, -lat_f * width + 15
    )
    texture = np.clip(0.9 + 0.08 * _noise_field(rng, grid, 6.0, cells=128), 0.7, 1)
    # ill-defined, lobulated margins, except a sharp fissure edge where the lobe has one
    base = vertical * horizontal  # noise shapes the margin only: no holes in the lobe
    ragged = base + 0.5 * _noise_field(rng, grid, 9.0, cells=128) * (1 - base) ** 0.5
    envelope = _smoothstep(y, top - 25, top) * _smoothstep(-y, -bottom - 25, -bottom)
    envelope = envelope * _smoothstep(u, med_f * width - 25, med_f * width)
    shape = _smoothstep(ragged, 0.3, 0.8) * envelope
    if sharp_top < 5:
        shape = shape * _smoothstep(y, top - sharp_top, top + sharp_top)
    consolidation = (0.85 + 0.13 * sev) * shape * texture * inside
    hilum = (side * 0.33 * width, lungs.p.hilum_y + 8)
    lower = spec["lobe"] in ("RML", "RLL", "LLL")
    angles = [70, 40, 100] if lower else [-60, -100, -30]
    segments = _branch_tree(
        rng,
        hilum,
        [a if side == 1 else 180 - a for a in angles],
        2.2,
        22.0,
        _Interior(lungs, 12),
        min_radius=0.8,
        spread=(12, 28),
    )
    bronchi = _draw_segments(grid, segments, blur=0.5) * consolidation * 1.2
    return consolidation.astype(np.float32), bronchi.astype(np.float32)


def _pneumothorax(grid, lungs: _Lungs, spec, field_) -> tuple[np.ndarray, np.ndarray]:
    """Pleural air between chest wall and the collapsed lung, and the visceral pleural line."""
    side = spec["_side"]
    u, y = side * grid.x, grid.y
    gap = _pneumothorax_gap(lungs, y, side, spec["collapse"])
    edge = lungs.lateral(y, side) - gap  # the visceral pleura; the apex rounds off itself
    space = (u > edge) & field_["inside"]
    # pleural line: thin soft-tissue line along the collapsed lung margin
    distance = np.abs(u - edge) * np.sqrt(0.5 + 0.5 * _smoothstep(lungs.t(y, side), 0, 0.3))
    width = max(0.8, 0.55 * grid.pixel)
    line = 10.0 * np.exp(-((distance / width) ** 2)) * field_["inside"] * ~space
    return space.astype(np.float32), line.astype(np.float32)
