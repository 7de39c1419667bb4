"""The patient: sampled habitus and the anatomy drawn on a millimetre grid (lungs, body
wall, breasts, bones, heart, vessels, hila, airways)."""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

__all__ = ["FIELD_MM", "MAX_SIZE", "MIN_SIZE"]


# The vocabulary lives in medganlab.data.vocabulary; re-exported here for old imports.
FIELD_MM = 430.0  # physical field of view (a 43 cm x 43 cm detector)


MIN_SIZE, MAX_SIZE = 64, 1024


@dataclass
class _Patient:
    """Anatomy of one patient (millimetres, image axes: x to image right, y down)."""

    seed: int
    sex: str
    age: int
    habitus: float
    half_width: dict[int, float]  # inner thoracic half width per side (-1 right, +1 left)
    apex_y: float
    dome_y: dict[int, float]
    dome_lateral_drop: float
    lung_depth: float
    body_depth: float
    wall: float
    heart_angle: float
    heart_aspect: float
    heart_depth: float
    ctr_normal: float
    mediastinal_shift: float
    trachea_x: float
    hilum_y: float
    knob_size: float
    rib_spacing: float
    rib_top: float
    spine_shift: float
    breast: float
    vessel_gain: float


@dataclass
class _Grid:
    """Pixel centres of the working grid in millimetres."""

    size: int
    pixel: float
    x: np.ndarray  # (1, size)
    y: np.ndarray  # (size, 1)


@functools.lru_cache(maxsize=8)
def _grid(size: int) -> _Grid:
    pixel = FIELD_MM / size
    axis = (np.arange(size, dtype=np.float32) + 0.5) * pixel - FIELD_MM / 2
    return _Grid(size, pixel, axis[None, :].copy(), axis[:, None].copy())


def _clip01(value: np.ndarray | float) -> np.ndarray:
    """clip(v, 0, 1) with plain ufuncs (np.clip's dispatch dominates on small arrays)."""
    return np.minimum(np.maximum(value, 0.0), 1.0)


def _root(value: np.ndarray | float) -> np.ndarray:
    """Smooth edge profile: sqrt(clip(v, 0, 1)) (a tangential chord through a round edge)."""
    return np.sqrt(_clip01(value))


def _smoothstep(value: np.ndarray | float, lo: float, hi: float) -> np.ndarray:
    t = _clip01((np.asarray(value, dtype=np.float32) - np.float32(lo)) / np.float32(hi - lo))
    return t * t * (3 - 2 * t)


def _sample_patient(seed: int) -> _Patient:
    """Draw one patient's anatomy from ``seed`` (habitus, inspiration, heart, ribs...)."""
    rng = np.random.default_rng([seed, 17])
    sex = "M" if rng.random() < 0.56 else "F"
    age = int(np.clip(rng.normal(50, 16), 18, 92))
    habitus = float(rng.uniform(0.86, 1.14)) * (1.0 if sex == "M" else 0.95)
    inspiration = float(rng.uniform(0.88, 1.08))
    half = 150.0 * habitus
    asym = float(rng.normal(0, 2.0))
    apex = -158.0 + rng.normal(0, 4)
    dome_right = apex + 205.0 * inspiration + rng.normal(0, 4)
    dome_left = dome_right + rng.uniform(10, 22)  # right hemidiaphragm 1-2 cm higher
    return _Patient(
        seed=int(seed),
        sex=sex,
        age=age,
        habitus=habitus,
        half_width={-1: half + asym, 1: half - asym},
        apex_y=float(apex),
        dome_y={-1: float(dome_right), 1: float(dome_left)},
        dome_lateral_drop=float(rng.uniform(38, 52)),
        lung_depth=float(rng.uniform(165, 190) * (1 if sex == "M" else 0.93)),
        body_depth=float(rng.uniform(205, 250) * habitus),
        wall=float(rng.uniform(12, 22) * habitus),
        heart_angle=float(np.deg2rad(rng.uniform(30, 42))),
        heart_aspect=float(rng.uniform(1.25, 1.45)),
        heart_depth=float(rng.uniform(98, 112)),
        ctr_normal=float(rng.uniform(0.38, 0.47)),
        mediastinal_shift=float(rng.normal(0, 1.5)),
        trachea_x=float(rng.normal(-3, 1.5)),
        hilum_y=float(apex + rng.uniform(120, 135) * inspiration),
        knob_size=float(rng.uniform(9, 18) * (1 + (age - 50) / 150)),
        rib_spacing=float(23.5 * inspiration * rng.uniform(0.96, 1.04)),
        rib_top=float(apex - rng.uniform(2, 10)),
        spine_shift=float(rng.normal(0, 1.0)),
        breast=float(rng.uniform(0.6, 1.0) if sex == "F" else rng.uniform(0.0, 0.15)),
        vessel_gain=float(rng.uniform(0.85, 1.15)),
    )


def _choose(rng: np.random.Generator, options: Sequence[Any], weights: Sequence[float]) -> Any:
    p = np.asarray(weights, dtype=float)
    return options[int(rng.choice(len(options), p=p / p.sum()))]


class _Lungs:
    """Analytic lung outlines: lateral and medial borders per row, diaphragm dome per column."""

    def __init__(self, patient: _Patient, findings: Mapping[str, dict[str, Any]]):
        self.p = patient
        self.dome = dict(patient.dome_y)
        self.shift = patient.mediastinal_shift
        atelectasis = findings.get("Atelectasis")
        if atelectasis is not None:  # volume loss: raised hemidiaphragm, shift toward it
            side = atelectasis["_side"]
            self.dome[side] -= 8 + 18 * atelectasis["severity"]
            self.shift += side * (3 + 8 * atelectasis["severity"])
        self.collapse: dict[int, float] = {}
        pneumothorax = findings.get("Pneumothorax")
        if pneumothorax is not None:
            self.collapse[pneumothorax["_side"]] = pneumothorax["collapse"]

    def cp_y(self, side: int) -> float:
        return self.dome[side] + self.p.dome_lateral_drop

    def t(self, y: np.ndarray | float, side: int) -> np.ndarray:
        return np.clip((y - self.p.apex_y) / (self.cp_y(side) - self.p.apex_y), 0.0, 1.0)

    def lateral(self, y: np.ndarray | float, side: int) -> np.ndarray:
        """Distance from the midline of the lung's lateral border (inner ribs) at row y."""
        t = self.t(y, side)
        width = self.p.half_width[side]
        apex_u = 0.42 * width
        grow = (1 - (1 - t) ** 2.6) ** 0.6
        return apex_u + (width * (1 + 0.03 * t) - apex_u) * grow

    def medial(self, y: np.ndarray | float, side: int) -> np.ndarray:
        """Distance from the midline of the mediastinal border of the lung at row y."""
        p = self.p
        t = self.t(y, side)
        width = p.half_width[side]
        upper = 21.0 + (4.0 if side == -1 else 3.0)
        if side == 1:  # aortic knob
            upper = upper + p.knob_size * np.exp(-(((y - (p.hilum_y - 62)) / 17) ** 2))
            upper = upper + 0.55 * p.knob_size * np.exp(-(((y - (p.hilum_y - 28)) / 11) ** 2))
        lower = 15.0
        base = upper + (lower - upper) * _smoothstep(y, p.hilum_y - 15, p.hilum_y + 25)
        apex_u = 0.42 * width
        close = np.clip(t / 0.07, 0.0, 1.0) ** 0.4
        return apex_u - (apex_u - base) * close - side * self.shift

    def dome_y(self, u: np.ndarray | float, side: int) -> np.ndarray:
        """Row of the diaphragm dome at lateral distance u."""
        width = self.p.half_width[side]
        peak = 0.44 * width
        lat = np.clip((u - peak) / (width - peak), 0.0, 1.3) ** 2.3
        med = np.clip((peak - u) / peak, 0.0, 1.0) ** 2
        return self.dome[side] + self.p.dome_lateral_drop * lat + 16.0 * med

    def thorax_width(self) -> float:
        """Maximum inner thoracic width (mm) above both costophrenic angles."""
        y = np.linspace(self.p.apex_y, min(self.cp_y(-1), self.cp_y(1)) - 3, 600)
        return float(np.max(self.lateral(y, -1) + self.lateral(y, 1)))


def _lung_fields(grid: _Grid, lungs: _Lungs) -> dict[int, dict[str, np.ndarray]]:
    """Per side: air depth (mm), inside mask and distance to the lateral border."""
    out = {}
    p = lungs.p
    for side in (-1, 1):
        u = side * grid.x  # (1, N)
        y = grid.y  # (N, 1)
        t = lungs.t(y, side)
        lateral = lungs.lateral(y, side)
        d_lat = lateral - u
        d_med = u - lungs.medial(y, side)
        dome = lungs.dome_y(u, side)
        d_dome = dome - y
        above = (y > p.apex_y).astype(np.float32)
        # deepest in the mid zones; breasts, domes and recesses overlie the bases
        depth = p.lung_depth * (0.5 + 0.5 * np.sqrt(t)) * (1 - 0.12 * _smoothstep(t, 0.6, 1.0))
        depth = depth * above
        lateral_profile = _root(d_lat / 38.0)
        medial_profile = _root(d_med / 24.0)
        air = depth * lateral_profile * medial_profile * _root(d_dome / 10.0)
        recess = (d_dome < 0) & (d_dome > -70)  # posterior recess seen through the dome
        air = (
            air
            + depth
            * lateral_profile
            * medial_profile
            * 0.28
            * np.exp(np.minimum(d_dome, 0) / 16.0)
            * recess
        )
        inside = (d_lat > 0) & (d_med > 0) & (d_dome > 0) & (above > 0)
        out[side] = {"air": air.astype(np.float32), "inside": inside, "d_lat": d_lat, "t": t}
    return out


class _Interior:
    """Fast point test "inside a lung, at least ``margin`` mm from its outline" (2 mm cells)."""

    cell = 2.0

    def __init__(self, lungs: _Lungs, margin: float):
        n = int(FIELD_MM / self.cell)
        axis = (np.arange(n) + 0.5) * self.cell - FIELD_MM / 2
        x, y = axis[None, :], axis[:, None]
        inside = np.zeros((n, n), bool)
        for side in (-1, 1):
            u = side * x
            lat = lungs.lateral(y, side)
            collapse = lungs.collapse.get(side, 0.0)
            if collapse:
                lat = lat - _pneumothorax_gap(lungs, y, side, collapse)
            inside |= (
                (u < lat - margin)
                & (u > lungs.medial(y, side) + 2)
                & (y < lungs.dome_y(u, side) - 4)
                & (y > lungs.p.apex_y + margin * 0.5)
            )
        self.inside = inside
        self.table = inside.tolist()
        self.n = n

    def __call__(self, x: float, y: float) -> bool:
        col = int((x + FIELD_MM / 2) / self.cell)
        row = int((y + FIELD_MM / 2) / self.cell)
        return 0 <= row < self.n and 0 <= col < self.n and self.table[row][col]


def _lung_point_inside(lungs: _Lungs, x: float, y: float, margin: float) -> bool:
    """True when the point (mm) lies inside a lung at least ``margin`` from its outline."""
    side = -1 if x < 0 else 1
    u = side * x
    if y < lungs.p.apex_y + margin * 0.5:
        return False
    lat = float(lungs.lateral(y, side))
    collapse = lungs.collapse.get(side, 0.0)
    if collapse:
        lat -= _pneumothorax_gap(lungs, y, side, collapse)
    med = float(lungs.medial(y, side))
    return (u < lat - margin) and (u > med + 2) and (y < float(lungs.dome_y(u, side)) - 4)


def _draw_curve(
    canvas: np.ndarray,
    grid: _Grid,
    side: int,
    u_range: tuple[float, float],
    curve: Callable[[np.ndarray], np.ndarray],
    half_width: float | Callable[[np.ndarray], np.ndarray],
    amplitude: float,
    hollow: float = 0.55,
    fade: Callable[[np.ndarray], np.ndarray] | None = None,
) -> None:
    """Add a bony tube along ``y = curve(u)`` (u = lateral mm) to ``canvas`` in place."""
    u_cols = side * grid.x[0]
    cols = np.nonzero((u_cols >= u_range[0]) & (u_cols <= u_range[1]))[0]
    if cols.size == 0:
        return
    u = u_cols[cols]
    yc = curve(u)
    slope = np.zeros_like(yc)
    if u.size > 1:
        slope[1:-1] = (yc[2:] - yc[:-2]) / (u[2:] - u[:-2])
        slope[0], slope[-1] = slope[1] if u.size > 2 else 0.0, slope[-2] if u.size > 2 else 0.0
    cos = 1.0 / np.sqrt(1.0 + np.minimum(slope**2, 10.0))
    hw = half_width(u) if callable(half_width) else np.full_like(u, half_width)
    # only a band of rows around the centre line of each column is touched
    reach = int(math.ceil(float(np.max(hw / cos)) / grid.pixel)) + 1
    centre = np.round((yc + FIELD_MM / 2) / grid.pixel - 0.5).astype(np.int64)
    rows = centre[None, :] + np.arange(-reach, reach + 1)[:, None]
    valid = (rows >= 0) & (rows < grid.size)
    if not valid.any():
        return
    rows = np.clip(rows, 0, grid.size - 1)
    ys = (rows + 0.5) * grid.pixel - FIELD_MM / 2
    d = (ys - yc[None, :]) * (cos / hw)[None, :]
    d2 = d * d
    profile = np.sqrt(np.clip(1 - d2, 0, None)) - hollow * np.sqrt(
        np.clip(0.55 - d2, 0, None) / 0.55
    )
    weight = amplitude * hw
    if fade is not None:
        weight = weight * fade(u)
    values = (profile * weight[None, :] * valid).astype(np.float32)
    columns = np.broadcast_to(cols[None, :], rows.shape)
    if valid.all():  # (row, column) pairs are unique: plain fancy-index addition
        canvas[rows, columns] += values
    else:
        np.add.at(canvas, (rows, columns), values)


def _ellipse_depth(grid: _Grid, cx: float, cy: float, rx: float, ry: float, angle: float = 0.0):
    """Chord profile sqrt(1 - r^2) of a (rotated) ellipse, and its window slices."""
    reach = max(rx, ry) + 2 * grid.pixel
    r0 = max(0, int((cy - reach + FIELD_MM / 2) / grid.pixel))
    r1 = min(grid.size, int((cy + reach + FIELD_MM / 2) / grid.pixel) + 1)
    c0 = max(0, int((cx - reach + FIELD_MM / 2) / grid.pixel))
    c1 = min(grid.size, int((cx + reach + FIELD_MM / 2) / grid.pixel) + 1)
    if r1 <= r0 or c1 <= c0:
        return None, (slice(0, 0), slice(0, 0))
    dx = grid.x[:, c0:c1] - cx
    dy = grid.y[r0:r1] - cy
    cos, sin = math.cos(angle), math.sin(angle)
    p = (dx * cos + dy * sin) / rx
    q = (-dx * sin + dy * cos) / ry
    return _root(1 - p * p - q * q), (slice(r0, r1), slice(c0, c1))


def _draw_segments(grid: _Grid, segments: list[tuple[float, ...]], blur: float = 0.6) -> np.ndarray:
    """Rasterise (x0, y0, x1, y1, diameter_mm) segments as chord thickness (mm)."""
    image = Image.new("F", (grid.size, grid.size), 0.0)
    draw = ImageDraw.Draw(image)
    if segments:
        array = np.array(sorted(segments, key=lambda s: -s[4]), dtype=np.float64)
        ends = (array[:, :4] + FIELD_MM / 2) / grid.pixel - 0.5
        width_px = array[:, 4] / grid.pixel
        values = np.where(width_px >= 1, array[:, 4], array[:, 4] * width_px)
        widths = np.maximum(1, np.round(width_px)).astype(int)
        for (a, b, c, d), value, width in zip(
            ends.tolist(), values.tolist(), widths.tolist(), strict=True
        ):
            draw.line([(a, b), (c, d)], fill=value, width=width)
    canvas = np.asarray(image, dtype=np.float32)
    sigma = max(blur, 0.5 / grid.pixel)
    return ndimage.gaussian_filter(canvas, sigma)


def _branch_tree(
    rng: np.random.Generator,
    start: tuple[float, float],
    angles_deg: Sequence[float],
    radius: float,
    length: float,
    keep: Callable[[float, float], bool],
    min_radius: float = 0.45,
    spread: tuple[float, float] = (25, 50),
    max_segments: int = 600,
) -> list[tuple[float, ...]]:
    """Random branching tree (vessels, bronchi) as (x0, y0, x1, y1, diameter) segments.

    Grown breadth-first so every trunk develops: each segment continues as a slightly
    thinner main branch and gives off a thinner side branch at ``spread`` degrees.
    """
    segments: list[tuple[float, ...]] = []
    queue = deque((start[0], start[1], math.radians(a), radius, length) for a in angles_deg)
    draws = rng.random((2 * max_segments + len(angles_deg) + 8, 4)).tolist()
    used = 0
    while queue and used < len(draws) - 1 and len(segments) < max_segments:
        x, y, angle, r, step = queue.popleft()
        a, b, c, d = draws[used]
        used += 1
        angle += 0.25 * (d - 0.5)
        x1, y1 = x + step * math.cos(angle), y + step * math.sin(angle)
        if not keep(x1, y1):
            continue
        segments.append((x, y, x1, y1, 2 * r))
        side = 1 if a < 0.5 else -1
        main_r, side_r = r * (0.84 + 0.06 * b), r * (0.55 + 0.15 * c)
        if main_r >= min_radius:
            turn = math.radians(4 + 8 * c) * -side
            queue.append((x1, y1, angle + turn, main_r, step * (0.88 + 0.1 * b)))
        if side_r >= min_radius:
            turn = math.radians(spread[0] + d * (spread[1] - spread[0])) * side
            queue.append((x1, y1, angle + turn, side_r, step * (0.7 + 0.2 * a)))
    return segments


def _noise_field(rng: np.random.Generator, grid: _Grid, sigma_mm: float, cells: int = 192):
    """Smooth random field on a fixed millimetre grid, resampled to ``grid`` (unit std)."""
    coarse = rng.standard_normal((cells, cells)).astype(np.float32)
    coarse = ndimage.gaussian_filter(coarse, sigma_mm / (FIELD_MM / cells), mode="wrap")
    coarse /= coarse.std() + 1e-6
    if grid.size == cells:
        return coarse
    image = Image.fromarray(coarse, mode="F").resize((grid.size, grid.size), Image.BILINEAR)
    return np.asarray(image, dtype=np.float32)


def _body(grid: _Grid, p: _Patient) -> np.ndarray:
    """Soft-tissue thickness (mm): neck, shoulders, thorax, abdomen, arms, breasts."""
    x, y = grid.x, grid.y
    torso_half = max(p.half_width.values()) + p.wall + 22 * p.habitus  # flank fat and muscle
    shoulder = -245 + 62 * (np.abs(x) / torso_half) ** 1.6
    top = _smoothstep(y - shoulder, -10, 30)
    waist = 1 - 0.06 * _smoothstep(y, 60, 200)
    upper = 0.55 + 0.45 * _smoothstep(y, -200, -110)
    torso = p.body_depth * upper * _root(1 - (x / (torso_half * waist)) ** 2) ** 0.6 * top
    neck = 0.55 * p.body_depth * _root(1 - (x / (52 * p.habitus)) ** 2)
    body = np.maximum(torso, neck)
    for side in (-1, 1):
        centre = side * (torso_half + 34 * p.habitus + 0.1 * np.clip(y + 140, 0, None))
        radius = 56 * p.habitus
        arm = 2 * radius * _root(1 - ((x - centre) / radius) ** 2) * _smoothstep(y, -200, -150)
        arm = arm * (1 - 0.7 * _smoothstep(y, 40, 200))  # the forearms leave the field
        deltoid = 80 * _root(1 - ((x - side * (torso_half + 40)) / 62) ** 2)
        deltoid = deltoid * _smoothstep(y, -215, -175) * (1 - _smoothstep(y, -130, -40))
        body = body + np.maximum(arm * 1.3, deltoid)
        if p.breast > 0.05:
            body += _breast(grid, p, side)
        body += _pectoral(grid, p, side)
    return body


def _breast(grid: _Grid, p: _Patient, side: int) -> np.ndarray:
    """Breast shadow: soft tissue over the lower zone with a sharp inferior margin."""
    u = side * grid.x
    centre_u = 0.62 * p.half_width[side]
    fold = p.dome_y[side] - 20 + 30 * ((u - centre_u) / 80) ** 2
    above = fold - grid.y
    profile = _root(above / 22.0) * np.exp(-((above / 120.0) ** 2))
    lateral = np.exp(-(((u - centre_u) / 85.0) ** 4))
    return (60 * p.breast * profile * lateral).astype(np.float32)


def _pectoral(grid: _Grid, p: _Patient, side: int) -> np.ndarray:
    """Anterior axillary fold: an oblique soft-tissue edge over the upper lateral chest."""
    u = side * grid.x
    edge = grid.y - (-150 + 1.1 * (u - 0.55 * p.half_width[side]))
    band = _smoothstep(-edge, -5, 25) * _smoothstep(u, 0.45 * p.half_width[side], 150)
    return (22 * band * _smoothstep(grid.y, -175, -140)).astype(np.float32)


def _spine(grid: _Grid, p: _Patient, shift: float) -> np.ndarray:
    """Vertebral column: bodies with end plates, discs, pedicles and spinous processes."""
    out = np.zeros((grid.size, grid.size), np.float32)
    cols = np.nonzero(np.abs(grid.x[0] - shift - p.spine_shift) < 30.0)[0]
    if cols.size:
        out[:, cols] = _vertebrae(grid.x[:, cols] - shift - p.spine_shift, grid.y, p)
    return out


def _vertebrae(x: np.ndarray, y: np.ndarray, p: _Patient) -> np.ndarray:
    """Bone thickness of the vertebral column at points x (mm from its axis), y."""
    spacing = p.rib_spacing * 1.02
    level = (y - (p.rib_top - 0.4 * spacing)) / spacing
    phase = level - np.floor(level)
    growth = 1 + 0.25 * _smoothstep(y, -100, 200)
    half = 21.0 * growth
    column = _root(1 - (x / half) ** 2)
    discs = _smoothstep(phase, 0.06, 0.14) * _smoothstep(-phase, -0.94, -0.86)
    body = column * (0.7 + 0.3 * discs)
    plates = np.exp(-(((phase - 0.13) / 0.035) ** 2)) + np.exp(-(((phase - 0.87) / 0.035) ** 2))
    cortex = np.exp(-(((np.abs(x) - half * 0.95) / 2.2) ** 2))
    bone = 2.4 * body + 0.6 * plates * column + 2.2 * cortex * body
    for centre in (-0.72, 0.72):  # pedicles: cortical rings
        r = np.sqrt(((x - centre * half) / (0.22 * half)) ** 2 + ((phase - 0.35) / 0.16) ** 2)
        bone += 1.2 * np.exp(-(((r - 1) / 0.3) ** 2))
    spinous = np.sqrt((x / 4.5) ** 2 + ((phase - 0.75) / 0.2) ** 2)
    bone += 1.5 * _root(1 - spinous**2)
    return bone.astype(np.float32)


def _ribs_and_girdle(grid: _Grid, p: _Patient, lungs: _Lungs, shift: float) -> np.ndarray:
    """Posterior and anterior ribs, clavicles, scapulae and humeral heads (bone mm)."""
    bone = np.zeros((grid.size, grid.size), np.float32)
    rng = np.random.default_rng([p.seed, 5])
    jitter = rng.normal(0, 1, (2, 12, 4))  # per side and rib: level, drop, thickness, arch
    for k, side in enumerate((-1, 1)):
        _ribs(bone, grid, p, lungs, side, shift, jitter[k])
        _clavicle(bone, grid, p, side, shift)
        _scapula(bone, grid, p, side)
        torso_half = p.half_width[side] + p.wall
        head, window = _ellipse_depth(grid, side * (torso_half + 44), -162, 26, 28)
        if head is not None:
            bone[window] += 10 * head * (1 - 0.45 * head**4)
        cols = np.nonzero(np.abs(grid.x[0] - side * (torso_half + 46)) < 13)[0]
        if cols.size:
            u = grid.x[:, cols] - side * (torso_half + 46)
            shaft = _root(1 - (u / 12.0) ** 2) * _smoothstep(grid.y, -150, -130)
            shaft = shaft * (1 - _smoothstep(grid.y, -60, 0))
            bone[:, cols] += 9 * shaft * (1 - 0.55 * _root(1 - (u / 8.0) ** 2))
    return bone


def _ribs(bone, grid, p: _Patient, lungs: _Lungs, side: int, shift: float, jitter) -> None:
    """The 12 ribs of one side, each a tilted hoop: conspicuous posterior arc with cortical
    margins, faint anterior arc that fades medially (costal cartilage is not seen).

    ``jitter`` (12 x 4 standard normals) varies each rib's level, lateral drop, calibre and
    arch, so spacing, curvature and thickness differ from rib to rib and patient to patient.
    All ribs are drawn at once (arrays of shape ribs x columns).
    """
    index = np.arange(12)
    spacing = p.rib_spacing * (0.93 + 0.012 * index)  # lower ribs slightly further apart
    origin = p.rib_top + index * spacing + 1.6 * jitter[:, 0]
    drop = (14.0 + 7.0 * np.minimum(index, 6)) * np.where(index < 9, 1.0, 0.8)
    drop = drop * (1 + 0.08 * jitter[:, 1])
    arch = 9.0 * (1 + 0.25 * jitter[:, 3])
    radius = lungs.lateral(origin + drop, side) + 9.0
    radius[0] = 0.42 * p.half_width[side] + 32
    spine_u = 14.0 - side * shift
    below = max(lungs.dome.values()) + 20
    weight = np.where(origin < below - 20, 1.0, 0.2)
    calibre = np.where(index > 1, 4.6, 5.8) * (1 + 0.15 * p.habitus) * (1 + 0.07 * jitter[:, 2])

    u_cols = side * grid.x[0]
    cols = np.nonzero((u_cols >= spine_u) & (u_cols <= radius.max()))[0]
    if cols.size == 0:
        return
    u = u_cols[cols][None, :]
    col = lambda v: np.asarray(v, dtype=np.float64)[:, None]  # noqa: E731
    s_ = _clip01(u / col(radius))
    posterior = (
        col(origin)
        - col(arch) * np.sin(np.pi * np.minimum(s_ / 0.75, 1))
        + col(drop) * s_**2.2
        + 0.6 * col(drop) * s_**10
    )
    inside = _smoothstep(col(radius) - u, 0.0, 8.0)  # the hoop turns away: a soft end
    hw = col(calibre) * (0.8 + 0.35 * s_)
    fade = _smoothstep(u, spine_u, spine_u + 8) * inside
    _draw_tubes(bone, grid, cols, u, posterior, hw, 1.7 * col(weight) * hw * fade, hollow=0.72)
    front = 16.0 + 4.0 * np.minimum(index[:8], 6)
    r8 = col(radius[:8])
    s8 = _clip01(u / r8)
    anterior = col(origin[:8] + 1.6 * drop[:8]) + col(front) * (1 - s8) ** 1.3
    anterior = anterior - 0.5 * col(drop[:8]) * s8**8
    hw8 = np.full_like(anterior, 6.5)
    fade8 = _smoothstep(u, 34, 60) * (u <= 0.97 * r8)
    _draw_tubes(bone, grid, cols, u, anterior, hw8, 0.4 * hw8 * fade8, hollow=0.3)


def _draw_tubes(bone, grid: _Grid, cols, u, yc, hw, weight, hollow: float) -> None:
    """Add tubes (one per row of ``yc``: centre-line rows in mm at columns ``cols``) with
    cortical profile sqrt(1 - d^2) - hollow * (medullary core), in a band of rows only."""
    slope = np.zeros_like(yc)
    slope[:, 1:-1] = (yc[:, 2:] - yc[:, :-2]) / (u[:, 2:] - u[:, :-2])
    slope[:, 0], slope[:, -1] = slope[:, 1], slope[:, -2]
    cos = 1.0 / np.sqrt(1.0 + np.minimum(slope**2, 10.0))
    reach = int(math.ceil(float(np.max(hw / cos)) / grid.pixel)) + 1
    centre = np.round((yc + FIELD_MM / 2) / grid.pixel - 0.5).astype(np.int64)
    offsets = np.arange(-reach, reach + 1)[None, :, None]
    rows = centre[:, None, :] + offsets  # (tubes, band, columns)
    valid = (rows >= 0) & (rows < grid.size)
    rows = np.clip(rows, 0, grid.size - 1)
    ys = (rows + 0.5) * grid.pixel - FIELD_MM / 2
    d = (ys - yc[:, None, :]) * (cos / hw)[:, None, :]
    d2 = d * d
    profile = np.sqrt(np.maximum(1 - d2, 0)) - hollow * np.sqrt(np.maximum(0.55 - d2, 0) / 0.55)
    values = (profile * weight[:, None, :] * valid).astype(np.float32)
    columns = np.broadcast_to(cols[None, None, :], rows.shape)
    for k in range(rows.shape[0]):  # within one tube every (row, column) pair is unique
        if valid[k].all():
            bone[rows[k], columns[k]] += values[k]
        else:
            np.add.at(bone, (rows[k], columns[k]), values[k])


def _clavicle(bone, grid, p: _Patient, side: int, shift: float) -> None:
    """S-shaped tubular clavicle from the manubrium up and out to the acromion."""
    head = p.apex_y + 48
    length = p.half_width[side] + p.wall + 22

    def curve(u: np.ndarray) -> np.ndarray:
        s = np.clip(u / length, 0, 1)
        # medial third curves up and out, the lateral third bows down to the acromion
        return head - 22 * s + 6 * np.sin(2 * np.pi * s) - 8 * s**6

    def half_width(u: np.ndarray) -> np.ndarray:
        s = np.clip(u / length, 0, 1)
        return 7.0 + 4.0 * np.exp(-(((s - 0.06) / 0.08) ** 2)) + 3.0 * s**4

    _draw_curve(
        bone,
        grid,
        side,
        (18.0 - side * shift, length),
        curve,
        half_width,
        2.2,
        hollow=0.6,
        fade=lambda u: _smoothstep(u, 18, 26) * (1 - 0.5 * _smoothstep(u, 0.85 * length, length)),
    )


def _scapula(bone, grid, p: _Patient, side: int) -> None:
    """Scapula projected over the upper lateral chest: thin plate with a bright medial border."""
    top, bottom = -168.0, -168.0 + 160 * p.habitus
    # only rows [top, bottom] and columns beyond the medial border can be non-zero
    rows = np.nonzero((grid.y[:, 0] >= top) & (grid.y[:, 0] <= bottom))[0]
    near = 0.7 * p.half_width[side] - 2.0
    cols = np.nonzero(side * grid.x[0] >= near)[0]
    if rows.size == 0 or cols.size == 0:
        return
    window = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    u = side * grid.x[:, window[1]]
    y = grid.y[window[0]]
    s = np.clip((y - top) / (bottom - top), 0, 1)
    medial = p.half_width[side] * (0.8 + 0.16 * s - 0.1 * s * (1 - s))
    lateral = (p.half_width[side] + p.wall + 20) * (1 - s) + medial * s + 4
    inside = _smoothstep(u - medial, -1.5, 1.5) * _smoothstep(lateral - u, -1, 6)
    vertical = _smoothstep(y, top, top + 10) * _smoothstep(-y, -bottom, -bottom + 12)
    border = np.exp(-(((u - medial) / 3.0) ** 2))
    bone[window] += ((3.0 * inside + 3.5 * border * inside) * vertical).astype(np.float32)


def _heart_geometry(p: _Patient, lungs: _Lungs, ctr: float) -> dict[str, float]:
    """Heart outline (ventricles + right atrium) whose widest visible row is ``ctr`` times
    the thoracic width: the ventricles are a rotated ellipse sweeping down-left to the
    apex, the right atrium a circle forming the lower right heart border, convex to the
    right."""
    thorax = lungs.thorax_width()
    chord = ctr * thorax
    angle, aspect = p.heart_angle, p.heart_aspect
    # centre-row chord of a rotated ellipse = 2ab / sqrt(b^2 cos^2 + a^2 sin^2)
    unit = 2 * aspect / math.sqrt(math.cos(angle) ** 2 + (aspect * math.sin(angle)) ** 2)
    scale = 1.0
    for step in (4.0, 2.0, 1.25):  # the diaphragm hides the lower heart: rescale to fit
        minor = scale * chord / unit
        geometry = {
            "cx": scale * chord / 5 + lungs.shift,  # about two thirds left of the midline
            "cy": lungs.dome[-1] - 0.42 * minor,
            "a": aspect * minor,
            "b": minor,
            "angle": angle,
            # right atrium: its right edge a little beyond the ventricles' right border
            "ra_r": 0.27 * scale * chord,
            "ra_x": lungs.shift - scale * chord * (0.13 + 0.03 * p.heart_aspect),
            "ra_y": lungs.dome[-1] - 0.3 * scale * chord,
        }
        visible = _visible_heart_width(geometry, lungs, step)
        scale *= chord / max(visible, 1.0)
    return geometry


def _heart_chord(geometry: Mapping[str, float], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Normalised thickness (0..1) of the heart at points (x, y): max over its chambers."""
    cos, sin = math.cos(geometry["angle"]), math.sin(geometry["angle"])
    dx, dy = x - geometry["cx"], y - geometry["cy"]
    p = (dx * cos + dy * sin) / geometry["a"]
    q = (-dx * sin + dy * cos) / geometry["b"]
    ventricles = _root(1 - p * p - q * q)
    r2 = ((x - geometry["ra_x"]) ** 2 + (y - geometry["ra_y"]) ** 2) / geometry["ra_r"] ** 2
    atrium = 0.5 * _root(1 - r2)
    return np.maximum(ventricles, atrium)


def _visible_heart_width(geometry: Mapping[str, float], lungs: _Lungs, step: float = 1.0) -> float:
    """Widest row (mm) of the heart above the diaphragm, on a fine grid."""
    reach = geometry["a"] + geometry["ra_r"] + 2
    x = np.arange(geometry["cx"] - reach, geometry["cx"] + reach, step)[None, :]
    bottom = min(geometry["cy"] + reach, max(lungs.dome.values()) + 45.0)  # hidden below
    y = np.arange(geometry["cy"] - reach, bottom, step)[:, None]
    dome = np.where(x < 0, lungs.dome_y(np.maximum(-x, 15), -1), lungs.dome_y(np.maximum(x, 15), 1))
    mask = (_heart_chord(geometry, x, y) > 0) & (y < dome)
    rows = mask.any(axis=1)
    if not rows.any():
        return 0.0
    first = np.argmax(mask, axis=1)
    last = mask.shape[1] - 1 - np.argmax(mask[:, ::-1], axis=1)
    return float(np.max((last - first + 1)[rows]) * step)


def _heart_fields(grid: _Grid, p: _Patient, lungs: _Lungs, geometry: Mapping[str, float]):
    """Heart depth (mm) and the visible heart mask (above the diaphragm)."""
    reach = geometry["a"] + geometry["ra_r"] + 2 * grid.pixel
    rows = np.nonzero(np.abs(grid.y[:, 0] - geometry["cy"]) < reach)[0]
    cols = np.nonzero(np.abs(grid.x[0] - geometry["cx"]) < reach)[0]
    full = np.zeros((grid.size, grid.size), np.float32)
    if rows.size and cols.size:
        window = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        full[window] = _heart_chord(geometry, grid.x[:, window[1]], grid.y[window[0]])
    x = grid.x
    dome = np.where(x < 0, lungs.dome_y(np.maximum(-x, 15), -1), lungs.dome_y(np.maximum(x, 15), 1))
    mask = (full > 0) & (grid.y < dome)
    return p.heart_depth * full, mask


def _pneumothorax_gap(lungs: _Lungs, y, side: int, collapse: float):
    """How far (mm) the visceral pleura has fallen away from the chest wall at row y."""
    t = lungs.t(y, side)
    return collapse * lungs.p.half_width[side] * 0.75 * (1 - 0.75 * t) ** 1.1 + 2.0


def _half_grid(grid: _Grid) -> _Grid:
    """Grid at half the working resolution, for smooth layers (soft tissue, shadows)."""
    return _grid(max(64, grid.size // 2))


def _upsample(array: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resampling of a smooth layer to ``size`` (pixel centres stay aligned)."""
    if array.shape[0] == size:
        return array.astype(np.float32)
    pil = Image.fromarray(array.astype(np.float32), mode="F")
    return np.asarray(pil.resize((size, size), Image.BILINEAR), dtype=np.float32)


def _working_size(size: int) -> int:
    """Render grid tied to the output: 1.25x below 256 px (min 128), the output size above."""
    return size if size >= 256 else max(128, int(round(size * 1.25 / 16)) * 16)


_ATLAS_TREES = 12  # vessel trees per side in the per-size atlas


def _standard_patient() -> _Patient:
    """A mid-range patient whose lungs hold the vessel atlas (see :func:`_vessel_atlas`)."""
    p = _sample_patient(0)
    p.half_width = {-1: 150.0, 1: 150.0}
    p.apex_y, p.dome_y = -158.0, {-1: 47.0, 1: 63.0}
    p.dome_lateral_drop, p.mediastinal_shift, p.hilum_y = 45.0, 0.0, -30.0
    return p


@functools.lru_cache(maxsize=4)
def _vessel_atlas(size: int) -> tuple[np.ndarray, ...]:
    """Vessel trees grown once per working size in the standard patient's lungs.

    Growing a branching tree segment by segment is the slowest part of a render, so each
    image warps two trees of this atlas (chosen, mirrored and scaled per patient) instead.
    Entry ``k`` holds one right-lung tree (image left); mirror it for the left lung.
    """
    grid = _grid(size)
    p = _standard_patient()
    lungs = _Lungs(p, {})
    keep = _Interior(lungs, 11)
    trees = []
    for k in range(_ATLAS_TREES):
        rng = np.random.default_rng([2026, k])
        hilum = (-(0.3 * 150.0 + 6), p.hilum_y + 8)
        base = [-85, -55, -20, 15, 45, 75, 100]
        angles = [180 - a + rng.normal(0, 7) for a in base]
        radius = float(rng.uniform(2.7, 3.3))
        segments = _branch_tree(
            rng, hilum, angles, radius, float(rng.uniform(12, 14.5)), keep, max_segments=700
        )
        trees.append(_draw_segments(grid, segments).astype(np.float32))
    return tuple(trees)


def _retro_air(grid: _Grid, p: _Patient, lungs: _Lungs) -> np.ndarray:
    """Lung behind the mediastinum and heart (paraspinal, retrocardiac): it greys the
    mediastinum instead of leaving a white column between the lungs."""
    y, x = grid.y, grid.x
    dome = min(lungs.dome.values())
    vertical = _smoothstep(y, p.apex_y + 30, p.apex_y + 90) * _smoothstep(
        -y, -dome - 20, -dome + 25
    )
    width = 0.5 * (lungs.medial(y, -1) + lungs.medial(y, 1)) + 6
    across = _smoothstep(np.abs(x - lungs.shift) - 8, 0, 14) * _smoothstep(width - np.abs(x), -6, 4)
    return (0.36 * p.lung_depth * vertical * (0.75 + 0.25 * across)).astype(np.float32)


def _vessels(grid: _Grid, p: _Patient, lungs: _Lungs, rng) -> np.ndarray:
    """Pulmonary vessels: two atlas trees warped onto this patient's hila and lungs."""
    atlas = _vessel_atlas(grid.size)
    std = _standard_patient()
    out = np.zeros((grid.size, grid.size), np.float32)
    for side in (-1, 1):
        tree = atlas[int(rng.integers(len(atlas)))]
        if side == 1:
            tree = tree[:, ::-1]
        # map patient mm -> atlas mm: scale about the hilum to this patient's lung size
        sx = std.half_width[side] / p.half_width[side] * float(rng.uniform(0.94, 1.06))
        sy = (std.dome_y[side] - std.apex_y) / (lungs.dome[side] - p.apex_y)
        sy *= float(rng.uniform(0.95, 1.05))
        hx_p = side * (0.3 * p.half_width[side] + 6) + lungs.shift
        hy_p = p.hilum_y + (8 if side == -1 else -4)
        hx_s, hy_s = side * (0.3 * 150.0 + 6), std.hilum_y + (8 if side == -1 else -4)
        # pixel index mapping: atlas = scale * (out - hilum_p) + hilum_s (rows, cols)
        centre = FIELD_MM / 2 - 0.5 * grid.pixel
        matrix = np.array([sy, sx])
        offset = np.array(
            [
                (hy_s + centre) / grid.pixel - sy * (hy_p + centre) / grid.pixel,
                (hx_s + centre) / grid.pixel - sx * (hx_p + centre) / grid.pixel,
            ]
        )
        half = (slice(0, grid.size), slice(0, grid.size // 2 + 2))
        if side == 1:
            half = (slice(0, grid.size), slice(grid.size // 2 - 2, grid.size))
            offset[1] += sx * (grid.size // 2 - 2)
        shape = (grid.size, half[1].stop - half[1].start)
        out[half] += ndimage.affine_transform(
            tree, matrix, offset=offset, output_shape=shape, order=1, mode="constant"
        )
    return out


def _hila(grid: _Grid, p: _Patient, lungs: _Lungs) -> np.ndarray:
    """Hilar pulmonary arteries: lobulated soft-tissue densities beside the mediastinum."""
    out = np.zeros((grid.size, grid.size), np.float32)
    for side, dy in ((-1, 10), (1, -6)):
        cx = side * (0.27 * p.half_width[side] + 2) + lungs.shift
        for ox, oy, rx, ry, amp in ((0, 0, 14, 24, 26), (side * 8, 20, 9, 16, 16)):
            depth, window = _ellipse_depth(grid, cx + ox, p.hilum_y + dy + oy, rx, ry, 0.3 * side)
            if depth is not None:
                out[window] += amp * depth
    return out


def _airways(grid: _Grid, p: _Patient, lungs: _Lungs) -> np.ndarray:
    """Trachea and main bronchi as air columns (mm of air)."""
    carina_y = p.hilum_y - 28
    cx = p.trachea_x + lungs.shift * 0.6
    segments = [(cx, -260, cx, carina_y, 17.0)]
    right = (cx - 22 * math.sin(math.radians(28)), carina_y + 24 * math.cos(math.radians(28)))
    left = (cx + 46 * math.sin(math.radians(48)), carina_y + 46 * math.cos(math.radians(48)))
    segments += [(cx, carina_y, *right, 12.0), (cx, carina_y, *left, 11.0)]
    segments += [(*right, right[0] - 4, right[1] + 26, 9.0)]
    return 1.7 * _draw_segments(grid, segments, blur=1.2)


def _descending_aorta(grid: _Grid, p: _Patient, lungs: _Lungs) -> np.ndarray:
    """Descending aorta behind the heart: a soft-tissue column left of the spine."""
    x0 = 16 + lungs.shift
    u = grid.x - x0
    column = 2 * 13 * _root(1 - (u / 13) ** 2)
    return (column * _smoothstep(grid.y, p.hilum_y - 60, p.hilum_y - 40)).astype(np.float32)


def _gastric_bubble(grid: _Grid, p: _Patient, lungs: _Lungs, rng) -> np.ndarray:
    """Gastric air under the left dome with an air-fluid level, plus bowel gas."""
    out = np.zeros((grid.size, grid.size), np.float32)
    u = rng.uniform(0.35, 0.6) * p.half_width[1]
    top = float(lungs.dome_y(u, 1)) + rng.uniform(8, 16)
    rx, ry = rng.uniform(15, 28), rng.uniform(9, 15)
    depth, window = _ellipse_depth(grid, u, top + ry, rx, ry)
    if depth is not None:
        rows = grid.y[window[0]]
        level = top + ry * rng.uniform(0.9, 1.3)
        out[window] += 28 * depth * (rows < level)
    for _ in range(int(rng.integers(1, 4))):  # colonic gas low in the field
        gx = rng.uniform(-0.8, 0.8) * p.half_width[1]
        gy = max(lungs.dome.values()) + rng.uniform(90, 170)
        rx, ry = rng.uniform(8, 18), rng.uniform(5, 10)
        depth, window = _ellipse_depth(grid, gx, gy, rx, ry, rng.uniform(0, 3))
        if depth is not None:
            out[window] += 12 * depth
    return out
