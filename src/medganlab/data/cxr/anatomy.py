"""The patient: sampled habitus and positioning, the millimetre grid, and the outlines the
other layers are drawn from (lung borders, diaphragm domes, the cardiomediastinal
silhouette with its right atrium, aortic knob, pulmonary trunk and left ventricle)."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

try:  # the clip ufunc itself: np.clip's Python wrapper costs more than small arrays do
    from numpy._core.umath import clip as _uclip
except ImportError:  # numpy < 2
    from numpy.core.umath import clip as _uclip

__all__ = ["FIELD_MM", "MAX_SIZE", "MIN_SIZE"]


FIELD_MM = 430.0  # physical field of view (a 43 cm x 43 cm detector)
MIN_SIZE, MAX_SIZE = 64, 1024


@dataclass
class _Patient:
    """Anatomy and positioning of one patient (millimetres; x to image right, y down)."""

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
    ctr_normal: float
    mediastinal_shift: float
    trachea_x: float
    hilum_y: float
    knob_y: float
    knob_size: float
    svc_width: float
    ra_share: float  # part of the heart width right of the mediastinal axis
    ra_top: float  # mm below the hilum where the right atrium begins
    lv_drop: float  # the left ventricle is widest this far above the left dome
    lv_lower: float  # vertical half axis of the ventricle's lower arc
    pt_bulge: float
    heart_depth: float
    rib_spacing: float
    rib_top: float
    spine_shift: float
    breast: float
    vessel_gain: float
    shoulder_drop: float
    arm_angle: float  # radians from vertical, outward
    arm_radius: float
    scapula_out: float  # 0 scapulae over the lungs .. 1 rotated clear of them
    fat: float


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


def _working_size(size: int) -> int:
    """Render grid tied to the output: 1.25x the output up to 128 px (at least 128), the
    output itself up to 255 px, 0.75x from 256 px (films are smooth at that scale: the
    detail lost is below the blur of a real radiograph; noise is added at the output)."""
    if size <= 128:
        return max(128, int(round(size * 1.25 / 16)) * 16)
    if size < 256:
        return int(round(size / 16)) * 16
    return int(round(size * 0.75 / 16)) * 16


def _index(grid: _Grid, mm: float) -> int:
    """Pixel index (clipped to the grid) whose centre is nearest to ``mm``."""
    return int(min(max(round((mm + FIELD_MM / 2) / grid.pixel - 0.5), 0), grid.size))


def _window(grid: _Grid, x0: float, x1: float, y0: float, y1: float) -> tuple[slice, slice]:
    """(rows, columns) slices of the grid covering [x0, x1] x [y0, y1] mm."""
    return (
        slice(_index(grid, y0), _index(grid, y1) + 1),
        slice(_index(grid, x0), _index(grid, x1) + 1),
    )


def _clip01(value: np.ndarray | float) -> np.ndarray:
    return _uclip(value, 0.0, 1.0)


def _root(value: np.ndarray | float) -> np.ndarray:
    """Smooth edge profile: sqrt(clip(v, 0, 1)) (a tangential chord through a round edge)."""
    return np.sqrt(_uclip(value, 0.0, 1.0))


def _smoothstep(value: np.ndarray | float, lo: float, hi: float) -> np.ndarray:
    t = value - lo
    if not (isinstance(t, np.ndarray) and t.dtype.kind == "f"):
        t = _uclip(t * (1.0 / (hi - lo)), 0.0, 1.0)
        return t * t * (3.0 - 2.0 * t)
    t *= 1.0 / (hi - lo)  # in place: two temporaries instead of six
    _uclip(t, 0.0, 1.0, out=t)
    out = t * t
    t *= -2.0
    t += 3.0
    out *= t
    return out


def _choose(rng: np.random.Generator, options: Sequence[Any], weights: Sequence[float]) -> Any:
    total = sum(weights)
    draw, acc = rng.random() * total, 0.0
    for option, weight in zip(options, weights, strict=True):
        acc += weight
        if draw < acc:
            return option
    return options[-1]


def _demographics(rng: np.random.Generator) -> tuple[str, int]:
    """Sex and age: the first draws of a patient's stream."""
    sex = "M" if rng.random() < 0.56 else "F"
    return sex, int(min(max(rng.normal(50, 16), 18), 92))


def _sex_and_age(seed: int) -> tuple[str, int]:
    """The sex and age of ``_sample_patient(seed)`` without drawing the rest."""
    return _demographics(np.random.default_rng([seed, 17]))


@functools.lru_cache(maxsize=64)
def _sample_patient(seed: int) -> _Patient:
    """Draw one patient's anatomy from ``seed`` (habitus, inspiration, heart, ribs...)."""
    rng = np.random.default_rng([seed, 17])
    sex, age = _demographics(rng)
    habitus = float(rng.uniform(0.86, 1.14)) * (1.0 if sex == "M" else 0.95)
    inspiration = float(rng.uniform(0.9, 1.08))
    half = 150.0 * habitus
    asym = float(rng.normal(0, 2.0))
    apex = -160.0 + rng.normal(0, 5)
    dome_right = apex + 224.0 * inspiration + rng.normal(0, 4)
    dome_left = dome_right + rng.uniform(10, 22)  # right hemidiaphragm 1-2 cm higher
    hilum = float(apex + rng.uniform(118, 134) * (0.5 + 0.5 * inspiration))
    elderly = max(0.0, (age - 45) / 45)
    return _Patient(
        seed=int(seed),
        sex=sex,
        age=age,
        habitus=habitus,
        half_width={-1: half + asym, 1: half - asym},
        apex_y=float(apex),
        dome_y={-1: float(dome_right), 1: float(dome_left)},
        dome_lateral_drop=float(rng.uniform(36, 52)),
        lung_depth=float(rng.uniform(180, 205) * (1 if sex == "M" else 0.95)),
        body_depth=float(rng.uniform(200, 245) * habitus),
        wall=float(rng.uniform(10, 20) * habitus),
        ctr_normal=float(rng.uniform(0.38, 0.47)),
        mediastinal_shift=float(rng.normal(0, 1.5)),
        trachea_x=float(rng.normal(-2, 1.5)),
        hilum_y=hilum,
        knob_y=float(hilum - rng.uniform(38, 52)),
        knob_size=float(rng.uniform(9, 15) * (1 + 0.5 * elderly)),
        svc_width=float(rng.uniform(20, 27)),
        ra_share=float(rng.uniform(0.3, 0.38)),
        ra_top=float(rng.uniform(6, 18)),
        lv_drop=float(rng.uniform(12, 28)),
        lv_lower=float(rng.uniform(30, 42)),
        pt_bulge=float(rng.uniform(2, 8)),
        heart_depth=float(rng.uniform(0.4, 0.54)),
        rib_spacing=float(23.5 * inspiration * rng.uniform(0.96, 1.04)),
        rib_top=float(apex - rng.uniform(2, 10)),
        spine_shift=float(rng.normal(0, 1.0)),
        breast=float(rng.uniform(0.55, 1.0) if sex == "F" else rng.uniform(0.0, 0.12)),
        vessel_gain=float(rng.uniform(0.85, 1.15)),
        shoulder_drop=float(rng.uniform(20, 45)),
        arm_angle=float(np.deg2rad(rng.uniform(22, 45))),
        arm_radius=float(rng.uniform(42, 54) * habitus),
        scapula_out=float(rng.uniform(0.2, 1.0)),
        fat=float(rng.uniform(0.8, 1.3) * habitus),
    )


class _Lungs:
    """Analytic lung outlines: lateral borders per row, diaphragm domes and apices per column.

    The medial borders are the cardiomediastinal silhouette (:class:`_Silhouette`).
    """

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
        self._thorax: float | None = None
        pneumothorax = findings.get("Pneumothorax")
        if pneumothorax is not None:
            self.collapse[pneumothorax["_side"]] = pneumothorax["collapse"]

    def cp_y(self, side: int) -> float:
        return self.dome[side] + self.p.dome_lateral_drop

    def t(self, y: np.ndarray | float, side: int) -> np.ndarray:
        return _uclip((y - self.p.apex_y) / (self.cp_y(side) - self.p.apex_y), 0.0, 1.0)

    def lateral(self, y: np.ndarray | float, side: int) -> np.ndarray:
        """Distance from the field centre of the lung's lateral border (inner ribs) at row y."""
        t = self.t(y, side)
        width = self.p.half_width[side]
        apex_u = 0.5 * width
        grow = (1 - (1 - t) ** 3.2) ** 0.5
        return apex_u + (width * (1 + 0.03 * t) - apex_u) * grow

    def apex(self, u: np.ndarray | float, side: int) -> np.ndarray:
        """Row of the lung apex (the dome of the pleura) at lateral distance u."""
        width = self.p.half_width[side]
        offset = _uclip((u - 0.3 * width) / (0.2 * width), -0.8, 0.0)
        return self.p.apex_y + 34.0 * offset**2

    def dome_y(self, u: np.ndarray | float, side: int) -> np.ndarray:
        """Row of the diaphragm dome at lateral distance u."""
        width = self.p.half_width[side]
        peak = 0.44 * width
        lat = _uclip((u - peak) / (width - peak), 0.0, 1.3) ** 2.3
        # medially both domes meet under the heart (no step at the midline)
        middle = 0.5 * (self.dome[-1] + self.dome[1]) + 6.0
        med = _uclip((peak - u) / peak, 0.0, 1.0) ** 2
        return self.dome[side] + self.p.dome_lateral_drop * lat + (middle - self.dome[side]) * med

    def thorax_width(self) -> float:
        """Maximum inner thoracic width (mm) above both costophrenic angles."""
        if self._thorax is None:
            y = np.linspace(self.p.apex_y, min(self.cp_y(-1), self.cp_y(1)) - 3, 300)
            self._thorax = float(np.max(self.lateral(y, -1) + self.lateral(y, 1)))
        return self._thorax


def _bulge(y: np.ndarray, centre: float, up: float, down: float) -> np.ndarray:
    """Elliptic arc profile (0..1) with vertical half axes ``up`` above and ``down`` below."""
    half = np.where(y < centre, up, down)
    return np.sqrt(_uclip(1 - ((y - centre) / half) ** 2, 0, 1))


class _Silhouette:
    """The cardiomediastinal silhouette as two border tables (mm from the mediastinal axis).

    Right border, top to bottom: superior vena cava, ascending aorta, right atrium (convex,
    meeting the right dome at the cardiophrenic angle). Left border: subclavian artery,
    aortic knob, aortopulmonary window, pulmonary trunk, left atrial appendage, left
    ventricle (the long convex arc to the apex). The heart is scaled so that its widest
    visible row is ``ctr`` times the thoracic width.
    """

    step = 1.0

    def __init__(self, patient: _Patient, lungs: _Lungs, ctr: float):
        p = self.p = patient
        self.lungs = lungs
        self.axis = lungs.shift
        low = max(lungs.dome.values())
        self.rows = np.arange(p.apex_y - 70, low + 90, self.step)
        self.pt_y = p.knob_y + 28 + 0.3 * p.knob_size
        self.top = self.pt_y + 12  # heart rows start below the pulmonary trunk
        self.ctr_target = ctr
        self._shape()
        target = ctr * lungs.thorax_width()
        heart_rows = (self.rows >= self.top) & (self.rows < min(lungs.dome.values()) + 2)
        width = target
        for _ in range(2):  # the visible width is nearly linear in the drawn width
            self.right, self.left = self._borders(width)
            width *= target / max(float(np.max((self.right + self.left)[heart_rows])), 1.0)
        self.right, self.left = self._borders(width)
        width *= target / max(self.visible_width(), 1.0)  # exact rows above the domes
        self.right, self.left = self._borders(width)
        self.width = width

    def _shape(self) -> None:
        """The parts of the outline that do not scale with the heart."""
        p, lungs, y = self.p, self.lungs, self.rows
        # right: SVC (narrow at the thoracic inlet), ascending aorta (bulges with age)
        inlet = _smoothstep(y, p.knob_y - 50, p.knob_y)
        aorta = (3 + 0.06 * p.age) * np.exp(-(((y - (p.hilum_y - 10)) / 20) ** 2))
        self._right_base = 17 + (p.svc_width - 17) * inlet + aorta
        ra_top = p.hilum_y + p.ra_top
        height = lungs.dome[-1] + 14 - ra_top
        self._ra = _bulge(y, ra_top + 0.62 * height, 0.62 * height, 0.55 * height)
        # left: subclavian, knob, AP window, pulmonary trunk, appendage
        knob = _bulge(y, p.knob_y, 0.9 * p.knob_size + 5, 0.9 * p.knob_size + 5)
        trunk = _bulge(y, self.pt_y, 11, 11)
        self._left_base = np.maximum.reduce(
            [
                17.0 + (4.0 + 0.25 * p.knob_size) * inlet,
                26 + 1.25 * p.knob_size * knob,
                30 + p.pt_bulge * trunk,
            ]
        )
        # the ventricle leaves the mediastinum obliquely (a parabola, not a ball), is
        # widest a little above the dome and turns in to the apex below it
        lv_top = self.pt_y + 10
        lv_centre = lungs.dome[1] - p.lv_drop
        s = _uclip((y - lv_top) / max(lv_centre - lv_top, 10.0), 0, 1)
        self._lv = np.where(y < lv_centre, 1 - (1 - s) ** 2, _bulge(y, lv_centre, 1.0, p.lv_lower))

    def _borders(self, width: float) -> tuple[np.ndarray, np.ndarray]:
        """Right and left border tables for a heart ``width`` mm wide (right atrium and
        left ventricle scale with it)."""
        p = self.p
        right_max, left_max = p.ra_share * width, (1 - p.ra_share) * width
        right = np.maximum(self._right_base, p.svc_width + (right_max - p.svc_width) * self._ra)
        left = np.maximum(self._left_base, 34 + (left_max - 34) * self._lv)
        sigma = 3.0 / self.step
        return _smooth1d(right, sigma), _smooth1d(left, sigma)

    def border(self, y: np.ndarray, side: int) -> np.ndarray:
        """Silhouette border at rows y: distance from the mediastinal axis on ``side``."""
        table = self.right if side == -1 else self.left
        return np.interp(y, self.rows, table).astype(np.float32)

    def medial(self, y: np.ndarray, side: int) -> np.ndarray:
        """Lateral distance u (from the field centre) of the lung's medial border at rows y."""
        return self.border(y, side) + side * self.axis

    def visible_width(self, step: float = 1.0) -> float:
        """Widest row (mm) of the heart above the diaphragm, on a ``step`` mm grid."""
        y = np.arange(self.top, max(self.lungs.dome.values()) + 30, step)[:, None]
        reach_r, reach_l = float(self.right.max()) + 2, float(self.left.max()) + 2
        x = np.arange(-reach_r, reach_l, step)[None, :] + self.axis
        mask = self.heart_mask(x, y)
        rows = mask.any(axis=1)
        if not rows.any():
            return 0.0
        first = np.argmax(mask, axis=1)
        last = mask.shape[1] - 1 - np.argmax(mask[:, ::-1], axis=1)
        return float(np.max((last - first + 1)[rows]) * step)

    def heart_mask(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Visible heart at points (x, y) mm: inside the borders, below its top, above the domes."""
        lungs = self.lungs
        right, left = self.border(y, -1), self.border(y, 1)
        inside = (x > self.axis - right) & (x < self.axis + left) & (y >= self.top)
        dome = np.where(
            x < 0, lungs.dome_y(np.maximum(-x, 15), -1), lungs.dome_y(np.maximum(x, 15), 1)
        )
        return inside & (y < dome)


_SILHOUETTES: dict[tuple, _Silhouette] = {}


def _silhouette(patient: _Patient, lungs: _Lungs, ctr: float) -> _Silhouette:
    """:class:`_Silhouette`, memoised (a normal image reuses its patient's silhouette)."""
    key = (patient.seed, round(float(ctr), 9), lungs.dome[-1], lungs.dome[1], lungs.shift)
    found = _SILHOUETTES.get(key)
    if found is None or found.p is not patient:
        if len(_SILHOUETTES) > 32:
            _SILHOUETTES.clear()
        found = _SILHOUETTES[key] = _Silhouette(patient, lungs, ctr)
    return found


@functools.lru_cache(maxsize=4)
def _kernel1d(sigma: float) -> np.ndarray:
    radius = int(3 * sigma) + 1
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return kernel / kernel.sum()


def _smooth1d(values: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of a 1-D table (edges held)."""
    kernel = _kernel1d(float(sigma))
    radius = kernel.size // 2
    padded = np.concatenate([np.full(radius, values[0]), values, np.full(radius, values[-1])])
    return np.convolve(padded, kernel, mode="valid")


def _pneumothorax_gap(lungs: _Lungs, y, side: int, collapse: float):
    """How far (mm) the visceral pleura has fallen away from the chest wall at row y."""
    t = lungs.t(y, side)
    return collapse * lungs.p.half_width[side] * 0.75 * (1 - 0.7 * t) ** 1.1 + 2.0


class _Interior:
    """Point test "inside a lung, at least ``margin`` mm from its outline" (3 mm cells),
    vectorised: call with arrays of x and y (mm)."""

    cell = 3.0

    def __init__(self, lungs: _Lungs, silhouette: _Silhouette, margin: float):
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
                & (u > silhouette.medial(y, side) + 0.4 * margin)
                & (y < lungs.dome_y(u, side) - 0.5 * margin)
                & (y > lungs.apex(u, side) + margin)
            )
        # the outer ring is outside: points beyond the field are clipped onto it
        inside[0], inside[-1], inside[:, 0], inside[:, -1] = False, False, False, False
        self.inside = inside
        self.n = n

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        top = self.n - 1
        col = _uclip((np.asarray(x) + FIELD_MM / 2) / self.cell, 0, top).astype(np.int64)
        row = _uclip((np.asarray(y) + FIELD_MM / 2) / self.cell, 0, top).astype(np.int64)
        row *= self.n
        row += col
        return self.inside.ravel().take(row)  # (a flat take: faster than inside[row, col])

    def at(self, xy: np.ndarray) -> np.ndarray:
        """The same test for points given as one (2, k) array of x and y (mm)."""
        cells = xy + FIELD_MM / 2
        cells /= self.cell
        _uclip(cells, 0, self.n - 1, out=cells)
        index = cells.astype(np.int64)
        flat = index[1] * self.n
        flat += index[0]
        return self.inside.ravel().take(flat)


def _point_inside(interior: _Interior, x: float, y: float) -> bool:
    return bool(interior(np.array([x]), np.array([y]))[0])


def _ellipse_depth(grid: _Grid, cx: float, cy: float, rx: float, ry: float, angle: float = 0.0):
    """Chord profile sqrt(1 - r^2) of a (rotated) ellipse, and its window slices."""
    reach = max(rx, ry) + 2 * grid.pixel
    window = _window(grid, cx - reach, cx + reach, cy - reach, cy + reach)
    dx = grid.x[:, window[1]] - cx
    dy = grid.y[window[0]] - cy
    if dx.size == 0 or dy.size == 0:
        return None, window
    cos, sin = math.cos(angle), math.sin(angle)
    p = (dx * cos + dy * sin) / rx
    q = (-dx * sin + dy * cos) / ry
    return _root(1 - p * p - q * q), window
