"""Tests of the chest X-ray phantom: anatomy, findings, labels and the NIH-layout writer."""

from __future__ import annotations

import argparse
import json
from collections import Counter

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from medganlab.data import cxr_phantom as cxr
from medganlab.data.cxr import writer as cxr_writer
from medganlab.data.cxr.anatomy import _working_size
from medganlab.data.manifest import read_manifest

NIH_ORDER = [
    "No Finding",
    "Infiltration",
    "Effusion",
    "Atelectasis",
    "Nodule",
    "Mass",
    "Pneumothorax",
    "Cardiomegaly",
    "Pneumonia",
]


def widest(mask: np.ndarray) -> int:
    """Widest horizontal extent (pixels) of a boolean mask over its rows."""
    best = 0
    for row in mask:
        hits = np.nonzero(row)[0]
        if hits.size:
            best = max(best, int(hits[-1] - hits[0] + 1))
    return best


def test_constants_follow_nih():
    """FINDINGS are the 8 names in NIH order and the counts are SPEC.md's."""
    assert cxr.FINDINGS == (
        "Atelectasis",
        "Cardiomegaly",
        "Effusion",
        "Infiltration",
        "Mass",
        "Nodule",
        "Pneumonia",
        "Pneumothorax",
    )
    assert cxr.NIH_COUNTS["No Finding"] == 60_361
    assert cxr.NIH_COUNTS["Pneumonia"] == 1_431
    assert sorted(cxr.NIH_COUNTS, key=lambda k: -cxr.NIH_COUNTS[k]) == NIH_ORDER


def test_render_is_deterministic_and_seed_dependent():
    """Same seed gives identical pixels; another seed gives another patient."""
    first = cxr.render_case(5, ["Mass"], size=64)
    again = cxr.render_case(5, ["Mass"], size=64)
    other = cxr.render_case(6, ["Mass"], size=64)
    assert first.image.dtype == np.uint8 and first.image.shape == (64, 64)
    assert np.array_equal(first.image, again.image)
    assert first.meta == again.meta
    assert np.abs(first.image.astype(int) - other.image.astype(int)).mean() > 2


def test_same_patient_at_every_size():
    """A seed renders the same anatomy at 64 and 256 pixels (fixed millimetre scale)."""
    small = cxr.render_case(11, [], size=64).image.astype(float)
    large = cxr.render_case(11, [], size=256).image
    reduced = np.asarray(Image.fromarray(large).resize((64, 64), Image.BOX), dtype=float)
    other = cxr.render_case(12, [], size=64).image.astype(float)
    same = np.corrcoef(small.ravel(), reduced.ravel())[0, 1]
    different = np.corrcoef(small.ravel(), other.ravel())[0, 1]
    assert same > 0.97, f"same seed at two sizes correlates only {same:.3f}"
    assert same > different


def test_lungs_darker_than_mediastinum_and_bone_white():
    """MONOCHROME2: lung fields dark, mediastinum/heart bright (as in the NIH reference)."""
    case = cxr.render_case(3, [], size=128, masks=True)
    lungs, heart = case.masks["lungs"], case.masks["heart"]
    lung_mean = case.image[lungs].mean()
    mediastinum_mean = case.image[heart & ~lungs].mean()
    assert lung_mean + 60 < mediastinum_mean, (lung_mean, mediastinum_mean)
    # air outside the body is darkest: the arms now fill the lateral edges (as on real
    # films), so look at the corners of the field
    corners = [
        case.image[rows, cols]
        for rows in (slice(0, 8), slice(-8, None))
        for cols in (slice(0, 8), slice(-8, None))
    ]
    assert min(c.mean() for c in corners) < lung_mean


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_ctr_normal_below_and_cardiomegaly_above_half(seed):
    """CTR < 0.5 for normals and > 0.5 for cardiomegaly, in metadata and from the masks."""
    normal = cxr.render_case(seed, [], size=128, masks=True)
    large = cxr.render_case(seed, ["Cardiomegaly"], size=128, masks=True)
    assert normal.meta["ctr"] < 0.5 < large.meta["ctr"]
    for case, big in ((normal, False), (large, True)):
        ratio = widest(case.masks["heart"]) / widest(case.masks["lungs"])
        assert (ratio > 0.5) == big, f"CTR measured from masks {ratio:.3f} (cardiomegaly={big})"
        assert abs(ratio - case.meta["ctr"]) < 0.04


@pytest.mark.parametrize("seed", [1, 5])
def test_heart_borders_and_position(seed):
    """About two thirds of the heart lie left of the midline (image right); the right heart
    border (right atrium) is convex to the right; the heart fades into the lungs at its
    edges (a 3-D body, not a flat disc)."""
    case = cxr.render_case(seed, [], size=256, masks=True)
    heart = case.masks["heart"]
    cols = np.nonzero(heart)[1]
    midline = heart.shape[1] / 2 + case.meta["shift_mm"][0] / case.meta["pixel_spacing_mm"]
    left_fraction = float(np.mean(cols > midline))
    assert 0.55 < left_fraction < 0.85, f"{left_fraction:.2f} of the heart left of midline"
    rows = np.nonzero(heart.any(axis=1))[0]
    rows = rows[: int(0.9 * len(rows))]  # the lowest rows meet the diaphragm
    right_border = np.array([np.argmax(heart[r]) for r in rows], float)
    middle = right_border[len(rows) // 4 : 3 * len(rows) // 4].min()
    assert middle < right_border[0] - 2, "right heart border not convex to the right"
    inner = ndimage.binary_erosion(heart, iterations=6)
    rim = heart & ~ndimage.binary_erosion(heart, iterations=2) & case.masks["lungs"]
    if rim.any():
        assert case.image[rim].mean() < case.image[inner].mean()


def test_working_resolution_follows_output_size():
    """Small outputs are rendered a little above their size, large ones at 3/4 of it (the
    film blur hides the difference; noise comes at the output size)."""
    assert _working_size(64) == 128
    assert _working_size(128) == 160
    assert _working_size(192) == 192
    assert _working_size(256) == 192
    assert _working_size(512) == 384
    assert _working_size(1024) == 768
    case = cxr.render_case(2, [], size=512)
    assert case.image.shape == (512, 512)
    # the output is not a blocky upsampling: neighbouring pixels differ (detector noise)
    assert np.mean(case.image[:, 1:] != case.image[:, :-1]) > 0.3


def test_patients_vary():
    """Habitus, heart size, lung height, rotation and exposure differ between seeds."""
    metas = [cxr.render_case(seed, [], size=64).meta for seed in range(8)]
    for key in ("habitus", "ctr", "inspiration_dome_right_mm", "rotation_deg"):
        values = [m[key] for m in metas]
        assert np.std(values) > 0, key
    assert np.std([m["exposure"][0] for m in metas]) > 1
    assert np.ptp([m["ctr"] for m in metas]) > 0.03


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mass_above_and_nodule_within_3_cm(seed):
    """Mass > 30 mm, nodule <= 30 mm: in metadata and in the lesion box at the pixel spacing."""
    mass = cxr.render_case(seed, ["Mass"], size=128, masks=True)
    nodule = cxr.render_case(seed, ["Nodule"], size=128, masks=True)
    spacing = mass.meta["pixel_spacing_mm"]
    assert spacing == pytest.approx(430 / 128)
    assert mass.meta["findings"]["Mass"]["diameter_mm"] > 30
    assert nodule.meta["findings"]["Nodule"]["diameter_mm"] <= 30
    x0, y0, x1, y1 = mass.meta["findings"]["Mass"]["box"]
    assert max(x1 - x0, y1 - y0) * spacing > 30
    x0, y0, x1, y1 = nodule.meta["findings"]["Nodule"]["box"]
    assert max(x1 - x0, y1 - y0) * spacing <= 30 + 2 * spacing


def test_effusion_raises_density_at_the_base():
    """Same patient and shot: the effusion region is brighter than without the effusion."""
    with_fluid = cxr.render_case(21, ["Effusion"], size=128, masks=True)
    without = cxr.render_case(21, [], size=128)
    region = with_fluid.masks["Effusion"]
    assert region.any()
    assert region[region.shape[0] // 2 :].sum() > 0.8 * region.sum()  # dependent: lower half
    gain = with_fluid.image[region].mean() - without.image[region].mean()
    assert gain > 25, f"effusion brightened its region by only {gain:.1f} grey levels"


def test_pneumothorax_is_lucent_and_without_markings():
    """The pleural air space carries no vessel markings and is darker than the same lung."""
    ptx = cxr.render_case(8, ["Pneumothorax"], size=256, masks=True)
    normal = cxr.render_case(8, [], size=256, masks=True)
    space = ptx.masks["Pneumothorax"]
    assert space.sum() > 200
    assert not (ptx.masks["vessels"] & space).any()
    assert ptx.masks["vessels"].sum() > 100  # the collapsed lung and the other lung keep them
    region = ndimage.binary_erosion(space, iterations=2)
    assert ptx.image[region].mean() < normal.image[region].mean() - 3
    assert ptx.meta["findings"]["Pneumothorax"]["collapse"] >= 0.2


def test_vessels_spare_the_lung_periphery():
    """No visible vessels in the outer centimetre of the lung fields."""
    case = cxr.render_case(4, [], size=256, masks=True)
    spacing = case.meta["pixel_spacing_mm"]
    lungs = case.masks["lungs"]
    inner = ndimage.binary_erosion(lungs, iterations=int(np.ceil(10 / spacing)))
    rim = lungs & ~inner
    assert case.masks["vessels"][inner].sum() > 100
    # the rim near the mediastinum (hila) may hold vessels: check the lateral half only
    lateral = np.zeros_like(rim)
    lateral[:, : lateral.shape[1] // 4] = lateral[:, -lateral.shape[1] // 4 :] = True
    assert (case.masks["vessels"] & rim & lateral).sum() == 0


def test_render_rejects_bad_input():
    """Unknown finding or size out of range -> ValueError naming what was expected."""
    with pytest.raises(ValueError, match="unknown finding"):
        cxr.render_case(0, ["Hernia"])
    with pytest.raises(ValueError, match="between 64 and 1024"):
        cxr.render_case(0, [], size=32)


def test_sample_labels_nih_is_imbalanced_in_nih_order():
    """'nih' prevalence reproduces the NIH ordering and proportions, with multi-label images."""
    labels = cxr.sample_labels(1000, "nih", seed=0)
    counts = Counter(name for image in labels for name in image)
    assert len(labels) == 1000
    assert sorted(counts, key=lambda k: -counts[k]) == NIH_ORDER
    assert counts["No Finding"] == round(1000 * 60_361 / 112_120)
    assert any(len(image) > 1 for image in labels)
    assert all("No Finding" not in image or len(image) == 1 for image in labels)


def test_sample_labels_modes():
    """single_finding, balanced, explicit counts and normal-abnormal."""
    single = cxr.sample_labels(300, "nih", seed=1, single_finding=True)
    assert all(len(image) == 1 for image in single)
    balanced = Counter(image[0] for image in cxr.sample_labels(90, "balanced", seed=1))
    assert set(balanced.values()) == {10} and len(balanced) == 9
    explicit = Counter(image[0] for image in cxr.sample_labels(5, {"Mass": 3, "No Finding": 2}))
    assert explicit == {"Mass": 3, "No Finding": 2}
    study = cxr.normal_abnormal_labels(40, 60, seed=2)
    assert sum(image == ["No Finding"] for image in study) == 40
    with pytest.raises(ValueError, match="prevalence"):
        cxr.sample_labels(10, "uniform")
    with pytest.raises(ValueError, match="unknown label"):
        cxr.sample_labels(10, {"Hernia": 1})


def _checksums(folder):
    return read_manifest(folder)["files"]


def test_dataset_layout_schema_and_determinism(tmp_path):
    """NIH layout with the real CSV header; byte-identical for 1 and 2 workers."""
    one = cxr.generate_dataset(tmp_path / "one", 6, size=64, seed=4, masks=True, workers=1)
    two = cxr.generate_dataset(tmp_path / "two", 6, size=64, seed=4, masks=True, workers=2)
    assert _checksums(one) == _checksums(two)
    lines = (one / "Data_Entry_2017.csv").read_text().splitlines()
    assert lines[0] == (
        "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,"
        "View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],"
    )
    assert len(lines) == 7
    meta = [json.loads(line) for line in (one / "metadata.jsonl").read_text().splitlines()]
    for line, record in zip(lines[1:], meta, strict=True):
        fields = line.split(",")
        assert len(fields) == 12 and fields[-1] == ""
        assert fields[0] == record["Image Index"]
        assert fields[1].split("|") == record["labels"]
        assert fields[6] == "PA" and fields[7:9] == ["64", "64"]
        assert float(fields[9]) == pytest.approx(430 / 64)
        image = Image.open(one / "images" / fields[0])
        assert image.mode == "L" and image.size == (64, 64)
    assert len(list((one / "masks").glob("*_lungs.png"))) == 6


def test_patient_plan_groups_images_as_nih_does():
    """3.6 images per patient on average (NIH: 112,120 images of 30,805 patients), never
    more than the cap, follow-ups numbered from 0, seeds per image and per patient."""
    n = 20000
    tasks = cxr_writer._plan(n, 3, [[]] * n)
    sizes = Counter(t["patient"] for t in tasks)
    assert 3.4 < n / len(sizes) < 3.85, f"{n / len(sizes):.2f} images per patient"
    assert max(sizes.values()) == cxr_writer.FOLLOW_UP_CAP
    assert 0.2 < sum(v == 1 for v in sizes.values()) / len(sizes) < 0.35
    for patient in (1, 2, len(sizes)):
        series = [t for t in tasks if t["patient"] == patient]
        assert [t["follow_up"] for t in series] == list(range(len(series)))
        assert len({t["patient_seed"] for t in series}) == 1
    assert len({t["seed"] for t in tasks}) == n
    assert len({t["patient_seed"] for t in tasks}) == len(sizes)


def test_rerun_is_a_noop(tmp_path):
    """A second call with the same parameters touches nothing."""
    out = cxr.generate_dataset(tmp_path / "d", 3, size=64, seed=1, workers=1)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    cxr.generate_dataset(tmp_path / "d", 3, size=64, seed=1, workers=1)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch):
    """An exception mid-generation: no folder at out; an existing data set is untouched."""
    real = cxr.render_case
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash")
        return real(*args, **kwargs)

    monkeypatch.setattr(cxr_writer, "render_case", failing)
    with pytest.raises(RuntimeError):
        cxr.generate_dataset(tmp_path / "new", 5, size=64, workers=1)
    assert not (tmp_path / "new").exists()
    assert list(tmp_path.iterdir()) == []

    monkeypatch.setattr(cxr_writer, "render_case", real)
    existing = cxr.generate_dataset(tmp_path / "old", 2, size=64, seed=9, workers=1)
    snapshot = _checksums(existing)
    calls["n"] = 0
    monkeypatch.setattr(cxr_writer, "render_case", failing)
    with pytest.raises(RuntimeError):
        cxr.generate_dataset(tmp_path / "old", 5, size=64, seed=10, workers=1)
    assert _checksums(existing) == snapshot
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]


def test_cli_hooks(tmp_path, capsys):
    """add_arguments/run_cli generate a set; bad prevalence exits 2 with a message."""
    parser = argparse.ArgumentParser()
    cxr.add_arguments(parser)
    args = parser.parse_args(
        [
            "--n",
            "2",
            "--size",
            "64",
            "--out",
            str(tmp_path / "c"),
            "--workers",
            "1",
            "--prevalence",
            '{"Mass": 1, "No Finding": 1}',
            "--dicom",
        ]
    )
    assert cxr.run_cli(args) == 0
    assert len(list((tmp_path / "c" / "dicom").glob("*.dcm"))) == 2
    bad = parser.parse_args(["--prevalence", "weird", "--out", str(tmp_path / "x")])
    assert cxr.run_cli(bad) == 2
    assert "prevalence" in capsys.readouterr().out


def test_gallery_names_every_sign():
    """The gallery writes a sign under the normal panel and every finding."""
    from medganlab.data.cxr.gallery import SIGNS, panel_note

    assert set(SIGNS) == {"Normal", *cxr.FINDINGS}
    case = cxr.render_case(3, ["Effusion"], size=64)
    note = panel_note("Effusion", case.meta)
    assert note.startswith("Effusion: meniscus, blunted CP angle")
    assert "severity" in note


def test_gallery_cli_beside_a_real_film(tmp_path, capsys):
    """--gallery writes a PNG of every finding (beside --real when given); a missing film or
    --real without --gallery exits 2 with a message."""
    film = tmp_path / "film.png"
    Image.fromarray(np.tile(np.arange(96, dtype=np.uint8), (80, 1))).save(film)
    parser = argparse.ArgumentParser()
    cxr.add_arguments(parser)
    out = tmp_path / "g" / "gallery.png"
    args = parser.parse_args(["--gallery", str(out), "--real", str(film), "--size", "64"])
    assert cxr.run_cli(args) == 0
    image = Image.open(out)
    assert image.size[0] > 2 * image.size[1]  # two rows of five panels
    assert "gallery" in capsys.readouterr().out
    missing = parser.parse_args(["--gallery", str(out), "--real", str(tmp_path / "none.png")])
    assert cxr.run_cli(missing) == 2
    assert "no such image" in capsys.readouterr().out
    stray = parser.parse_args(["--real", str(film), "--out", str(tmp_path / "set")])
    assert cxr.run_cli(stray) == 2
    assert "--gallery" in capsys.readouterr().out


def test_generator_version_is_recorded(tmp_path):
    """Images changed with generator v3: metadata and manifest carry the version, so a
    folder written by an older generator is regenerated rather than reused."""
    assert cxr.render_case(1, [], size=64).meta["generator_version"] == cxr.GENERATOR_VERSION >= 3
    out = cxr.generate_dataset(tmp_path / "v", 1, size=64, seed=0, workers=1)
    assert read_manifest(out)["params"]["generator_version"] == cxr.GENERATOR_VERSION


def test_phantom_modules_import_one_way():
    """anatomy <- textures <- soft tissue, vessels <- skeleton <- findings <- rendering <-
    writer <- gallery <- cli; labels stands alone (one concern per module, no cycle)."""
    import ast
    import importlib
    import inspect

    layers = {"anatomy", "textures", "soft_tissue", "vessels", "skeleton"}
    allowed = {
        "anatomy": set(),
        "textures": {"anatomy"},
        "soft_tissue": {"anatomy"},
        "vessels": {"anatomy", "textures"},
        "skeleton": {"anatomy", "soft_tissue"},
        "findings": {"anatomy", "textures", "vessels"},
        "rendering": layers | {"findings"},
        "labels": set(),
        "writer": layers | {"findings", "rendering", "labels"},
        "gallery": layers | {"findings", "rendering"},
        "cli": {"labels", "writer", "anatomy", "rendering", "gallery"},
    }
    for name, ok in allowed.items():
        module = importlib.import_module(f"medganlab.data.cxr.{name}")
        tree = ast.parse(inspect.getsource(module))
        used = {
            node.module.rsplit(".", 1)[-1]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("medganlab.data.cxr.")
        }
        assert used <= ok, f"medganlab.data.cxr.{name} imports {sorted(used - ok)}"
