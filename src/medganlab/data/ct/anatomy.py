"""The made-up patient in millimetres: tissues and their HU, body, organs, kidneys,
tumours and bowel loops, sampled from a seed."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["TISSUES", "Z_HALF_EXTENT_MM"]


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
