"""Branching trees (pulmonary vessels, bronchi), grown per patient, and the hila and airways.

A tree grows generation by generation, all tips at once: each segment continues as a
slightly thinner main branch and gives off a thinner side branch, and tips that leave the
lung (tested on a 2 mm table) stop. Segments are rasterised as chord thickness in mm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from medganlab.data.cxr.anatomy import (
    FIELD_MM,
    _Grid,
    _Interior,
    _Lungs,
    _Patient,
    _root,
    _Silhouette,
    _smoothstep,
    _uclip,
    _window,
)
from medganlab.data.cxr.textures import _blur3

__all__: list[str] = []


# main branches: radius factor 0.84 + 0.06 b, turn 4 + 8 c degrees, step factor 0.88 + 0.1 b
_MAIN = np.array([[[0.06], [8.0], [0.1]], [[0.84], [4.0], [0.88]]])  # scales, offsets


def _grow_tree(
    rng: np.random.Generator,
    start: tuple[float, float] | np.ndarray,
    angles_deg: Sequence[float],
    radius: float | np.ndarray,
    length: float,
    keep: _Interior,
    min_radius: float = 0.45,
    spread: tuple[float, float] = (25, 50),
    max_segments: int = 400,
) -> np.ndarray:
    """Random branching tree(s) as an (n, 5) array of (x0, y0, x1, y1, diameter) segments.

    ``start`` is one point or one point per trunk (``angles_deg``), so several trees grow
    in the same generations; tips that leave ``keep`` (a lung interior) stop.
    """
    count = len(angles_deg)
    origin = np.broadcast_to(np.asarray(start, np.float64), (count, 2))
    # one generation is one (11, tips) array, few numpy calls each: the segments
    # x0, y0, x1, y1, radius, then angle, step and the draws a, b, c, d; the children
    # are written straight into the next generation's array (x0, y0, radius, angle
    # before its jitter, step), main branches first, then side branches
    grown = np.empty((11, count))
    grown[0], grown[1] = origin[:, 0], origin[:, 1]
    grown[5] = np.radians(np.asarray(angles_deg, np.float64))
    grown[4] = np.broadcast_to(np.asarray(radius, np.float64), (count,))
    grown[6] = float(length)
    side_scale = np.array([[0.15], [float(spread[1] - spread[0])], [0.2]])
    side_offset = np.array([[0.55], [float(spread[0])], [0.7]])
    segments: list[np.ndarray] = []
    total = 0
    while grown.shape[1] and total < max_segments:
        grown[7:] = rng.random((4, grown.shape[1]))
        angle = grown[5]
        jitter = grown[10] - 0.5  # the draw d bends the segment
        jitter *= 0.3
        angle += jitter
        np.cos(angle, out=grown[2])
        np.sin(angle, out=grown[3])
        grown[2:4] *= grown[6]
        grown[2:4] += grown[0:2]
        ok = keep.at(grown[2:4])
        if not ok.all():
            grown = grown.compress(ok, axis=1)
        n = grown.shape[1]
        if not n:
            break
        segments.append(grown[:5])
        total += n
        angle = grown[5]
        turn = np.where(grown[7] < 0.5, 1.0, -1.0)
        children = np.empty((11, 2 * n))
        main, side = children[:, :n], children[:, n:]
        children[0:2, :n] = grown[2:4]
        children[0:2, n:] = grown[2:4]
        # radius factor, turn (degrees) and step factor of the main branches from the
        # draws b, c, b, of the side branches from c, d, a
        np.multiply(grown[[8, 9, 8]], _MAIN[0], out=main[4:7])
        main[4:7] += _MAIN[1]
        np.multiply(grown[[9, 10, 7]], side_scale, out=side[4:7])
        side[4:7] += side_offset
        children[4:7:2, :n] *= grown[4:7:2]
        children[4:7:2, n:] *= grown[4:7:2]
        np.radians(children[5], out=children[5])
        main[5] *= turn
        side[5] *= turn
        np.subtract(angle, main[5], out=main[5])
        side[5] += angle
        grown = children.compress(children[4] >= min_radius, axis=1)
    if not total:
        return np.zeros((0, 5))
    out = np.concatenate(segments, axis=1).T[:max_segments].copy()
    out[:, 4] *= 2  # radius -> diameter
    return out


def _draw_segments(grid: _Grid, segments: np.ndarray, blur: int = 1) -> np.ndarray:
    """Rasterise (x0, y0, x1, y1, diameter_mm) segments as chord thickness (mm).

    Each segment is sampled every half pixel along and every pixel across its width, and
    the samples (weighted by the round chord profile and the area they stand for) are
    splatted bilinearly with one ``bincount``: no per-segment Python call.
    """
    n = grid.size
    segments = np.asarray(segments, dtype=np.float64).reshape(-1, 5)
    if len(segments):
        ends = (segments[:, :4] + FIELD_MM / 2) / grid.pixel - 0.5
        x0, y0, x1, y1 = ends.T
        diameter = segments[:, 4]
        width = diameter / grid.pixel
        length = np.hypot(x1 - x0, y1 - y0)
        along = np.maximum(1, np.ceil(length)).astype(np.int64)
        across = np.maximum(1, np.ceil(width)).astype(np.int64)
        counts = along * across
        which = np.repeat(np.arange(len(segments)), counts)
        local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        k_across = across[which]
        t = (local // k_across) / along[which]
        offset = (local % k_across + 0.5) / k_across - 0.5  # -0.5..0.5 of the width
        nx, ny = -(y1 - y0) / np.maximum(length, 1e-9), (x1 - x0) / np.maximum(length, 1e-9)
        w = width[which]
        px = x0[which] + (x1 - x0)[which] * t + nx[which] * offset * w
        py = y0[which] + (y1 - y0)[which] * t + ny[which] * offset * w
        chord = np.where(w >= 1, np.sqrt(np.maximum(1 - (2 * offset) ** 2, 0)), 0.785 * w)
        area = (length / along)[which] * np.where(w >= 1, w / k_across, 1.0)
        value = diameter[which] * chord * area
        fx, fy = np.floor(px), np.floor(py)
        ax, ay = px - fx, py - fy
        fx, fy = fx.astype(np.int64), fy.astype(np.int64)
        # splat into the samples' bounding window (the four neighbours of a sample are
        # its base index + 0, 1, a row, a row + 1), blur there, then crop to the grid
        c0, r0 = int(fx.min()) - 2, int(fy.min()) - 2
        w_, h_ = int(fx.max()) + 4 - c0, int(fy.max()) + 4 - r0
        base = (fy - r0) * w_ + (fx - c0)
        index = np.concatenate([base, base + 1, base + w_, base + w_ + 1])
        right, left = value * ax, value * (1 - ax)
        by = 1 - ay
        weights = np.concatenate([left * by, right * by, left * ay, right * ay])
        local = np.bincount(index, weights=weights, minlength=w_ * h_).reshape(h_, w_)
        out = np.zeros((n, n), np.float32)
        rows = slice(max(r0, 0), min(r0 + h_, n))
        cols = slice(max(c0, 0), min(c0 + w_, n))
        if rows.stop <= rows.start or cols.stop <= cols.start:
            return out
        blurred = _blur3(local, blur)
        out[rows, cols] = blurred[
            rows.start - r0 : rows.stop - r0, cols.start - c0 : cols.stop - c0
        ]
        return out
    return np.zeros((n, n), np.float32)


def _hilum_points(p: _Patient, silhouette: _Silhouette) -> dict[int, tuple[float, float]]:
    """Where each pulmonary artery leaves the mediastinum (the left hilum is higher)."""
    out = {}
    for side, dy in ((-1, 10.0), (1, -4.0)):
        y = p.hilum_y + dy
        u = float(silhouette.medial(np.array([y]), side)[0])
        out[side] = (side * (u + 10.0), y)
    return out


def _vessel_trees(p: _Patient, lungs: _Lungs, silhouette: _Silhouette) -> np.ndarray:
    """Both lungs' pulmonary vessel trees (segments, mm), grown from this patient's seed:
    eight trunks per hilum (upper lobe up, lower lobe down), branching and tapering."""
    rng = np.random.default_rng([p.seed, 23])
    keep = _Interior(lungs, silhouette, 11)
    hila = _hilum_points(p, silhouette)
    base = np.array([-80, -55, -25, 5, 30, 55, 80, 100], np.float64)
    starts, angles, radii = [], [], []
    for side in (-1, 1):
        trunk = base + rng.normal(0, 8, base.size)
        angles.append(trunk if side == 1 else 180 - trunk)
        radii.append(rng.uniform(2.4, 3.4, base.size) * np.where(trunk > 20, 1.1, 0.95))
        # trunks leave the hilum along its height: upper lobe above, lower lobe below
        start = np.tile(hila[side], (base.size, 1))
        start[:, 1] += _uclip(trunk, -60, 90) * 0.25
        start[:, 0] += side * 4
        starts.append(start)
    return _grow_tree(
        rng,
        np.concatenate(starts),
        np.concatenate(angles),
        np.concatenate(radii),
        float(rng.uniform(15, 18)),
        keep,
        0.72,
        max_segments=900,
    )


def _hila(grid: _Grid, p: _Patient, silhouette: _Silhouette) -> np.ndarray:
    """Hilar pulmonary arteries: lobulated soft-tissue densities (mm) beside the mediastinum;
    on the right the descending (interlobar) artery runs down beside the bronchus."""
    out = np.zeros((grid.size, grid.size), np.float32)
    hila = _hilum_points(p, silhouette)
    for side in (-1, 1):
        cx, cy = hila[side]
        cx -= side * 6
        lobes = ((0, 0, 11, 18, 9), (side * 7, 18, 7, 16, 7), (side * 2, -16, 7, 9, 5))
        for ox, oy, rx, ry, amp in lobes:
            window = _window(grid, cx + ox - rx, cx + ox + rx, cy + oy - ry, cy + oy + ry)
            dx = (grid.x[:, window[1]] - cx - ox) / rx
            dy = (grid.y[window[0]] - cy - oy) / ry
            out[window] += (amp * _root(1 - dx * dx - dy * dy)).astype(np.float32)
    return out


def _airways(grid: _Grid, p: _Patient, lungs: _Lungs) -> np.ndarray:
    """Trachea and main bronchi as air columns (mm of air)."""
    carina_y = p.hilum_y - 26
    cx = p.trachea_x + lungs.shift * 0.6
    out = np.zeros((grid.size, grid.size), np.float32)
    radius = 8.5
    window = _window(grid, cx - radius - 3, cx + radius + 3, -FIELD_MM / 2, carina_y + 4)
    dx = (grid.x[:, window[1]] - cx) / radius
    y = grid.y[window[0]]
    # a flattened, thin-walled tube: dim in the neck, clearer in the chest
    along = _smoothstep(y, p.apex_y - 50, p.apex_y + 10) * _smoothstep(carina_y + 4 - y, 0, 8)
    column = 1.2 * radius * (_root(1 - dx * dx) * (0.3 + 0.7 * along))
    out[window] += column.astype(np.float32)
    right = (cx - 24 * math.sin(math.radians(30)), carina_y + 24 * math.cos(math.radians(30)))
    left = (cx + 46 * math.sin(math.radians(50)), carina_y + 46 * math.cos(math.radians(50)))
    segments = np.array(
        [
            (cx, carina_y - 2, *right, 12.0),
            (cx, carina_y - 2, *left, 11.0),
            (*right, right[0] - 4, right[1] + 24, 9.0),
        ]
    )
    out += 0.8 * _draw_segments(grid, segments, blur=2)
    return out
