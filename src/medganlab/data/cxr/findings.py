"""The eight findings drawn from their radiographic signs on top of the anatomy.

Each finding returns what it does to the film: the fraction of lung air it replaces
(``opacity``: consolidation, fluid, collapse), air it adds back (air bronchograms) and
soft tissue or bone it adds (``density``: a mass, a calcified nodule, the pleural line).
Edges come from the anatomy they follow (a fissure, the pleura, a sphere's round surface)
or fade over centimetres, never from a box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medganlab.data.cxr.anatomy import (
    _choose,
    _Grid,
    _Interior,
    _Lungs,
    _Patient,
    _pneumothorax_gap,
    _point_inside,
    _root,
    _Silhouette,
    _smoothstep,
    _uclip,
    _window,
)
from medganlab.data.cxr.textures import _texture
from medganlab.data.cxr.vessels import _draw_segments, _grow_tree, _hilum_points

__all__: list[str] = []


@dataclass
class _Shot:
    """Acquisition of one image: position, exposure, noise and the finding specs."""

    shift_x: float
    shift_y: float
    rotation_deg: float
    aec_offset: float  # film curve midpoint above the mean attenuation of the lung fields
    exposure_width: float
    gamma: float
    noise: float
    sharpen: float
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)
    exposure_mid: float = 0.0  # set by the automatic exposure control when rendering


@dataclass
class _Signs:
    """What the findings do to one image (arrays on the working grid, None when unused)."""

    opacity: np.ndarray | None = None  # 0..1: fraction of lung air replaced
    lucency: np.ndarray | None = None  # mm of air added back (air bronchograms)
    density: np.ndarray | None = None  # mm of soft tissue / bone added
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    pleural_space: np.ndarray | None = None  # pneumothorax: air between wall and lung
    pleural_side: int = 0

    def changes_nothing(self) -> bool:
        """True when the film is the patient's own (no sign alters the attenuation)."""
        return (
            self.opacity is None
            and self.lucency is None
            and self.density is None
            and self.pleural_space is None
        )

    def add_opacity(self, local: np.ndarray) -> None:
        self.opacity = local if self.opacity is None else np.maximum(self.opacity, local)

    def add(self, name: str, local: np.ndarray) -> None:
        current = getattr(self, name)
        setattr(self, name, local if current is None else current + local)


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
        spec["length"] = float(rng.uniform(50, 95))
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
    silhouette: _Silhouette,
    inside: dict[int, np.ndarray],
    shot: _Shot,
) -> _Signs:
    """Draw every finding of ``shot``; ``inside`` holds each lung field's mask
    (``inside[side]``) and each hemithorax with the lung behind the heart (``[2 * side]``)."""
    signs = _Signs()
    both = inside[-2] | inside[2]  # both hemithoraces, the lung behind the heart included
    for name, spec in shot.findings.items():
        rng = np.random.default_rng(spec["_seed"])
        side = spec["_side"]
        if name == "Atelectasis":
            mask = inside[side] if spec["form"] == "plate" else inside[2 * side]
            local = _atelectasis(grid, lungs, silhouette, spec, rng, mask)
        elif name == "Effusion":
            sides = (-1, 1) if spec.get("bilateral") else (side,)
            local = _effusion(grid, lungs, silhouette, spec, sides[0], inside[2 * sides[0]])
            for s in sides[1:]:
                other = _effusion(grid, lungs, silhouette, spec, s, inside[2 * s])
                local = np.maximum(local, other)
        elif name == "Infiltration":
            sides = (-1, 1) if spec.get("bilateral") else (side,)
            local = _infiltration(grid, lungs, spec, sides[0], rng, inside[sides[0]])
            for s in sides[1:]:
                local = np.maximum(local, _infiltration(grid, lungs, spec, s, rng, inside[s]))
        elif name in ("Mass", "Nodule"):
            chord, opacity, extra = _round_lesion(grid, lungs, silhouette, spec)
            signs.add_opacity(opacity)
            signs.add("density", extra)
            signs.masks[name] = (chord > 0.3) & both
            continue
        elif name == "Pneumonia":
            # the hemithorax: lower lobes lie behind the heart, and the middle lobe and
            # lingula abut it (the opacity runs into the heart border: silhouette sign)
            local, bronchi = _pneumonia(grid, p, lungs, silhouette, spec, rng, inside[2 * side])
            signs.add("lucency", bronchi)
        elif name == "Pneumothorax":
            space, line = _pneumothorax(grid, lungs, spec, inside[side])
            signs.add("density", line)
            signs.pleural_space, signs.pleural_side = space, side
            signs.masks[name] = space
            continue
        else:  # Cardiomegaly: drawn by the heart itself
            continue
        signs.add_opacity(local)
        signs.masks[name] = (local > 0.35) & both
    return signs


def _atelectasis(grid, lungs: _Lungs, silhouette, spec, rng, inside) -> np.ndarray:
    """Plate-like (discoid) band above the dome, or a collapsed lower lobe: a triangle from
    the hilum to the medial diaphragm with a sharp lateral edge (the displaced fissure).
    The volume loss (raised dome, shift toward the side) is drawn by the outlines."""
    side, sev = spec["_side"], spec["severity"]
    u, y = side * grid.x, grid.y
    width = lungs.p.half_width[side]
    if spec["form"] == "plate":
        # in the lower zone, midway between the heart border and the chest wall
        cu = 0.6 * width
        for _ in range(2):
            cy = float(lungs.dome_y(cu, side)) - 18 - 40 * (1 - spec["zone_y"])
            medial = float(silhouette.medial(np.array([cy]), side)[0])
            cu = medial + 0.55 * (float(lungs.lateral(cy, side)) - medial)
        angle = math.radians(spec["angle"])
        along = (u - cu) * math.cos(angle) + (y - cy) * math.sin(angle)
        across = -(u - cu) * math.sin(angle) + (y - cy) * math.cos(angle)
        across = across - 4 * np.sin(along / 18 + spec["_seed"] % 7)  # a gently wavy band
        thick = 4.0 + 5.0 * sev
        ends = _smoothstep(spec["length"] / 2 - np.abs(along), 0, 25)  # tapering ends
        band = _root(1 - (across / (thick * (0.3 + 0.7 * ends))) ** 2) * ends
        return (0.6 * band * inside).astype(np.float32)
    hilum = lungs.p.hilum_y
    base = lungs.dome[side] + 12
    s = _uclip((y - hilum) / (base - hilum), 0, 1)
    medial = silhouette.medial(y, side)
    # the displaced major fissure: a sharp edge, bowed (concave laterally)
    edge = medial + 4 + (0.2 + 0.28 * sev) * width * s * (1.15 - 0.3 * s)
    wedge = _smoothstep(edge - u, -1.5, 4) * _smoothstep(y, hilum, hilum + 45)
    mottle = 0.88 + 0.12 * _texture(rng, grid, 7.0)
    paraspinal = _smoothstep(u - side * silhouette.axis, 8, 35)  # behind the heart
    return ((0.45 + 0.3 * sev) * wedge * mottle * paraspinal * inside).astype(np.float32)


def _effusion(grid, lungs: _Lungs, silhouette, spec, side, hemithorax) -> np.ndarray:
    """Dependent fluid with a meniscus rising laterally; fills the costophrenic angle and
    hides the hemidiaphragm. The fluid thins upward (it layers behind the lung)."""
    sev = spec["severity"]
    cp = lungs.cp_y(side)
    level = cp - 22 - sev * (cp - lungs.p.hilum_y - 10)
    rise = spec["meniscus"] * (0.8 + 0.9 * sev)
    window = _window(grid, -220, 220, level - rise - 40, 215)
    window = (window[0], slice(0, grid.size))
    u, y = side * grid.x, grid.y[window[0]]
    medial, lateral_border = silhouette.medial(y, side), lungs.lateral(y, side)
    across = _uclip((u - medial) / np.maximum(lateral_border - medial, 1.0), 0, 1.2)
    surface = level - rise * across**1.3  # the meniscus: concave up, highest at the wall
    fluid = _smoothstep(y - surface, -10, 40)  # thin at its top (it layers behind the lung)
    # the fluid layers behind the heart too, fading toward the spine
    behind = _smoothstep(u - side * silhouette.axis, 0, 45)
    out = np.zeros((grid.size, grid.size), np.float32)
    out[window] = 0.97 * fluid * behind * hemithorax[window]
    return out


def _infiltration(grid, lungs: _Lungs, spec, side, rng, inside) -> np.ndarray:
    """Ill-defined patchy opacity: blotches of a smooth random field inside a broad zone."""
    sev = spec["severity"]
    u, y = side * grid.x, grid.y
    width = lungs.p.half_width[side]
    cy = lungs.p.apex_y + spec["zone_y"] * (lungs.dome[side] - lungs.p.apex_y)
    cu = spec["zone_u"] * width
    extent = spec["extent"] * (0.85 + 0.6 * sev)
    zone = np.exp(-(((u - cu) / extent) ** 2 + ((y - cy) / (extent * 1.2)) ** 2))
    patches = 0.7 * _texture(rng, grid, 7.0) + 0.45 * _texture(rng, grid, 3.0)
    patches = _uclip((patches + 0.35) / 1.5, 0, 1)
    return ((0.35 + 0.3 * sev) * zone * patches * inside).astype(np.float32)


def _lesion_centre(lungs: _Lungs, silhouette, spec, radius: float) -> tuple[float, float]:
    side = spec["_side"]
    interior = _Interior(lungs, silhouette, radius * 0.5 + 4)
    for shrink in np.linspace(1.0, 0.0, 11):
        zy = 0.5 + (spec["zone_y"] - 0.5) * shrink
        y = lungs.p.apex_y + 25 + zy * (lungs.dome[side] - lungs.p.apex_y - 40)
        med = float(silhouette.medial(np.array([y]), side)[0])
        lat = float(lungs.lateral(y, side))
        zu = 0.5 + (spec["zone_u"] - 0.5) * shrink
        u = med + zu * (lat - med)
        if _point_inside(interior, side * u, y):
            return side * u, y
    return side * 0.6 * lungs.p.half_width[side], lungs.p.hilum_y - 30


def _round_lesion(grid, lungs: _Lungs, silhouette, spec):
    """Mass or nodule: a soft-tissue sphere (slightly lobulated) whose round surface gives
    the soft edge of a chord profile. Returns the chord (0..1), the fraction of the lung
    air it replaces (a coin lesion: most of the column at its centre; small nodules are
    drawn as dense as large ones so that they stay readable at 64 px) and the soft tissue
    (and calcium) it adds."""
    radius = spec["diameter_mm"] / 2
    cx, cy = _lesion_centre(lungs, silhouette, spec, radius)
    spec["centre_mm"] = [round(cx, 1), round(cy, 1)]
    reach = radius * 1.2
    window = _window(grid, cx - reach, cx + reach, cy - reach, cy + reach)
    dx, dy = grid.x[:, window[1]] - cx, grid.y[window[0]] - cy
    angle = np.arctan2(dy, dx)
    lobes = 1 + spec["lobulation"] * np.sin(3 * angle + spec["phase"]) * np.cos(2 * angle)
    r = np.sqrt(dx * dx + dy * dy) / (radius * lobes)
    chord = _root(1 - r * r)
    local = np.zeros((grid.size, grid.size), np.float32)
    opacity = np.zeros_like(local)
    extra = np.zeros_like(local)
    local[window] = chord
    opacity[window] = np.minimum((0.7 + 4.0 / (radius + 3)) * chord, 1.0)
    thickness = 0.3 * spec["diameter_mm"] * chord
    if spec.get("calcified"):
        thickness = thickness + 14.0 * chord**2
    extra[window] = thickness
    return local, opacity, extra


# Lobes in projection: (top, bottom) as fractions apex -> dome, (medial, lateral) fractions
# of the hemithorax, the opacity of a fully consolidated lobe (the lower lobes lie behind
# aerated lung), and whether the minor fissure bounds it (above for RUL, below for RML).
_LOBES = {
    "RUL": (None, None, 0.0, 1.1, 0.88, "below"),
    "RML": (None, 0.97, 0.0, 0.62, 0.78, "above"),
    "RLL": (0.5, 1.25, 0.05, 1.1, 0.82, None),
    "LUL": (None, 0.7, 0.0, 1.1, 0.8, None),
    "LLL": (0.52, 1.25, 0.0, 1.1, 0.84, None),
}


def _minor_fissure(lungs: _Lungs, u: np.ndarray) -> np.ndarray:
    """Row (mm) of the right minor (horizontal) fissure: from the hilum out to the chest
    wall at about the fourth anterior rib, gently convex upward."""
    width = lungs.p.half_width[-1]
    s = _uclip(u / width, 0, 1.2)
    return lungs.p.hilum_y + 6 - 10 * np.sin(np.pi * s) + 4 * s


def _pneumonia(grid, p, lungs: _Lungs, silhouette, spec, rng, inside):
    """Lobar consolidation: dense and nearly homogeneous, a sharp edge only along the minor
    fissure, margins elsewhere fading over centimetres, air bronchograms inside, and the
    silhouette sign where the lobe touches the heart border or the dome."""
    side, sev = spec["_side"], spec["severity"]
    top_f, bottom_f, med_f, lat_f, density, fissure = _LOBES[spec["lobe"]]
    u, y = side * grid.x, grid.y
    apex, dome = p.apex_y, lungs.dome[side]
    medial = silhouette.medial(y, side)
    span = lungs.lateral(y, side) - medial
    across = (u - medial) / np.maximum(span, 1.0)  # 0 at the heart border, 1 at the wall
    ragged = 18 * _texture(rng, grid, 16.0) + 8 * _texture(rng, grid, 7.0)
    # margins away from a fissure are ill-defined: wide, irregular (ragged) transitions
    across = across + ragged * (0.12 / 26)
    shape = _smoothstep(lat_f - across, -0.2, 0.35) ** 1.5
    if med_f > 0:
        shape = shape * _smoothstep(across, med_f - 0.15, med_f + 0.1)
    if top_f is not None:  # lower lobes: the upper margin rises toward the hilum
        top = apex + top_f * (dome - apex) + 35 * (across - 0.4)
        shape = shape * _smoothstep(y + ragged - top, -25, 30)
    if bottom_f is not None:
        bottom = apex + bottom_f * (dome - apex)
        shape = shape * _smoothstep(bottom - y + ragged, -30, 35)
    if fissure is not None:  # tangential fissure: a sharp, slightly curved edge
        line = _minor_fissure(lungs, u)
        sharp = _smoothstep(line - y, -1.5, 1.5) if fissure == "below" else None
        if fissure == "above":
            sharp = _smoothstep(y - line, -1.5, 1.5)
            # the middle lobe hugs the heart border and fades laterally and downward
            shape = shape * (1 - 0.5 * _smoothstep(across, 0.2, 0.7))
        shape = shape * sharp
    texture = _uclip(0.92 + 0.06 * _texture(rng, grid, 3.0), 0.8, 1)
    if spec["lobe"] in ("RLL", "LLL"):  # behind the heart, fading toward the spine
        shape = shape * _smoothstep(u - side * silhouette.axis, 8, 35)
    else:  # in front: into the heart border for a couple of centimetres at most
        shape = shape * _smoothstep(u - medial, -25, 0)
    consolidation = (0.8 + 0.2 * sev) * density * shape * texture * inside
    # air bronchograms: a bronchial tree from the hilum, lucent only inside the opacity
    x0, y0 = _hilum_points(p, silhouette)[side]
    lower = spec["lobe"] in ("RML", "RLL", "LLL")
    angles = [70, 45, 95, 20] if lower else [-60, -95, -30, -120]
    keep = _Interior(lungs, silhouette, 10)
    segments = _grow_tree(
        rng,
        (x0, y0),
        [a if side == 1 else 180 - a for a in angles],
        2.6,
        18.0,
        keep,
        min_radius=0.9,
        spread=(15, 35),
        max_segments=120,
    )
    bronchi = _draw_segments(grid, segments) * consolidation**2 * 1.6
    return consolidation.astype(np.float32), bronchi.astype(np.float32)


def _pneumothorax(grid, lungs: _Lungs, spec, inside) -> tuple[np.ndarray, np.ndarray]:
    """Pleural air between the chest wall and the collapsed lung (no markings), and the
    visceral pleural line: a thin white line convex toward the wall, round at the apex."""
    side = spec["_side"]
    u, y = side * grid.x, grid.y
    gap = _pneumothorax_gap(lungs, y, side, spec["collapse"])
    edge = lungs.lateral(y, side) - gap
    apex_line = lungs.apex(u, side) + gap * 0.6  # the lung apex falls away from the dome too
    space = ((u > edge) | (y < apex_line)) & inside
    outside = np.maximum(u - edge, apex_line - y)
    width = max(0.9, 0.6 * grid.pixel)
    line = 16.0 * np.exp(-((outside / width) ** 2)) * inside * ~space
    return space, line.astype(np.float32)
