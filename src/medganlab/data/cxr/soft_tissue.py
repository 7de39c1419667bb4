"""Soft tissue (water-equivalent thickness in mm): neck, shoulders, the torso with its
flank and axillary folds, the abducted arms, breasts, and the gas of the stomach and bowel."""

from __future__ import annotations

import math

import numpy as np

from medganlab.data.cxr.anatomy import _Grid, _Lungs, _Patient, _root, _smoothstep, _uclip, _window

__all__: list[str] = []


def _torso_half(p: _Patient) -> float:
    """Half width (mm) of the torso at the level of the lower chest."""
    return max(p.half_width.values()) + p.wall + 30 * p.fat


def _shoulder_joint(p: _Patient, side: int) -> tuple[float, float]:
    """Centre of the humeral head (mm)."""
    return side * (_torso_half(p) + 12 * p.habitus), p.apex_y - 8 + 0.15 * p.shoulder_drop


def _body(grid: _Grid, p: _Patient) -> np.ndarray:
    """Soft-tissue thickness (mm) of neck, shoulders, torso, arms, breasts and axillary folds."""
    x, y = grid.x, grid.y
    half = _torso_half(p)
    ax = np.abs(x)
    # shoulder line: from the neck base down and out to the acromion, then the arm
    neck_base = p.apex_y - 55
    shoulder = neck_base + p.shoulder_drop * _uclip((ax - 45) / (half - 45), 0, 1.4) ** 1.7
    top = _smoothstep(y - shoulder, -6, 26)
    # the chest widens from the axillae down, narrows a little toward the waist
    width = half * (0.94 + 0.06 * _smoothstep(y, p.apex_y + 20, p.apex_y + 120))
    width = width * (1 - 0.05 * _smoothstep(y, 80, 215))
    # an ellipse flattened front to back, its skin edge rounded off over ~2 cm
    across = _uclip(1 - (x / width) ** 2, 0, 1) ** 0.45 * _smoothstep(width - ax, -4, 22)
    depth = p.body_depth * (1 + 0.1 * _smoothstep(y, p.dome_y[-1], p.dome_y[-1] + 120))
    # above the apices the body is thinner front to back (the neck base and shoulders)
    upper = 0.55 + 0.45 * _smoothstep(y, p.apex_y - 50, p.apex_y + 110)
    torso = depth * upper * across * top
    neck = 0.55 * p.body_depth * _root(1 - (x / (64 * p.habitus)) ** 2) ** 0.6
    body = np.maximum(torso, neck)
    for side in (-1, 1):
        body = body + _arm(grid, p, side)
        if p.breast > 0.05:
            body += _breast(grid, p, side)
        body += _axillary_fold(grid, p, side)
    return body.astype(np.float32)


def _arm(grid: _Grid, p: _Patient, side: int) -> np.ndarray:
    """Upper arm: a cylinder from the shoulder down and out at ``arm_angle`` (thickness mm)."""
    jx, jy = _shoulder_joint(p, side)
    direction = (side * math.sin(p.arm_angle), math.cos(p.arm_angle))
    along = (grid.x - jx) * direction[0] + (grid.y - jy) * direction[1]
    across = (grid.x - jx) * direction[1] - (grid.y - jy) * direction[0]
    radius = p.arm_radius * (1 + 0.25 * np.exp(-((along / 60) ** 2)))  # deltoid bulk
    chord = 2 * radius * _root(1 - (across / radius) ** 2)
    return (0.85 * chord * _smoothstep(along, -50, -10)).astype(np.float32)


def _breast(grid: _Grid, p: _Patient, side: int) -> np.ndarray:
    """Breast shadow over the lower zone: soft above, a curved inferior margin."""
    u = side * grid.x
    centre_u = 0.66 * p.half_width[side]
    fold = p.dome_y[side] - 12 + 26 * ((u - centre_u) / 80) ** 2
    above = fold - grid.y
    profile = _root(above / 18.0) * np.exp(-((above / 110.0) ** 2))
    lateral = np.exp(-(((u - centre_u) / 55.0) ** 2))
    return (55 * p.breast * profile * lateral).astype(np.float32)


def _axillary_fold(grid: _Grid, p: _Patient, side: int) -> np.ndarray:
    """Anterior axillary fold (pectoralis): an oblique soft-tissue edge, upper lateral chest."""
    u = side * grid.x
    edge = grid.y - (p.apex_y + 10 + 1.1 * (u - 0.55 * p.half_width[side]))
    band = _smoothstep(-edge, -4, 22) * _smoothstep(u, 0.5 * p.half_width[side], 140)
    return (20 * band * _smoothstep(grid.y, p.apex_y - 20, p.apex_y + 15)).astype(np.float32)


def _abdominal_gas(grid: _Grid, p: _Patient, lungs: _Lungs, rng) -> np.ndarray:
    """Gas (mm of air): gastric bubble with an air-fluid level under the left dome, and a
    few mottled bowel-gas shadows low in the field."""
    out = np.zeros((grid.size, grid.size), np.float32)
    u = float(rng.uniform(0.3, 0.55)) * p.half_width[1]
    top = float(lungs.dome_y(u, 1)) + rng.uniform(10, 18)
    rx, ry = rng.uniform(16, 30), rng.uniform(9, 15)
    level = top + ry * rng.uniform(0.9, 1.3)
    window = _window(grid, u - rx, u + rx, top, top + 2 * ry)
    dx = (grid.x[:, window[1]] - u) / rx
    dy = (grid.y[window[0]] - top - ry) / ry
    wobble = 1 + 0.12 * np.sin(5 * np.arctan2(dy, dx) + rng.uniform(0, 6))
    bubble = _root(1 - (dx * dx + dy * dy) * wobble)
    out[window] += (26 * bubble * _smoothstep(level - grid.y[window[0]], -1, 1)).astype(np.float32)
    low = max(lungs.dome.values()) + 70
    for _ in range(int(rng.integers(2, 6))):  # colonic / small-bowel gas
        gx, gy = rng.uniform(-0.8, 0.8) * p.half_width[1], rng.uniform(low, low + 110)
        rx, ry = rng.uniform(7, 20), rng.uniform(5, 11)
        window = _window(grid, gx - rx, gx + rx, gy - ry, gy + ry)
        dx = (grid.x[:, window[1]] - gx) / rx
        dy = (grid.y[window[0]] - gy) / ry
        out[window] += (rng.uniform(6, 12) * _root(1 - dx * dx - dy * dy)).astype(np.float32)
    return out
