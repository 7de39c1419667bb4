"""Kidney CT phantom: HU per tissue, labels, volumes, determinism, atomic generation."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from medganlab.data import ct_phantom
from medganlab.data.ct import writer as ct_writer
from medganlab.data.ct_phantom import TISSUES, generate_dataset, render_case

SIZE, THICKNESS = 128, 5.0


@pytest.fixture(scope="module")
def with_tumour() -> ct_phantom.CtCase:
    return render_case(seed=0, size=SIZE, slice_thickness_mm=THICKNESS, tumour=True)


@pytest.fixture(scope="module")
def without_tumour() -> ct_phantom.CtCase:
    return render_case(seed=0, size=SIZE, slice_thickness_mm=THICKNESS, tumour=False)


def interior_median(case: ct_phantom.CtCase, *names: str) -> float:
    """Median HU of a tissue away from its borders (partial volume is expected there)."""
    mask = np.isin(case.tissues, [TISSUES[name] for name in names])
    interior = ndimage.binary_erosion(mask, structure=np.ones((1, 3, 3), bool))
    assert interior.sum() > 20, f"too few interior voxels of {names}: {interior.sum()}"
    return float(np.median(case.hu[interior]))


@pytest.mark.parametrize(
    ("names", "low", "high"),
    [
        (("kidney_cortex",), 160, 210),
        (("kidney_medulla",), 85, 135),
        (("tumour",), 60, 140),
        (("necrosis",), 5, 40),
        (("aorta",), 250, 400),
        (("fat",), -110, -50),
        (("liver",), 55, 95),
        (("muscle",), 10, 60),
        (("bone_cancellous",), 180, 320),
    ],
)
def test_median_hu_per_tissue_is_in_spec_range(with_tumour, names, low, high):
    """Median HU of each tissue's interior lies in the SPEC.md section D range."""
    median = interior_median(with_tumour, *names)
    assert low <= median <= high, f"median HU of {names}: expected {low}..{high}, got {median}"


def test_cortical_bone_is_bright(with_tumour):
    """The vertebral cortex and arch are several hundred HU."""
    bone = with_tumour.hu[with_tumour.tissues == TISSUES["bone_cortical"]]
    assert np.percentile(bone, 90) > 400, f"cortical bone 90th percentile {np.percentile(bone, 90)}"


def test_labels_are_kits19_values_with_both_classes(with_tumour):
    """Labels are uint8 in {0, 1, 2}; the tumour case has kidney and tumour voxels."""
    assert with_tumour.labels.dtype == np.uint8
    assert set(np.unique(with_tumour.labels).tolist()) == {0, 1, 2}
    assert with_tumour.hu.dtype == np.int16 and with_tumour.hu.shape == with_tumour.labels.shape


def test_tumour_overrides_kidney(with_tumour, without_tumour):
    """Voxels that are kidney without the tumour become tumour (2), never stay kidney."""
    replaced = (without_tumour.labels == 1) & (with_tumour.labels == 2)
    assert replaced.sum() > 0, "the tumour should replace some kidney voxels"
    assert not np.any(without_tumour.labels == 2), "a case without tumour has no label 2"
    tumour_tissue = np.isin(with_tumour.tissues, [TISSUES["tumour"], TISSUES["necrosis"]])
    assert np.all(with_tumour.labels[tumour_tissue] == 2)


def test_kidney_volume_and_meta_are_plausible(without_tumour):
    """Each kidney holds 90-220 mL; the metadata reports volumes, spacing and sides."""
    meta = without_tumour.meta
    for side in ("right", "left"):
        volume = meta[f"kidney_volume_ml_{side}"]
        assert 90 <= volume <= 220, f"{side} kidney volume {volume} mL, expected 90-220"
    assert meta["tumour_volume_ml"] == 0 and meta["tumours"] == []
    assert meta["spacing_mm"][0] == THICKNESS
    assert 100 <= meta["kidney_length_mm"]["left"] <= 120
    assert meta["left_kidney_higher_mm"] > 0


def test_tumour_meta(with_tumour):
    """Tumour diameters lie in 1-10 cm and the tumour volume is counted in mL."""
    meta = with_tumour.meta
    assert meta["has_tumour"] and meta["tumour_volume_ml"] > 0
    for tumour in meta["tumours"]:
        assert 10 <= tumour["diameter_mm"] <= 100 and tumour["side"] in ("left", "right")


def test_same_patient_at_another_size():
    """Geometry is in millimetres: the kidney volume barely changes with the matrix size."""
    small = render_case(seed=5, size=64, slice_thickness_mm=5.0, tumour=False).meta
    large = render_case(seed=5, size=128, slice_thickness_mm=5.0, tumour=False).meta
    ratio = small["kidney_volume_ml"] / large["kidney_volume_ml"]
    assert 0.85 < ratio < 1.15, f"kidney volume at 64 vs 128 px: ratio {ratio:.3f}"
    assert small["field_of_view_mm"] == large["field_of_view_mm"]


def test_noise_level_in_air():
    """Noise standard deviation in air (unclipped region) lies in 8-22 HU."""
    case = render_case(seed=2, size=64, slice_thickness_mm=5.0)
    corner = case.hu[:, :6, :6].astype(float)
    assert 8 <= corner.std() <= 22, f"noise sigma {corner.std():.1f} HU"


def test_render_is_deterministic():
    """The same seed renders the same volume."""
    first = render_case(seed=9, size=64, slice_thickness_mm=5.0)
    second = render_case(seed=9, size=64, slice_thickness_mm=5.0)
    assert np.array_equal(first.hu, second.hu) and np.array_equal(first.labels, second.labels)


def test_bad_geometry_is_rejected():
    with pytest.raises(ValueError, match="size"):
        render_case(seed=0, size=8)
    with pytest.raises(ValueError, match="slice_thickness"):
        render_case(seed=0, size=64, slice_thickness_mm=50)


def generate(out: Path, workers: int = 1, **options) -> Path:
    settings = dict(
        cases=2, size=64, seed=4, slice_thickness_mm=5.0, kits_layout=True, progress=False
    )
    settings.update(options)
    return generate_dataset(out, workers=workers, **settings)


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_dataset_is_byte_identical_across_runs_and_workers(tmp_path):
    """1 and 2 workers write byte-identical files (UIDs and dates derive from the seed)."""
    one = tree_bytes(generate(tmp_path / "one", workers=1))
    two = tree_bytes(generate(tmp_path / "two", workers=2))
    assert one.keys() == two.keys()
    different = [name for name in one if one[name] != two[name]]
    assert not different, f"files differ between 1 and 2 workers: {different[:5]}"
    assert "case_00000/imaging.nii.gz" in one and "case_00001/dicom/IM_0001.dcm" in one
    manifest = json.loads(one["manifest.json"])
    assert manifest["kind"] == "kidney_ct_phantom" and len(manifest["files"]) == len(one) - 1


def test_tumour_fraction_is_respected(tmp_path):
    out = generate(tmp_path / "set", cases=4, tumour_fraction=0.5, kits_layout=False)
    cases = json.loads((out / "cases.json").read_text())
    assert sum(case["has_tumour"] for case in cases) == 2


def test_rerun_is_a_no_op(tmp_path, monkeypatch):
    """A matching data set is kept as it is: nothing is rendered again."""
    out = generate(tmp_path / "set")
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}

    def fail(*args, **kwargs):
        raise AssertionError("render_case must not run for a matching data set")

    monkeypatch.setattr(ct_writer, "render_case", fail)
    generate(tmp_path / "set")
    assert before == {p: p.stat().st_mtime_ns for p in out.rglob("*")}


def test_failure_mid_generation_leaves_nothing(tmp_path, monkeypatch):
    """An exception in the second case leaves no folder, and an existing one untouched."""
    original = ct_phantom.render_case
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("simulated crash")
        return original(*args, **kwargs)

    monkeypatch.setattr(ct_writer, "render_case", flaky)
    with pytest.raises(RuntimeError, match="simulated"):
        generate(tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()
    assert [p.name for p in tmp_path.iterdir()] == []

    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("old data")
    calls.clear()
    with pytest.raises(RuntimeError):
        generate(existing)
    assert tree_bytes(existing) == {"keep.txt": b"old data"}


def test_cli_hooks(tmp_path):
    parser = argparse.ArgumentParser()
    ct_phantom.add_arguments(parser)
    args = parser.parse_args(
        [
            "--cases",
            "1",
            "--size",
            "64",
            "--slice-thickness",
            "5",
            "--out",
            str(tmp_path / "cli"),
            "--workers",
            "1",
        ]
    )
    messages = []
    assert ct_phantom.run_cli(args, echo=messages.append) == 0
    assert (tmp_path / "cli" / "case_00000" / "dicom" / "IM_0001.dcm").is_file()
    assert "1 cases" in messages[0]


def test_phantom_modules_import_one_way():
    """anatomy <- painting <- rendering <- writer <- cli."""
    import ast
    import importlib
    import inspect

    order = ["anatomy", "painting", "rendering", "writer", "cli"]
    for position, name in enumerate(order):
        module = importlib.import_module(f"medganlab.data.ct.{name}")
        used = {
            node.module.rsplit(".", 1)[-1]
            for node in ast.walk(ast.parse(inspect.getsource(module)))
            if isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("medganlab.data.ct.")
        }
        assert used <= set(order[:position]), f"medganlab.data.ct.{name} imports {sorted(used)}"
