"""Realism checks of the chest X-ray phantom (generator v3): grey levels in the range of
real PA films, per-patient vessel trees that taper, a parametric cardiomediastinal outline,
and findings drawn from their signs (fissure-bounded pneumonia, meniscus, pleural line)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from medganlab.data import cxr
from medganlab.data.cxr import rendering
from medganlab.data.cxr.anatomy import _grid, _Lungs, _sample_patient, _silhouette
from medganlab.data.cxr.findings import _minor_fissure
from medganlab.data.cxr.vessels import _hilum_points, _vessel_trees


@pytest.fixture(scope="module")
def normals():
    return [cxr.render_case(seed, [], size=256, masks=True) for seed in range(6)]


def _between_lungs(lungs: np.ndarray) -> np.ndarray:
    """Per row, the columns strictly between the two lung fields (the mediastinum)."""
    labels, count = ndimage.label(lungs)
    sizes = ndimage.sum(lungs, labels, range(1, count + 1))
    a, b = np.argsort(sizes)[-2:] + 1
    left, right = sorted((labels == a, labels == b), key=lambda m: np.nonzero(m)[1].mean())
    out = np.zeros_like(lungs)
    for row in range(lungs.shape[0]):
        first, second = np.nonzero(left[row])[0], np.nonzero(right[row])[0]
        if first.size and second.size and second[0] > first[-1] + 1:
            out[row, first[-1] + 1 : second[0]] = True
    return out


def test_grey_levels_in_the_range_of_real_films(normals):
    """Whole-film median, lung fields and mediastinum sit where processed PA films do
    (NIH reference: film median 138, lungs 67, mediastinum 169; real films 134-198)."""
    film = np.median([np.median(c.image) for c in normals])
    lungs = np.median([np.median(c.image[c.masks["lungs"]]) for c in normals])
    middle = np.median([np.median(c.image[_between_lungs(c.masks["lungs"])]) for c in normals])
    assert 115 <= film <= 185, f"film median {film}: expected a film-like 115-185"
    assert 40 <= lungs <= 95, f"lung fields median {lungs}: expected dark lungs (40-95)"
    assert 145 <= middle <= 210, f"mediastinum median {middle}: expected 145-210"
    p95 = np.median([np.percentile(c.image, 95) for c in normals])
    assert 205 <= p95 <= 245, f"95th percentile {p95}: expected 205-245 (real films ~227)"


def test_vessel_trees_grow_per_patient_and_taper():
    """Each patient has its own trees (no shared atlas), thick at the hila, thin far out."""
    trees = []
    for seed in (1, 2):
        p = _sample_patient(seed)
        lungs = _Lungs(p, {})
        sil = _silhouette(p, lungs, p.ctr_normal)
        segments = _vessel_trees(p, lungs, sil)
        hila = _hilum_points(p, sil)
        distance = np.minimum(
            *(np.hypot(segments[:, 0] - hx, segments[:, 1] - hy) for hx, hy in hila.values())
        )
        near = segments[distance < np.percentile(distance, 20), 4].mean()
        far = segments[distance > np.percentile(distance, 80), 4].mean()
        assert near > 1.6 * far, f"diameters: {near:.2f} mm near the hila vs {far:.2f} mm"
        assert np.percentile(distance, 90) > 70, "the trees should reach the outer lung"
        trees.append(segments)
    first, second = trees
    assert len(first) > 300 and len(second) > 300
    assert not np.allclose(first[:50, :4], second[:50, :4])


def test_mediastinal_outline_has_knob_and_ventricle():
    """The left border bulges at the aortic knob, dips below it and swings out again along
    the left ventricle; the right border bulges at the right atrium below the hilum."""
    p = _sample_patient(4)
    lungs = _Lungs(p, {})
    sil = _silhouette(p, lungs, p.ctr_normal)
    rows = sil.rows
    left = sil.border(rows, 1)
    at = lambda y: float(np.interp(y, rows, left))  # noqa: E731
    knob, window = at(p.knob_y), at(p.knob_y + 0.9 * p.knob_size + 12)
    assert knob > window + 3, f"knob {knob:.1f} mm vs the window below it {window:.1f} mm"
    ventricle = float(left[(rows > sil.top) & (rows < lungs.dome[1])].max())
    assert ventricle > knob + 25
    right = sil.border(rows, -1)
    atrium = float(right[(rows > p.hilum_y + 20) & (rows < lungs.dome[-1])].max())
    assert atrium > p.svc_width + 8


def _pneumonia_opacity(lobe: str):
    seed = next(
        s
        for s in range(500)
        if rendering._sample_shot(s, ["Pneumonia"]).findings["Pneumonia"]["lobe"] == lobe
    )
    shot = rendering._sample_shot(seed, ["Pneumonia"])
    patient = _sample_patient(seed)
    grid = _grid(256)
    _, signs, _ = rendering._render_attenuation(patient, shot, grid, patient.ctr_normal)
    return signs.opacity, patient, _Lungs(patient, shot.findings), grid


def test_upper_lobe_pneumonia_ends_at_the_minor_fissure():
    """RUL consolidation ends sharply at the (slightly curved) minor fissure."""
    opacity, patient, lungs, grid = _pneumonia_opacity("RUL")
    for fraction in (0.4, 0.6, 0.8):
        u = fraction * patient.half_width[-1]
        column = int((-u + 215) / grid.pixel)
        row = int((float(_minor_fissure(lungs, np.array(u))) + 215) / grid.pixel)
        above, below = opacity[row - 2, column], opacity[row + 2, column]
        assert above > 0.45 and below < 0.08, f"across the fissure: {above:.2f} -> {below:.2f}"


def test_lower_lobe_pneumonia_fades_upward():
    """RLL consolidation has no fissure edge in a PA film: its upper margin fades over
    centimetres (no hard horizontal edge), densest at the base."""
    opacity, patient, lungs, grid = _pneumonia_opacity("RLL")
    column = int((-0.6 * patient.half_width[-1] + 215) / grid.pixel)
    profile = ndimage.uniform_filter1d(opacity[:, column], 3)
    peak = profile.max()
    assert peak > 0.5
    rows = np.nonzero((profile > 0.1 * peak) & (np.arange(profile.size) < profile.argmax()))[0]
    first = rows[0]
    dense = np.nonzero(profile > 0.9 * peak)[0][0]
    rise_mm = (dense - first) * grid.pixel
    assert rise_mm > 15, f"the upper margin rises over {rise_mm:.0f} mm: expected > 15 mm"


def test_effusion_meniscus_rises_laterally():
    """The fluid surface is higher at the chest wall than beside the heart."""
    for seed in (21, 22, 23):
        case = cxr.render_case(seed, ["Effusion"], size=256, masks=True)
        region = case.masks["Effusion"].copy()
        half = region.shape[1] // 2
        side = case.meta["findings"]["Effusion"]["side"]
        if side == "right":  # the patient's right is the image left
            region[:, half:] = False
        else:
            region[:, :half] = False
        cols = np.nonzero(region.any(axis=0))[0]
        span = cols[-1] - cols[0]
        inner, outer = cols[0] + span // 5, cols[-1] - span // 5
        lateral, medial = (inner, outer) if side == "right" else (outer, inner)
        top = {c: np.nonzero(region[:, c])[0][0] for c in (lateral, medial)}
        assert top[lateral] < top[medial] - 3, f"seed {seed}: meniscus tops {top}"


def test_pneumothorax_has_a_thin_pleural_line():
    """The visceral pleural line is drawn as a thin white line (soft tissue, ~1-2 mm) along
    the edge of the collapsed lung, brighter on the film than the lucent pleural space."""
    seed = 8
    shot = rendering._sample_shot(seed, ["Pneumothorax"])
    patient = _sample_patient(seed)
    grid = _grid(256)
    _, signs, _ = rendering._render_attenuation(patient, shot, grid, patient.ctr_normal)
    line = signs.density
    row = int((patient.hilum_y + 215) / grid.pixel)
    profile = line[row]
    assert profile.max() > 5
    assert (profile > profile.max() / 2).sum() * grid.pixel <= 4.5, "the line should be thin"
    case = cxr.render_case(seed, ["Pneumothorax"], size=256, masks=True)
    space = case.masks["Pneumothorax"]
    side = case.meta["findings"]["Pneumothorax"]["side"]
    step = 1 if side == "left" else -1  # toward the chest wall
    rows = np.nonzero(space.any(axis=1))[0]
    gains = []
    for r in rows[len(rows) // 3 : 2 * len(rows) // 3]:
        cols = np.nonzero(space[r])[0]
        edge = cols[0] if side == "left" else cols[-1]
        near = case.image[
            r, min(edge - 3 * step, edge + 2 * step) : max(edge - 3 * step, edge + 2 * step) + 1
        ]
        inside = case.image[r, edge + 4 * step : edge + 10 * step : step]
        gains.append(float(near.max()) - float(np.median(inside)))
    assert np.mean(np.array(gains) > 10) > 0.9


def test_patients_differ_in_habitus_and_positioning(normals):
    """Body size, inspiration, heart size and position vary from patient to patient."""
    metas = [c.meta for c in normals]
    assert np.ptp([m["habitus"] for m in metas]) > 0.08
    assert np.ptp([m["inspiration_dome_right_mm"] for m in metas]) > 10
    assert np.ptp([m["rotation_deg"] for m in metas]) > 1
    assert np.ptp([m["ctr"] for m in metas]) > 0.03


def test_lung_field_estimate_matches_the_phantom_masks(normals):
    """The bench's mask-free lung-field estimate (used on real films) agrees with the
    phantom's own lung masks, so phantom and real film are measured alike."""
    from medganlab.bench.cxr import estimate_lung_fields, film_statistics

    for case in normals[:3]:
        estimate = estimate_lung_fields(case.image)
        truth = case.masks["lungs"]
        iou = (estimate & truth).sum() / (estimate | truth).sum()
        assert iou > 0.75, f"lung-field estimate IoU {iou:.2f}"
    stats = film_statistics(normals[0].image)
    assert stats["lungs"][1] < stats["mediastinum"][1] - 60
    assert 0 < stats["edge_density"] < 0.1
