"""Painting one axial slice of a patient: body wall, ribs, bowel, organs, muscles,
vessels, kidneys, tumours, spine (HU and labels on a canvas)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from medganlab.data.ct.anatomy import TISSUES, Z_HALF_EXTENT_MM, _Kidney, _Patient

__all__ = []


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
