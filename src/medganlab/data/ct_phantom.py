"""Kidney-tumour abdominal CT phantom: 3-D volumes in HU with KiTS19 labels.

Every case is a made-up patient described in physical millimetres (body size, fat, spine,
vessels, organs, kidneys, tumours), so the same seed shows the same patient at any in-plane
size (64-512) and slice thickness (1-5 mm). Slices are rendered one at a time:

* patient coordinates: ``x`` to the patient's left (image right), ``y`` posterior (image
  down), ``z`` superior; volume axis 0 runs cranial -> caudal (slice 0 is the highest);
* HU per tissue inside the ranges of SPEC.md section D (arterial / corticomedullary phase);
* labels 0 background, 1 kidney, 2 tumour (tumour overrides kidney), as KiTS19;
* partial-volume blur (sub-slices averaged across the slice thickness, in-plane point
  spread) and correlated noise of 10-20 HU.

``generate_dataset`` writes a DICOM CT series per case (plus labels and metadata, and
optionally the KiTS19 NIfTI layout) into an atomic, checksummed folder. This module imports
only NumPy and SciPy at module level (the command line imports it).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

__all__ = [
    "TISSUES",
    "CtCase",
    "render_case",
    "generate_dataset",
    "case_seed",
    "add_arguments",
    "run_cli",
]

DATASET_KIND = "kidney_ct_phantom"
FORMAT_VERSION = 1
Z_HALF_EXTENT_MM = 90.0  # the volume covers +-90 mm around the kidneys' mean centre

TISSUES: dict[str, int] = {
    "air": 0,
    "skin": 1,
    "fat": 2,
    "muscle": 3,
    "bone_cortical": 4,
    "bone_cancellous": 5,
    "disc": 6,
    "csf": 7,
    "liver": 8,
    "spleen": 9,
    "aorta": 10,
    "vein": 11,
    "bowel_wall": 12,
    "bowel_gas": 13,
    "bowel_fluid": 14,
    "kidney_cortex": 15,
    "kidney_medulla": 16,
    "renal_sinus_fat": 17,
    "urine": 18,
    "tumour": 19,
    "necrosis": 20,
    "pancreas": 21,
    "gallbladder": 22,
}
"""Tissue ids of :attr:`CtCase.tissues` (finer than the labels; for teaching and tests)."""


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


# --------------------------------------------------------------------------------------
# Patient model (all lengths in mm)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    """A smooth random field: a sum of cosines in physical space, roughly unit variance."""

    waves: np.ndarray  # (n, 3) wave vectors in rad/mm
    phases: np.ndarray  # (n,)

    @staticmethod
    def make(rng: np.random.Generator, scale_mm: float, n: int = 6) -> _Field:
        directions = rng.normal(size=(n, 3))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        lengths = rng.uniform(0.6, 1.4, size=(n, 1)) * (2 * math.pi / scale_mm)
        return _Field(directions * lengths, rng.uniform(0, 2 * math.pi, size=n))

    def __call__(self, x: np.ndarray, y: np.ndarray, z: float) -> np.ndarray:
        """Evaluate on a grid given as a row and a column vector (either way round)."""
        x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
        kx, ky, kz = (self.waves[:, axis].astype(np.float32) for axis in range(3))
        shift = (kz * np.float32(z) + self.phases).astype(np.float32)
        gain = np.float32(math.sqrt(2.0 / len(self.phases)))
        along_x = x.reshape(-1, 1) * kx
        along_y = y.reshape(-1, 1) * ky + shift
        # cos(a + b) = cos a cos b - sin a sin b: two small products (einsum: no BLAS threads)
        if x.ndim == 2 and x.shape[0] == 1 and y.ndim == 2 and y.shape[1] == 1:
            total = np.einsum("hn,wn->hw", np.cos(along_y), np.cos(along_x)) - np.einsum(
                "hn,wn->hw", np.sin(along_y), np.sin(along_x)
            )
        elif x.ndim == 2 and x.shape[1] == 1 and y.ndim == 2 and y.shape[0] == 1:
            total = np.einsum("hn,wn->hw", np.cos(along_x), np.cos(along_y)) - np.einsum(
                "hn,wn->hw", np.sin(along_x), np.sin(along_y)
            )
        else:
            raise ValueError(
                f"expected a row and a column vector, got shapes {x.shape} and {y.shape}"
            )
        return total * gain


@dataclass(frozen=True)
class _Kidney:
    side: int  # -1 right kidney (image left), +1 left kidney (image right)
    x: float
    y: float
    z: float
    half_length: float
    a: float  # in-plane semi-axis along the section's long axis (at the centre)
    b: float  # in-plane semi-axis towards the hilum
    hilum_angle: float  # radians from medial towards anterior
    tilt_x: float  # mm of medial shift per mm towards the upper pole
    tilt_y: float  # mm of posterior shift per mm towards the upper pole
    cortex: float
    pyramids: int
    pyramid_phase: float
    hu_cortex: float
    hu_medulla: float

    def frame(
        self, z: float
    ) -> tuple[float, float, float, float, np.ndarray, np.ndarray, float] | None:
        """Section centre, semi-axes, ``t`` and unit vectors (long, hilum) at height z."""
        t = (z - self.z) / self.half_length
        if abs(t) >= 1.0:
            return None
        scale = math.sqrt(1.0 - t * t)
        dz = z - self.z
        cx = self.x - self.side * self.tilt_x * dz
        cy = self.y + self.tilt_y * dz
        hilum = np.array([-self.side * math.cos(self.hilum_angle), -math.sin(self.hilum_angle)])
        long_axis = np.array([hilum[1], -hilum[0]])
        return cx, cy, self.a * scale, self.b * scale, long_axis, hilum, t


@dataclass(frozen=True)
class _Tumour:
    side: int
    x: float
    y: float
    z: float
    radii: tuple[float, float, float]
    diameter: float
    exophytic: float
    core: float  # relative radius of the necrotic core (0: none)
    hu: float
    hu_necrosis: float
    shape: _Field
    texture: _Field


@dataclass(frozen=True)
class _Loop:
    x: float
    y: float
    z: float
    radius: float
    aspect: float  # in-plane elongation (1 = round)
    angle: float
    half_length: float
    content: str  # "gas", "fluid" or "mixed"
    level: float  # air-fluid level as a fraction of the radius (mixed loops)
    colon: bool


@dataclass(frozen=True)
class _Patient:
    body_a: float
    body_b_ant: float
    body_b_post: float
    fat_lateral: float
    fat_anterior: float
    fat_posterior: float
    wall: float
    spine_y: float
    vertebra_a: float
    vertebra_b: float
    disc_phase: float
    aorta: tuple[float, float, float]
    ivc: tuple[float, float, float, float]
    kidneys: tuple[_Kidney, _Kidney]
    tumours: tuple[_Tumour, ...]
    loops: tuple[_Loop, ...]
    liver_bottom: float
    spleen_bottom: float
    hu: dict[str, float]
    noise_sigma: float
    fov: float
    fat_texture: _Field
    bone_texture: _Field
    liver_texture: _Field


def _sample_hu(rng: np.random.Generator) -> dict[str, float]:
    """HU per tissue for one patient, inside the SPEC.md section D ranges."""
    ranges = {
        "skin": (30, 50),
        "fat": (-100, -80),
        "muscle": (35, 50),
        "bone_cortical": (900, 1100),
        "bone_cancellous": (220, 280),
        "disc": (80, 100),
        "csf": (5, 15),
        "liver": (65, 85),
        "spleen": (110, 130),
        "aorta": (270, 380),
        "vein": (110, 150),
        "bowel_wall": (50, 70),
        "bowel_fluid": (5, 20),
        "kidney_cortex": (175, 195),
        "kidney_medulla": (95, 125),
        "urine": (5, 15),
        "pancreas": (95, 120),
        "gallbladder": (5, 15),
    }
    values = {name: float(rng.uniform(lo, hi)) for name, (lo, hi) in ranges.items()}
    values["bowel_gas"] = -1000.0
    values["air"] = -1000.0
    values["renal_sinus_fat"] = values["fat"]
    return values


def _sample_kidneys(rng: np.random.Generator, spine_y: float) -> tuple[_Kidney, _Kidney]:
    offset = rng.uniform(8.0, 18.0)  # the left kidney sits higher
    kidneys = []
    for side, z in ((-1, -offset / 2), (+1, offset / 2)):
        kidneys.append(
            _Kidney(
                side=side,
                x=side * rng.uniform(55.0, 63.0),
                y=spine_y + rng.uniform(-2.0, 8.0),
                z=z,
                half_length=rng.uniform(52.0, 60.0),
                a=rng.uniform(31.0, 35.0),
                b=rng.uniform(21.0, 25.0),
                hilum_angle=math.radians(rng.uniform(35.0, 55.0)),
                tilt_x=rng.uniform(0.12, 0.25),
                tilt_y=rng.uniform(0.10, 0.25),
                cortex=rng.uniform(5.0, 7.0),
                pyramids=int(rng.integers(5, 8)),
                pyramid_phase=rng.uniform(0, 2 * math.pi),
                hu_cortex=0.0,
                hu_medulla=0.0,
            )
        )
    return kidneys[0], kidneys[1]


def _sample_tumour(rng: np.random.Generator, kidney: _Kidney) -> _Tumour:
    """A renal tumour on ``kidney``: 1-10 cm, exophytic to endophytic, avoiding the hilum."""
    diameter = float(np.clip(rng.lognormal(math.log(40.0), 0.5), 10.0, 100.0))
    exophytic = rng.uniform(0.1, 0.75)  # from endophytic to mostly outside, always attached
    phi = rng.uniform(-0.9, 0.9)  # elevation on the kidney ellipsoid
    alpha = rng.uniform(math.radians(110), math.radians(330))  # away from the hilum (v > 0)
    frame = kidney.frame(kidney.z)
    assert frame is not None
    _, _, a, b, long_axis, hilum, _ = frame
    surface_local = np.array(
        [a * math.cos(phi) * math.cos(alpha), b * math.cos(phi) * math.sin(alpha)]
    )
    normal_local = np.array(
        [math.cos(phi) * math.cos(alpha) / a, math.cos(phi) * math.sin(alpha) / b]
    )
    normal_z = math.sin(phi) / kidney.half_length
    norm = math.sqrt(float(normal_local @ normal_local) + normal_z**2)
    surface_z = kidney.z + kidney.half_length * math.sin(phi)
    surface_xy = (
        np.array([kidney.x, kidney.y]) + surface_local[0] * long_axis + surface_local[1] * hilum
    )
    # follow the kidney's tilt at that height
    dz = surface_z - kidney.z
    surface_xy = surface_xy + np.array([-kidney.side * kidney.tilt_x * dz, kidney.tilt_y * dz])
    normal_xy = (normal_local[0] * long_axis + normal_local[1] * hilum) / norm
    shift = (exophytic - 0.5) * diameter
    centre = (
        float(surface_xy[0] + normal_xy[0] * shift),
        float(surface_xy[1] + normal_xy[1] * shift),
        float(surface_z + normal_z / norm * shift),
    )
    radii = tuple(float(diameter / 2 * rng.uniform(0.85, 1.15)) for _ in range(3))
    return _Tumour(
        side=kidney.side,
        x=centre[0],
        y=centre[1],
        z=centre[2],
        radii=radii,  # type: ignore[arg-type]
        diameter=diameter,
        exophytic=float(exophytic),
        core=float(rng.uniform(0.3, 0.55)) if diameter > 30 else 0.0,
        hu=float(rng.uniform(85.0, 115.0)),
        hu_necrosis=float(rng.uniform(15.0, 25.0)),
        shape=_Field.make(rng, scale_mm=max(diameter * 0.9, 8.0), n=4),
        texture=_Field.make(rng, scale_mm=max(diameter * 0.25, 5.0), n=6),
    )


def _sample_loops(
    rng: np.random.Generator, body_a: float, spine_y: float, front: float
) -> tuple[_Loop, ...]:
    """Small-bowel loops in the anterior abdomen plus ascending and descending colon."""
    loops = [
        _Loop(
            -body_a * 0.62,
            spine_y - 30,
            0.0,
            rng.uniform(20, 26),
            1.1,
            0.0,
            200.0,
            "mixed",
            rng.uniform(-0.2, 0.4),
            True,
        ),
        _Loop(
            body_a * 0.62, spine_y - 25, 0.0, rng.uniform(16, 22), 1.1, 0.5, 200.0, "gas", 0.0, True
        ),
    ]
    for _ in range(int(rng.integers(26, 38))):
        radius = rng.uniform(10.0, 18.0)
        loops.append(
            _Loop(
                x=rng.uniform(-body_a * 0.6, body_a * 0.6),
                y=rng.uniform(front + radius + 5, spine_y - 35),
                z=rng.uniform(-Z_HALF_EXTENT_MM - 20, Z_HALF_EXTENT_MM * 0.4),
                radius=radius,
                aspect=rng.uniform(1.0, 1.8),
                angle=rng.uniform(0.0, math.pi),
                half_length=rng.uniform(15.0, 45.0),
                content=str(rng.choice(["gas", "fluid", "mixed"], p=[0.2, 0.6, 0.2])),
                level=rng.uniform(-0.3, 0.5),
                colon=False,
            )
        )
    return tuple(loops)


def _sample_patient(seed: int, tumour: bool | None) -> _Patient:
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 20191]))
    body_a = rng.uniform(145.0, 175.0)
    body_b_ant = rng.uniform(105.0, 125.0)
    body_b_post = rng.uniform(100.0, 112.0)
    fat_lateral = rng.uniform(12.0, 35.0)
    fat_anterior = rng.uniform(12.0, 35.0)
    fat_posterior = rng.uniform(10.0, 25.0)
    spine_y = body_b_post - fat_posterior - rng.uniform(66.0, 74.0)
    kidneys = _sample_kidneys(rng, spine_y)
    hu = _sample_hu(rng)
    kidneys = tuple(
        _replace_hu(
            k, hu["kidney_cortex"] + rng.uniform(-3, 3), hu["kidney_medulla"] + rng.uniform(-3, 3)
        )
        for k in kidneys
    )
    has_tumour = bool(rng.random() < 0.8) if tumour is None else bool(tumour)
    tumour_sides: list[int] = []
    if has_tumour:
        choice = rng.random()
        tumour_sides = [-1] if choice < 0.45 else [1] if choice < 0.9 else [-1, 1]
    tumours = tuple(
        _sample_tumour(rng, kidneys[0] if side < 0 else kidneys[1]) for side in tumour_sides
    )
    wall = rng.uniform(9.0, 14.0)
    front = -body_b_ant + fat_anterior + wall
    loops = _sample_loops(rng, body_a - fat_lateral - wall, spine_y, front)
    aorta = (rng.uniform(8.0, 16.0), spine_y - rng.uniform(28.0, 34.0), rng.uniform(10.0, 12.5))
    ivc = (
        -rng.uniform(22.0, 28.0),
        spine_y - rng.uniform(26.0, 32.0),
        rng.uniform(11.0, 15.0),
        rng.uniform(8.0, 11.0),
    )
    fov = float(np.clip(2 * body_a * 1.12, 330.0, 440.0))
    return _Patient(
        body_a=body_a,
        body_b_ant=body_b_ant,
        body_b_post=body_b_post,
        fat_lateral=fat_lateral,
        fat_anterior=fat_anterior,
        fat_posterior=fat_posterior,
        wall=wall,
        spine_y=spine_y,
        vertebra_a=rng.uniform(21.0, 25.0),
        vertebra_b=rng.uniform(15.0, 18.0),
        disc_phase=rng.uniform(0.0, 38.0),
        aorta=aorta,
        ivc=ivc,
        kidneys=kidneys,  # type: ignore[arg-type]
        tumours=tumours,
        loops=loops,
        liver_bottom=kidneys[0].z - rng.uniform(0.0, 25.0),
        spleen_bottom=kidneys[1].z + rng.uniform(5.0, 25.0),
        hu=hu,
        noise_sigma=rng.uniform(10.0, 20.0),
        fov=fov,
        fat_texture=_Field.make(rng, scale_mm=12.0),
        bone_texture=_Field.make(rng, scale_mm=4.0),
        liver_texture=_Field.make(rng, scale_mm=20.0),
    )


def _replace_hu(kidney: _Kidney, cortex: float, medulla: float) -> _Kidney:
    values = dict(kidney.__dict__)
    values.update(hu_cortex=float(cortex), hu_medulla=float(medulla))
    return _Kidney(**values)


# --------------------------------------------------------------------------------------
# Slice canvas
# --------------------------------------------------------------------------------------


@dataclass
class _Canvas:
    """HU, tissue and label images of one axial slice on a grid in mm."""

    xs: np.ndarray
    ys: np.ndarray
    hu: np.ndarray = field(init=False)
    tissue: np.ndarray = field(init=False)
    label: np.ndarray = field(init=False)
    cavity: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        shape = (len(self.ys), len(self.xs))
        self.hu = np.full(shape, -1000.0, dtype=np.float32)
        self.tissue = np.zeros(shape, dtype=np.uint8)
        self.label = np.zeros(shape, dtype=np.uint8)
        self.cavity = np.zeros(shape, dtype=bool)

    def region(
        self, cx: float, cy: float, rx: float, ry: float
    ) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray] | None:
        """Bounding box around (cx, cy) +- (rx, ry): index slices and local x, y grids."""
        j0, j1 = np.searchsorted(self.xs, [cx - rx, cx + rx])
        i0, i1 = np.searchsorted(self.ys, [cy - ry, cy + ry])
        if j1 <= j0 or i1 <= i0:
            return None
        box = (slice(int(i0), int(i1)), slice(int(j0), int(j1)))
        return box, self.xs[None, j0:j1], self.ys[i0:i1, None]

    def paint(
        self,
        box: tuple[slice, slice],
        mask: np.ndarray,
        tissue: str,
        value: float | np.ndarray,
        label: int | None = 0,
    ) -> None:
        """Set ``tissue`` (HU ``value``, scalar or local array) where ``mask`` is true."""
        hu = self.hu[box]
        hu[mask] = value[mask] if isinstance(value, np.ndarray) else value
        self.tissue[box][mask] = TISSUES[tissue]
        if label is not None:
            self.label[box][mask] = label


def _ellipse(
    x: np.ndarray, y: np.ndarray, cx: float, cy: float, a: float, b: float, angle: float = 0.0
) -> np.ndarray:
    """Squared normalised radius of points (x, y) in an ellipse (< 1 inside)."""
    dx, dy = x - cx, y - cy
    if angle:
        c, s = math.cos(angle), math.sin(angle)
        dx, dy = c * dx + s * dy, -s * dx + c * dy
    return (dx / a) ** 2 + (dy / b) ** 2


def _paint_ellipse(
    canvas: _Canvas,
    cx: float,
    cy: float,
    a: float,
    b: float,
    tissue: str,
    value: float,
    angle: float = 0.0,
    in_cavity: bool = False,
    label: int | None = 0,
) -> None:
    reach = max(a, b)
    found = canvas.region(cx, cy, reach, reach)
    if found is None or a <= 0 or b <= 0:
        return
    box, x, y = found
    mask = _ellipse(x, y, cx, cy, a, b, angle) < 1.0
    if in_cavity:
        mask &= canvas.cavity[box]
    canvas.paint(box, mask, tissue, value, label)


def _segment_distance(x: np.ndarray, y: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    d = q - p
    t = np.clip(((x - p[0]) * d[0] + (y - p[1]) * d[1]) / max(float(d @ d), 1e-6), 0.0, 1.0)
    return np.hypot(x - (p[0] + t * d[0]), y - (p[1] + t * d[1]))


def _paint_tube(
    canvas: _Canvas, points: list[np.ndarray], radius: float, tissue: str, value: float
) -> None:
    """Paint a polyline of the given radius (a vessel in the slice plane)."""
    for p, q in zip(points[:-1], points[1:], strict=True):
        cx, cy = (p + q) / 2
        rx, ry = abs(q[0] - p[0]) / 2 + radius, abs(q[1] - p[1]) / 2 + radius
        found = canvas.region(float(cx), float(cy), float(rx), float(ry))
        if found is None:
            continue
        box, x, y = found
        canvas.paint(box, _segment_distance(x, y, p, q) < radius, tissue, value)


# --------------------------------------------------------------------------------------
# Anatomy, painted back to front
# --------------------------------------------------------------------------------------


def _body_radius(
    patient: _Patient,
    x: np.ndarray,
    y: np.ndarray,
    shrink_x: float,
    shrink_ant: float,
    shrink_post: float,
) -> np.ndarray:
    """Squared normalised radius in the (egg-shaped) body outline shrunk by the given mm."""
    a = patient.body_a - shrink_x
    b = np.where(y < 0, patient.body_b_ant - shrink_ant, patient.body_b_post - shrink_post)
    return (x / a) ** 2 + (y / b) ** 2


def _paint_body_wall(canvas: _Canvas, patient: _Patient, z: float) -> None:
    x, y = canvas.xs[None, :], canvas.ys[:, None]
    hu = patient.hu
    skin = 2.0
    everything = (slice(None), slice(None))
    canvas.paint(everything, _body_radius(patient, x, y, 0, 0, 0) < 1, "skin", hu["skin"])
    fat_value = hu["fat"] + 6.0 * patient.fat_texture(x, y, z)
    canvas.paint(everything, _body_radius(patient, x, y, skin, skin, skin) < 1, "fat", fat_value)
    lat, ant, post = patient.fat_lateral, patient.fat_anterior, patient.fat_posterior
    canvas.paint(
        everything, _body_radius(patient, x, y, lat, ant, post) < 1, "muscle", hu["muscle"]
    )
    wall = patient.wall
    # fat planes between the oblique and transverse muscles of the lateral wall
    lateral = np.abs(x) > 0.45 * patient.body_a
    for depth in (0.35, 0.65):
        outer = _body_radius(
            patient, x, y, lat + wall * depth, ant + wall * depth, post + wall * depth
        )
        inner = _body_radius(
            patient,
            x,
            y,
            lat + wall * depth + 1.2,
            ant + wall * depth + 1.2,
            post + wall * depth + 1.2,
        )
        canvas.paint(everything, (outer < 1) & (inner >= 1) & lateral, "fat", fat_value)
    canvas.cavity = _body_radius(patient, x, y, lat + wall, ant + wall, post + wall * 0.6) < 1
    canvas.paint(everything, canvas.cavity, "fat", fat_value)
    # rectus abdominis: thicker paired bellies in the anterior wall
    front = -patient.body_b_ant + ant + wall / 2
    for side in (-1, 1):
        _paint_ellipse(canvas, side * 38.0, front + 2, 34.0, wall * 0.75, "muscle", hu["muscle"])
    _paint_ribs(canvas, patient, z)


def _paint_ribs(canvas: _Canvas, patient: _Patient, z: float) -> None:
    """Lower ribs cut obliquely in the posterolateral wall on the upper slices."""
    hu = patient.hu
    for angle_deg, z_low in ((-20.0, 35.0), (-45.0, 55.0), (5.0, 70.0)):
        if z < z_low:
            continue
        angle = math.radians(angle_deg)  # 0 = lateral, negative = posterior
        for side in (-1, 1):
            r_x = patient.body_a - patient.fat_lateral - patient.wall * 0.5
            r_y = patient.body_b_post - patient.fat_posterior - patient.wall * 0.5
            cx = side * math.cos(angle) * r_x
            cy = -math.sin(angle) * r_y
            _paint_ellipse(
                canvas,
                cx,
                cy,
                8.0,
                4.0,
                "bone_cortical",
                hu["bone_cortical"] * 0.6,
                angle=side * (math.pi / 2 - angle),
            )


def _paint_bowel(canvas: _Canvas, patient: _Patient, z: float) -> None:
    hu = patient.hu
    for loop in patient.loops:
        t = (z - loop.z) / loop.half_length
        if abs(t) >= 1.0:
            continue
        radius = loop.radius * (math.sqrt(1 - t * t) if not loop.colon else 1.0)
        if radius < 3.0:
            continue
        long = radius * loop.aspect
        found = canvas.region(loop.x, loop.y, long, long)
        if found is None:
            continue
        box, x, y = found
        inside = (_ellipse(x, y, loop.x, loop.y, long, radius, loop.angle) < 1.0) & canvas.cavity[
            box
        ]
        canvas.paint(box, inside, "bowel_wall", hu["bowel_wall"])
        lumen = inside & (
            _ellipse(x, y, loop.x, loop.y, long - 2.5, radius - 2.5, loop.angle) < 1.0
        )
        if loop.content == "gas":
            canvas.paint(box, lumen, "bowel_gas", hu["bowel_gas"])
        elif loop.content == "fluid":
            canvas.paint(box, lumen, "bowel_fluid", hu["bowel_fluid"])
        else:  # supine: gas rises anteriorly (smaller y), fluid lies posteriorly
            level = loop.y + loop.level * radius
            canvas.paint(box, lumen & (y >= level), "bowel_fluid", hu["bowel_fluid"])
            canvas.paint(box, lumen & (y < level), "bowel_gas", hu["bowel_gas"])


def _paint_upper_organs(canvas: _Canvas, patient: _Patient, z: float) -> None:
    """Liver, gallbladder, stomach, spleen and pancreas on the upper slices."""
    hu = patient.hu
    grow = (z - patient.liver_bottom) / 80.0
    if grow > 0:
        scale = math.sqrt(min(grow, 1.0))
        found = canvas.region(-60.0, 0.0, 130.0, 120.0)
        if found is not None:
            box, x, y = found
            r2 = _ellipse(
                x, y, -75.0 + 10 * scale, -5.0, 95.0 * scale + 10, 95.0 * scale + 5, angle=0.3
            )
            mask = (r2 < 1.0) & canvas.cavity[box] & (x < -10.0 + 50.0 * scale)
            value = hu["liver"] + 4.0 * patient.liver_texture(x, y, z)
            canvas.paint(box, mask, "liver", value)
            for bx, by, length, angle in (
                (-45.0, -10.0, 22.0, 0.4),
                (-80.0, -30.0, 16.0, -0.5),
                (-95.0, 15.0, 14.0, 1.1),
            ):
                vessel = (
                    _ellipse(x, y, bx * (0.6 + 0.4 * scale), by, length * scale + 2, 3.5, angle)
                    < 1.0
                )
                canvas.paint(box, vessel & mask, "vein", hu["vein"])
            if -10 < z - patient.liver_bottom < 45:
                gallbladder = _ellipse(x, y, -55.0, -45.0, 16.0, 24.0, angle=0.5) < 1.0
                canvas.paint(box, gallbladder & mask, "gallbladder", hu["gallbladder"])
    grow = (z - 45.0) / 40.0
    if grow > 0:  # stomach, anterior left, with an air-fluid level
        scale = math.sqrt(min(grow, 1.0))
        front = -patient.body_b_ant + patient.fat_anterior + patient.wall
        cx, cy, a, b = 45.0, front + 40.0, 50.0 * scale + 5, 32.0 * scale + 4
        found = canvas.region(cx, cy, a, a)
        if found is not None:
            box, x, y = found
            outer = (_ellipse(x, y, cx, cy, a, b, angle=-0.5) < 1.0) & canvas.cavity[box]
            lumen = outer & (_ellipse(x, y, cx, cy, a - 4, b - 4, angle=-0.5) < 1.0)
            canvas.paint(box, outer, "bowel_wall", hu["bowel_wall"])
            canvas.paint(box, lumen & (y >= cy - 0.2 * b), "bowel_fluid", hu["bowel_fluid"])
            canvas.paint(box, lumen & (y < cy - 0.2 * b), "bowel_gas", hu["bowel_gas"])
    grow = (z - patient.spleen_bottom) / 50.0
    if grow > 0:  # spleen along the posterolateral left wall
        scale = math.sqrt(min(grow, 1.0))
        cx = patient.body_a - patient.fat_lateral - patient.wall - 35.0
        _paint_ellipse(
            canvas,
            cx,
            patient.spine_y + 12,
            22.0 * scale + 5,
            55.0 * scale + 5,
            "spleen",
            hu["spleen"],
            angle=0.6,
            in_cavity=True,
        )
    if 25.0 < z < 75.0:  # pancreas body and tail, towards the splenic hilum
        _paint_ellipse(
            canvas,
            30.0,
            patient.spine_y - 40.0,
            55.0,
            11.0,
            "pancreas",
            hu["pancreas"],
            angle=0.4,
            in_cavity=True,
        )


def _paint_muscles(canvas: _Canvas, patient: _Patient, z: float) -> None:
    hu, sy = patient.hu, patient.spine_y
    grow = float(np.clip((Z_HALF_EXTENT_MM - z) / (2 * Z_HALF_EXTENT_MM), 0.0, 1.0))
    for side in (-1, 1):
        # erector spinae and multifidus around the spinous process
        _paint_ellipse(
            canvas, side * 33.0, sy + 52.0, 27.0, 24.0, "muscle", hu["muscle"], angle=side * 0.3
        )
        # quadratus lumborum, posterolateral to the kidney level
        _paint_ellipse(
            canvas, side * 58.0, sy + 38.0, 17.0, 9.0, "muscle", hu["muscle"], angle=-side * 0.5
        )
        # psoas grows towards the pelvis
        radius = 7.0 + 15.0 * grow
        _paint_ellipse(
            canvas,
            side * (patient.vertebra_a + radius * 0.8),
            sy + 4.0,
            radius,
            radius * 0.85,
            "muscle",
            hu["muscle"],
        )


def _paint_vessels(canvas: _Canvas, patient: _Patient, z: float) -> None:
    hu = patient.hu
    ax, ay, ar = patient.aorta
    vx, vy, va, vb = patient.ivc
    _paint_ellipse(canvas, vx, vy, va, vb, "vein", hu["vein"])
    _paint_ellipse(canvas, ax, ay, ar, ar, "aorta", hu["aorta"])
    # superior mesenteric artery and vein in a fat collar, anterior to the aorta
    if z < 60.0:
        _paint_ellipse(canvas, ax, ay - ar - 12.0, 8.0, 8.0, "fat", hu["fat"])
        _paint_ellipse(canvas, ax, ay - ar - 12.0, 3.5, 3.5, "aorta", hu["aorta"])
        _paint_ellipse(canvas, ax - 12.0, ay - ar - 12.0, 5.0, 5.0, "vein", hu["vein"])
    for kidney in patient.kidneys:
        hilum_z = kidney.z + 5.0
        if abs(z - hilum_z) > 4.0:
            continue
        frame = kidney.frame(z)
        if frame is None:
            continue
        cx, cy, _, b, _, hilum, _ = frame
        gate = np.array([cx, cy]) + hilum * (b + 6.0)
        aorta = np.array([ax + kidney.side * ar * 0.8, ay])
        _paint_tube(canvas, [gate, aorta], 3.0, "aorta", hu["aorta"])
        if kidney.side > 0:  # left renal vein crosses anterior to the aorta
            path = [gate, np.array([ax, ay - ar - 4.0]), np.array([vx, vy])]
        else:
            path = [gate, np.array([vx, vy])]
        _paint_tube(canvas, path, 4.5, "vein", hu["vein"])
    for kidney in patient.kidneys:  # ureters along the psoas below the kidneys
        if z < kidney.z - 25.0:
            x = kidney.side * (patient.vertebra_a + 18.0)
            _paint_ellipse(canvas, x, patient.spine_y - 14.0, 2.5, 2.5, "urine", hu["urine"])


def _paint_kidneys(canvas: _Canvas, patient: _Patient, z: float) -> None:
    for kidney in patient.kidneys:  # perirenal fat first: an ellipsoid 8-9 mm larger
        t = (z - kidney.z) / (kidney.half_length + 8.0)
        if abs(t) >= 1.0:
            continue
        inside = float(
            np.clip(z, kidney.z - kidney.half_length + 1, kidney.z + kidney.half_length - 1)
        )
        cx, cy, _, _, long_axis, _, _ = kidney.frame(inside)  # type: ignore[misc]
        scale = math.sqrt(1.0 - t * t)
        angle = math.atan2(long_axis[1], long_axis[0])
        fat = patient.hu["fat"]
        a, b = (kidney.a + 9.0) * scale, (kidney.b + 9.0) * scale
        _paint_ellipse(canvas, cx, cy, a, b, "fat", fat, angle=angle, in_cavity=True)
    for kidney in patient.kidneys:
        _paint_kidney(canvas, patient, kidney, z)


def _paint_kidney(canvas: _Canvas, patient: _Patient, kidney: _Kidney, z: float) -> None:
    frame = kidney.frame(z)
    if frame is None:
        return
    cx, cy, a, b, long_axis, hilum, t = frame
    found = canvas.region(cx, cy, a + 1, a + 1)
    if found is None:
        return
    box, x, y = found
    u = (x - cx) * long_axis[0] + (y - cy) * long_axis[1]
    v = (x - cx) * hilum[0] + (y - cy) * hilum[1]
    outer = (u / a) ** 2 + (v / b) ** 2
    kidney_mask = outer < 1.0
    canvas.paint(box, kidney_mask, "kidney_cortex", kidney.hu_cortex, label=1)
    inner_a, inner_b = a - kidney.cortex, b - kidney.cortex
    if inner_a > 2.0 and inner_b > 2.0:
        inner = (u / inner_a) ** 2 + (v / inner_b) ** 2
        psi = np.arctan2(v / inner_b, u / inner_a)
        pyramids = (
            (inner < 1.0)
            & (inner > 0.12)
            & (np.cos(kidney.pyramids * psi + kidney.pyramid_phase) > -0.3)
        )
        canvas.paint(box, pyramids, "kidney_medulla", kidney.hu_medulla, label=1)
    if abs(t) < 0.6:  # renal sinus opening through the hilum
        scale = math.sqrt(1.0 - (t / 0.6) ** 2)
        sinus = (
            (u / (0.5 * a * scale + 1e-3)) ** 2 + ((v - 0.45 * b) / (0.75 * b * scale + 1e-3)) ** 2
        ) < 1.0
        canvas.paint(box, sinus, "renal_sinus_fat", patient.hu["renal_sinus_fat"], label=0)
        if abs(t) < 0.35:
            scale = math.sqrt(1.0 - (t / 0.35) ** 2)
            pelvis = (
                (u / (0.22 * a * scale + 1e-3)) ** 2
                + ((v - 0.65 * b) / (0.35 * b * scale + 1e-3)) ** 2
            ) < 1.0
            canvas.paint(box, pelvis, "urine", patient.hu["urine"], label=1)


def _paint_tumours(canvas: _Canvas, patient: _Patient, z: float) -> None:
    for tumour in patient.tumours:
        rx, ry, rz = tumour.radii
        dz = (z - tumour.z) / rz
        if abs(dz) >= 1.3:
            continue
        found = canvas.region(tumour.x, tumour.y, rx * 1.3, ry * 1.3)
        if found is None:
            continue
        box, x, y = found
        rho = np.sqrt(((x - tumour.x) / rx) ** 2 + ((y - tumour.y) / ry) ** 2 + dz * dz)
        lobulated = rho * (1.0 + 0.08 * tumour.shape(x, y, z))
        mask = (lobulated < 1.0) & canvas.cavity[box]
        texture = tumour.texture(x, y, z)
        value = np.clip(tumour.hu + 18.0 * texture, 62.0, 138.0)
        canvas.paint(box, mask, "tumour", value, label=2)
        if tumour.core > 0:
            core = mask & (rho * (1.0 + 0.25 * tumour.shape(y, x, z)) < tumour.core)
            canvas.paint(box, core, "necrosis", tumour.hu_necrosis + 4.0 * texture, label=2)


def _paint_spine(canvas: _Canvas, patient: _Patient, z: float) -> None:
    hu, sy = patient.hu, patient.spine_y
    va, vb = patient.vertebra_a, patient.vertebra_b
    phase = (z - patient.disc_phase) % 38.0
    is_disc = phase < 9.0
    found = canvas.region(0.0, sy + 30.0, 80.0, 70.0)
    if found is None:
        return
    box, x, y = found
    body = _ellipse(x, y, 0.0, sy, va, vb) < 1.0
    if is_disc:
        canvas.paint(box, body, "disc", hu["disc"])
    else:
        canvas.paint(box, body, "bone_cortical", hu["bone_cortical"])
        inner = _ellipse(x, y, 0.0, sy, va - 2.0, vb - 2.0) < 1.0
        canvas.paint(
            box,
            inner,
            "bone_cancellous",
            hu["bone_cancellous"] + 30.0 * patient.bone_texture(x, y, z),
        )
    canal_y = sy + vb + 9.0
    arch_value = 0.5 * (hu["bone_cortical"] + hu["bone_cancellous"])
    arch = _ellipse(x, y, 0.0, canal_y + 1.0, 17.0, 15.0) < 1.0
    if not is_disc:  # pedicles join the arch to the body
        canvas.paint(box, arch & (y > sy), "bone_cortical", arch_value)
    else:
        canvas.paint(box, arch & (y > canal_y - 2.0), "bone_cortical", arch_value)
    spinous = _ellipse(x, y, 0.0, canal_y + 27.0, 4.5, 17.0) < 1.0
    canvas.paint(box, spinous, "bone_cortical", arch_value)
    if 12.0 < phase < 30.0:  # transverse processes at mid-vertebra
        for side in (-1, 1):
            process = _ellipse(x, y, side * 32.0, canal_y - 3.0, 20.0, 5.0, angle=side * 0.25) < 1.0
            canvas.paint(box, process, "bone_cortical", arch_value)
    canvas.paint(box, _ellipse(x, y, 0.0, canal_y, 10.0, 8.5) < 1.0, "fat", hu["fat"])
    canvas.paint(box, _ellipse(x, y, 0.0, canal_y, 8.0, 7.0) < 1.0, "csf", hu["csf"])


def _render_slice(patient: _Patient, z: float, xs: np.ndarray, ys: np.ndarray) -> _Canvas:
    canvas = _Canvas(xs, ys)
    _paint_body_wall(canvas, patient, z)
    _paint_bowel(canvas, patient, z)
    _paint_upper_organs(canvas, patient, z)
    _paint_muscles(canvas, patient, z)
    _paint_kidneys(canvas, patient, z)
    _paint_tumours(canvas, patient, z)
    _paint_vessels(canvas, patient, z)  # after the tumours: a tumour never covers the aorta
    _paint_spine(canvas, patient, z)
    return canvas


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


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


def _tumour_flags(cases: int, seed: int, tumour_fraction: float) -> list[bool]:
    if not 0.0 <= tumour_fraction <= 1.0:
        raise ValueError(f"tumour_fraction must be in [0, 1], got {tumour_fraction}")
    count = int(round(tumour_fraction * cases))
    order = np.random.default_rng(np.random.SeedSequence([int(seed), 23])).permutation(cases)
    flags = [False] * cases
    for index in order[:count]:
        flags[int(index)] = True
    return flags


def _write_case(task: dict[str, Any]) -> dict[str, Any]:
    """Render and write one case (module level: runs in worker processes)."""
    from medganlab.data import dicom

    case = render_case(task["case_seed"], task["size"], task["slice_thickness_mm"], task["tumour"])
    folder = Path(task["folder"])
    folder.mkdir(parents=True)
    patient_id = f"MEDGANLAB-CT-{task['seed']:04d}-{task['index']:05d}"
    dicom.write_ct_series(
        folder / "dicom",
        case.hu,
        case.spacing,
        patient_id=patient_id,
        uid_seed=f"{task['seed']}/{task['index']}/{task['size']}/{task['slice_thickness_mm']}",
        origin=case.origin,
    )
    np.save(folder / "labels.npy", case.labels)
    if task["kits_layout"]:
        from medganlab.data import kits

        kits.write_kits_case(folder, case.hu, case.labels, case.spacing, case.origin)
    meta = {"case_id": folder.name, "patient_id": patient_id, **case.meta}
    (folder / "case.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return meta


def generate_dataset(
    out: Path,
    cases: int,
    size: int = 512,
    seed: int = 0,
    slice_thickness_mm: float = 3.0,
    tumour_fraction: float = 0.8,
    kits_layout: bool = False,
    workers: int | None = None,
    progress: bool | None = None,
) -> Path:
    """Generate a kidney CT phantom data set (atomic; a matching existing set is kept).

    Layout: ``case_XXXXX/dicom/IM_XXXX.dcm`` (one CT slice per file), ``labels.npy``
    (uint8, slices x H x W), ``case.json``; with ``kits_layout`` also ``imaging.nii.gz`` and
    ``segmentation.nii.gz`` as KiTS19 ships them; ``cases.json`` and ``manifest.json`` at the top.

    Args:
        out: destination folder (replaced atomically).
        cases: number of patients.
        size: in-plane pixels.
        seed: data set seed.
        slice_thickness_mm: slice thickness in mm.
        tumour_fraction: fraction of patients with at least one tumour.
        kits_layout: also write the KiTS19 NIfTI files.
        workers: worker processes (default: all usable cores).
        progress: show a progress bar (default: unless grading or quiet).

    Returns:
        The data set folder.
    """
    from medganlab.data.manifest import atomic_dataset_dir, manifest_matches, write_manifest
    from medganlab.parallel import parallel_map

    if cases < 1:
        raise ValueError(f"cases must be at least 1, got {cases}")
    _check_geometry(size, slice_thickness_mm)
    params = {
        "cases": int(cases),
        "size": int(size),
        "seed": int(seed),
        "slice_thickness_mm": float(slice_thickness_mm),
        "tumour_fraction": float(tumour_fraction),
        "kits_layout": bool(kits_layout),
        "format_version": FORMAT_VERSION,
    }
    out = Path(out)
    if manifest_matches(out, DATASET_KIND, params):
        return out
    flags = _tumour_flags(cases, seed, tumour_fraction)
    with atomic_dataset_dir(out) as tmp:
        tasks = [
            {
                "folder": str(tmp / f"case_{index:05d}"),
                "index": index,
                "seed": int(seed),
                "case_seed": case_seed(seed, index),
                "size": int(size),
                "slice_thickness_mm": float(slice_thickness_mm),
                "tumour": flags[index],
                "kits_layout": bool(kits_layout),
            }
            for index in range(cases)
        ]
        metas = parallel_map(
            _write_case, tasks, workers=workers, desc="kidney CT", progress=progress
        )
        (tmp / "cases.json").write_text(json.dumps(metas, indent=1, sort_keys=True) + "\n")
        write_manifest(tmp, DATASET_KIND, params)
    return out.resolve()


# --------------------------------------------------------------------------------------
# Command line hooks (wired by medganlab.cli as ``medganlab data ct``)
# --------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``medganlab data ct`` options to ``parser``."""
    parser.add_argument("--cases", type=int, default=20, help="number of patients (default 20)")
    parser.add_argument(
        "--size", type=int, default=512, help="in-plane pixels (64-512, default 512)"
    )
    parser.add_argument("--seed", type=int, default=0, help="data set seed (default 0)")
    parser.add_argument(
        "--slice-thickness", type=float, default=3.0, help="slice thickness in mm (1-5, default 3)"
    )
    parser.add_argument(
        "--tumour-fraction",
        type=float,
        default=0.8,
        help="fraction of patients with a tumour (default 0.8)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default <data>/kidney_ct_phantom)"
    )
    parser.add_argument(
        "--kits-layout",
        action="store_true",
        help="also write case_XXXXX/imaging.nii.gz + segmentation.nii.gz",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: all cores)"
    )


def run_cli(args: argparse.Namespace, echo: Callable[[str], None] = print) -> int:
    """Run ``medganlab data ct`` with parsed ``args``; return the exit code."""
    from medganlab.paths import data_dir

    out = args.out if args.out is not None else data_dir() / DATASET_KIND
    folder = generate_dataset(
        out,
        cases=args.cases,
        size=args.size,
        seed=args.seed,
        slice_thickness_mm=args.slice_thickness,
        tumour_fraction=args.tumour_fraction,
        kits_layout=args.kits_layout,
        workers=args.workers,
    )
    echo(
        f"kidney CT phantom: {args.cases} cases at {args.size}x{args.size}, {args.slice_thickness} mm -> {folder}"
    )
    return 0
