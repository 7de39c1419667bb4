"""Bone (mm of bone-equivalent thickness): ribs, spine, clavicles, scapulae and humeri."""

from __future__ import annotations

import math

import numpy as np

from medganlab.data.cxr.anatomy import (
    FIELD_MM,
    _clip01,
    _ellipse_depth,
    _Grid,
    _Lungs,
    _Patient,
    _root,
    _Silhouette,
    _smoothstep,
    _uclip,
)
from medganlab.data.cxr.soft_tissue import _shoulder_joint, _torso_half

__all__: list[str] = []


def _skeleton(grid: _Grid, p: _Patient, lungs: _Lungs, silhouette: _Silhouette) -> np.ndarray:
    """All bones of one patient (independent of the findings: cached per patient)."""
    bone = np.zeros((grid.size, grid.size), np.float32)
    _spine(bone, grid, p, lungs.shift)
    rng = np.random.default_rng([p.seed, 5])
    jitter = rng.normal(0, 1, (2, 12, 4))  # per side and rib: level, drop, thickness, arch
    tubes: list[tuple[np.ndarray, np.ndarray]] = []
    _ribs_and_clavicles(tubes, grid, p, lungs, silhouette, jitter)
    for side in (-1, 1):
        _scapula(bone, grid, p, side)
        _humerus(bone, grid, p, side)
    index = np.concatenate([t[0] for t in tubes])
    values = np.concatenate([t[1] for t in tubes])
    flat = np.bincount(index, weights=values, minlength=grid.size * grid.size)
    bone += flat.reshape(grid.size, grid.size).astype(np.float32)
    return bone


def _tube_profile(d2: np.ndarray, hollow: np.ndarray) -> np.ndarray:
    """Cortical bone across a tube: chord of the outer surface minus the medullary cavity."""
    cavity = np.sqrt(np.maximum(0.55 - d2, 0)) * np.float32(1 / math.sqrt(0.55))
    return np.sqrt(np.maximum(1 - d2, 0)) - hollow * cavity


def _draw_tubes(tubes: list, grid: _Grid, cols, u, yc, hw, weight, hollow) -> None:
    """Tubes (one per row of ``yc``: centre-line rows in mm at the columns ``cols``, one row
    of columns per tube) with a cortical profile (``hollow`` per tube), in a band of rows
    around each centre line: appends the flat pixel indices and values to ``tubes``
    (summed once by :func:`_skeleton`). Only the (tube, column) pairs of non-zero weight
    are drawn, all in one set of array operations, each in the band the steepest of them
    needs."""
    yc = np.asarray(yc, np.float32)
    u = np.broadcast_to(np.asarray(u, np.float32), yc.shape)
    slope = np.zeros_like(yc)
    slope[:, 1:-1] = (yc[:, 2:] - yc[:, :-2]) / (u[:, 2:] - u[:, :-2])
    slope[:, 0], slope[:, -1] = slope[:, 1], slope[:, -2]
    weight = np.broadcast_to(np.asarray(weight, np.float32), yc.shape)
    pairs = np.flatnonzero(weight)  # (tube, column) pairs, tube-major
    if not pairs.size:
        return

    shape = yc.shape

    def drawn(values, dtype=np.float32):
        return np.broadcast_to(np.asarray(values, dtype), shape).ravel().take(pairs)

    hw, weight, cols = drawn(hw), weight.ravel().take(pairs), drawn(cols, np.int32)
    hollow = np.asarray(hollow, np.float32).take(pairs // shape[1])
    yc, slope = yc.ravel().take(pairs), slope.ravel().take(pairs)
    stretch = np.sqrt(1.0 + np.minimum(slope**2, 4.0)) / hw  # vertical mm -> across units
    reach = int(math.ceil(float(np.max(1.0 / stretch)) / grid.pixel)) + 1  # half band
    centre = np.round((yc + FIELD_MM / 2) / grid.pixel - 0.5).astype(np.int32)
    # (pairs, band) arrays, int32 and float32: the fewer bytes, the faster
    rows = centre[:, None] + np.arange(-reach, reach + 1, dtype=np.int32)
    ys = (rows.astype(np.float32) + 0.5) * np.float32(grid.pixel) - np.float32(FIELD_MM / 2)
    ys -= yc[:, None]
    ys *= stretch[:, None]
    ys *= ys
    values = _tube_profile(ys, hollow[:, None])
    values *= weight[:, None]
    keep = values != 0
    keep &= rows >= 0
    keep &= rows < grid.size
    kept = np.flatnonzero(keep)  # (a boolean index of a large array is slower)
    index = rows.ravel().take(kept)
    index *= grid.size
    index += cols.take(kept // (2 * reach + 1))
    tubes.append((index, values.ravel().take(kept)))


def _ribs_and_clavicles(tubes, grid, p: _Patient, lungs: _Lungs, silhouette, jitter) -> None:
    """The 12 ribs and the clavicle of each side, as one set of tubes.

    Each rib is a tilted hoop: the posterior arc conspicuous, leaving the spine nearly
    level and curving down at the chest wall, with bright cortical margins; the anterior
    arc fainter, sloping down medially and fading where the costal cartilage begins.
    ``jitter`` varies each rib's level, lateral drop, calibre and arch. The clavicle runs
    S-shaped from the manubrium up and out to the acromion. Both sides are computed at
    once (arrays of side x rib x column)."""
    index = np.arange(12)
    sides = (-1, 1)
    width = np.array([p.half_width[s] for s in sides])[:, None]  # (2, 1)
    spacing = p.rib_spacing * (0.93 + 0.012 * index)  # lower ribs slightly further apart
    origin = p.rib_top + index * spacing + 1.6 * jitter[:, :, 0]  # (2, 12)
    drop = (18.0 + 9.0 * np.minimum(index, 6)) * np.where(index < 9, 1.0, 0.8)
    drop = drop * (1 + 0.08 * jitter[:, :, 1])
    arch = 9.0 * (1 + 0.2 * jitter[:, :, 3]) * np.where(index < 2, 0.6, 1.0)
    base = width * 0.4 + width * 0.6 * _clip01(index / 4.0) ** 0.5
    lateral = np.stack([lungs.lateral(origin[k] + drop[k], s) for k, s in enumerate(sides)])
    radius = np.maximum(lateral, base) + 5.0
    radius[:, 0] = 0.45 * width[:, 0] + 26
    calibre = np.where(index > 1, 5.6, 6.5) * (1 + 0.15 * p.habitus) * (1 + 0.07 * jitter[:, :, 2])
    length = width[:, 0] + p.wall + 12  # clavicle
    spine_u = 14.0 - np.array(sides) * lungs.shift
    # the columns of each side, from the spine outward (same count on both sides)
    reach = float(max(radius.max(), length.max()))
    count = int(math.ceil((reach - spine_u.min()) / grid.pixel)) + 1
    start = [
        int(np.searchsorted(grid.x[0], lungs.shift + 14.0)),  # left side, outward = right
        int(np.searchsorted(grid.x[0], lungs.shift - 14.0)) - 1,  # right side, outward = left
    ]
    cols = np.stack(
        [
            _uclip(start[1] - np.arange(count), 0, grid.size - 1),
            _uclip(start[0] + np.arange(count), 0, grid.size - 1),
        ]
    )
    u = np.array(sides, np.float32)[:, None] * grid.x[0][cols]  # (2, count), float32
    valid = (u >= spine_u[:, None]) & (u <= reach)
    u3 = u[:, None, :]  # (2, 1, count)
    f32 = np.float32
    origin, drop, arch, radius, calibre = (
        v.astype(f32) for v in (origin, drop, arch, radius, calibre)
    )
    spine_u, length = spine_u.astype(f32), length.astype(f32)
    s_ = _clip01(u3 / radius[:, :, None])
    s2 = s_ * s_
    s8 = (s2 * s2) ** 2
    posterior = (
        origin[:, :, None]
        - arch[:, :, None] * np.sin(np.pi * np.minimum(s_ / 0.45, 1))
        + drop[:, :, None] * s2 * np.sqrt(s_)
        + 0.7 * drop[:, :, None] * s8
    )
    inside = _smoothstep(radius[:, :, None] - u3, 0.0, 7.0)  # the hoop turns away: soft end
    hw = calibre[:, :, None] * (0.8 + 0.4 * s_)
    # faint over the heart and mediastinum (dense, moving), clear over the lungs
    medial = np.stack([silhouette.medial(posterior[k], s) for k, s in enumerate(sides)])
    fade = (0.3 + 0.7 * _smoothstep(u3 - medial, -15, 5)) * inside
    fade = fade * _smoothstep(u3 - spine_u[:, None, None], 0, 8)
    # the lateral arc is seen end-on (tangentially): brighter along the chest wall
    tangential = 1 + 0.25 * _smoothstep(s_, 0.8, 1.0)
    # under the domes the liver and spleen hide the ribs
    dome = np.stack([lungs.dome_y(u[k], s) for k, s in enumerate(sides)])[:, None, :]
    hidden = _smoothstep(dome + 12 - posterior, 0, 25)
    density = 1 + 0.15 * jitter[:, :, 3] - 0.03 * index  # ribs differ in density
    weights = 1.9 * density[:, :, None] * (0.15 + 0.85 * hidden) * hw * fade * tangential
    front = 18.0 + 5.0 * np.minimum(index[:9], 6)
    s9 = s_[:, :9]
    rest = 1 - s9
    anterior = (origin[:, :9] + 1.5 * drop[:, :9])[:, :, None] + front[:, None] * rest * np.sqrt(
        np.sqrt(rest)
    )
    anterior = anterior - 0.5 * drop[:, :9, None] * s8[:, :9]
    hw9 = np.full_like(anterior, 7.0)
    fade9 = _smoothstep(u3, 38, 70) * (1 - _smoothstep(s9, 0.9, 0.99))
    fade9 = fade9 * (0.1 + 0.9 * _smoothstep(dome - anterior, 0, 25))
    # clavicle: bulbous medial end, lateral third bowing up to the acromion
    sc = _uclip(u3 / length[:, None, None], 0, 1)
    sc2 = sc * sc
    clavicle = p.apex_y + 44 - 30 * sc + 8 * np.sin(2 * np.pi * sc) - 8 * sc2 * sc2 * sc2
    hw_c = 5.5 + 3.5 * np.exp(-(((sc - 0.06) / 0.08) ** 2)) + 3.0 * sc2 * sc2
    fade_c = _smoothstep(u3 - spine_u[:, None, None], 2, 10)
    fade_c = fade_c * (1 - 0.4 * _smoothstep(u3 / length[:, None, None], 0.85, 1.0))
    fade_c = fade_c * (u3 <= length[:, None, None])
    tubes_y = np.concatenate([posterior, anterior, clavicle], axis=1)  # (2, 22, count)
    tubes_w = np.concatenate([weights, 0.5 * hw9 * fade9, 2.2 * hw_c * fade_c], axis=1)
    tubes_w = tubes_w * valid[:, None, :]
    tubes_hw = np.concatenate([hw, hw9, hw_c], axis=1)
    n_tubes = tubes_y.shape[1]
    _draw_tubes(
        tubes,
        grid,
        np.repeat(cols, n_tubes, axis=0),
        np.repeat(u, n_tubes, axis=0),
        tubes_y.reshape(2 * n_tubes, count),
        tubes_hw.reshape(2 * n_tubes, count),
        tubes_w.reshape(2 * n_tubes, count),
        np.tile(np.array([0.45] * 12 + [0.2] * 9 + [0.4]), 2),
    )


def _scapula(bone, grid, p: _Patient, side: int) -> None:
    """Scapula: a thin plate with a bright medial border; rotated forward (scapula_out 1)
    it clears the lung, otherwise its medial part overlies the upper lateral lung."""
    top = p.apex_y - 10
    bottom = top + 150 * p.habitus
    medial_top = p.half_width[side] * (0.72 + 0.26 * p.scapula_out)
    rows = np.nonzero((grid.y[:, 0] >= top) & (grid.y[:, 0] <= bottom))[0]
    cols = np.nonzero(side * grid.x[0] >= medial_top - 25)[0]
    if rows.size == 0 or cols.size == 0:
        return
    window = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    u = side * grid.x[:, window[1]]
    y = grid.y[window[0]]
    s = _uclip((y - top) / (bottom - top), 0, 1)
    medial = medial_top + 22 * s - 30 * s * s  # the inferior angle swings in
    lateral = (_torso_half(p) + 20) * (1 - s) + (medial + 12) * s
    inside = _smoothstep(u - medial, -1.5, 2.0) * _smoothstep(lateral - u, -1, 8)
    vertical = _smoothstep(y, top, top + 12) * _smoothstep(bottom - y, 0, 14)
    border = np.exp(-(((u - medial) / 2.6) ** 2))
    bone[window] += ((2.2 * inside + 3.2 * border * inside) * vertical).astype(np.float32)


def _humerus(bone, grid, p: _Patient, side: int) -> None:
    """Humeral head at the shoulder joint and the proximal shaft along the arm."""
    jx, jy = _shoulder_joint(p, side)
    head, window = _ellipse_depth(grid, jx, jy, 24 * p.habitus, 26 * p.habitus)
    if head is not None:
        bone[window] += (9 * head * (1 - 0.45 * head**4)).astype(np.float32)
    dx, dy = side * math.sin(p.arm_angle), math.cos(p.arm_angle)
    reach = 12 * p.habitus
    cols = np.nonzero(side * grid.x[0] > side * jx - 2 * reach)[0]
    if cols.size == 0:
        return
    window = (slice(0, grid.size), slice(cols[0], cols[-1] + 1))
    x, y = grid.x[:, window[1]], grid.y[window[0]]
    along = (x - jx) * dx + (y - jy) * dy
    across = (x - jx) * dy - (y - jy) * dx
    if not np.any(np.abs(across) < reach):
        return
    d2 = (across / reach) ** 2
    shaft = _tube_profile(d2, 0.55) * _smoothstep(along, 5, 25)
    bone[window] += (8 * reach / 12 * shaft).astype(np.float32)


def _spine(bone, grid: _Grid, p: _Patient, shift: float) -> None:
    """Vertebral column: bodies with end plates, discs, pedicles and spinous processes."""
    axis = shift + p.spine_shift
    cols = np.nonzero(np.abs(grid.x[0] - axis) < 30.0)[0]
    if cols.size:
        bone[:, cols] += _vertebrae(grid.x[:, cols] - axis, grid.y, p)


def _vertebrae(x: np.ndarray, y: np.ndarray, p: _Patient) -> np.ndarray:
    """Bone thickness of the vertebral column at points x (mm from its axis), y."""
    spacing = p.rib_spacing * 1.02
    level = (y - (p.rib_top - 0.4 * spacing)) / spacing
    phase = level - np.floor(level)
    growth = 1 + 0.25 * _smoothstep(y, -100, 200)
    half = 21.0 * growth
    column = _root(1 - (x / half) ** 2)
    discs = _smoothstep(phase, 0.06, 0.14) * _smoothstep(-phase, -0.94, -0.86)
    body = column * (0.85 + 0.15 * discs)
    plates = np.exp(-(((phase - 0.13) / 0.035) ** 2)) + np.exp(-(((phase - 0.87) / 0.035) ** 2))
    cortex = np.exp(-(((np.abs(x) - half * 0.95) / 2.2) ** 2))
    bone = 4.2 * body + 0.1 * plates * column + 2.2 * cortex * body
    for centre in (-0.72, 0.72):  # pedicles: cortical rings
        r = np.sqrt(((x - centre * half) / (0.22 * half)) ** 2 + ((phase - 0.35) / 0.16) ** 2)
        bone += 1.6 * np.exp(-(((r - 1) / 0.3) ** 2))
    spinous = np.sqrt((x / 4.5) ** 2 + ((phase - 0.75) / 0.2) ** 2)
    bone += 1.5 * _root(1 - spinous**2)
    return bone.astype(np.float32)
