"""CT DICOM series I/O: roundtrip, sorting, geometry checks and every bad input."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from medganlab.data.dicom import (
    CT_IMAGE_STORAGE,
    read_ct_series,
    read_ct_slice,
    render_png,
    window,
    write_ct_series,
)

SPACING = (2.5, 0.8, 0.8)


def make_volume(slices: int = 6, size: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    volume = rng.integers(-1024, 1500, size=(slices, size, size)).astype(np.int16)
    volume[:, 0, 0] = np.arange(slices) * 10  # a per-slice marker
    return volume


@pytest.fixture()
def series(tmp_path: Path) -> tuple[Path, np.ndarray]:
    volume = make_volume()
    write_ct_series(tmp_path / "series", volume, SPACING, patient_id="TEST-1", uid_seed="a")
    return tmp_path / "series", volume


def test_written_file_attributes(series):
    """Each file is a complete CT Image Storage instance with HU rescale and W400/L0."""
    folder, volume = series
    ds = pydicom.dcmread(folder / "IM_0001.dcm")
    assert ds.file_meta.MediaStorageSOPClassUID == CT_IMAGE_STORAGE == ds.SOPClassUID
    assert ds.Modality == "CT" and ds.PhotometricInterpretation == "MONOCHROME2"
    assert (
        ds.BitsAllocated == 16
        and float(ds.RescaleSlope) == 1
        and float(ds.RescaleIntercept) == -1024
    )
    assert float(ds.WindowCenter) == 0 and float(ds.WindowWidth) == 400
    assert [float(v) for v in ds.PixelSpacing] == [0.8, 0.8] and float(ds.SliceThickness) == 2.5
    assert [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    uids = {
        (d.StudyInstanceUID, d.SeriesInstanceUID, d.FrameOfReferenceUID)
        for d in map(pydicom.dcmread, folder.iterdir())
    }
    assert len(uids) == 1, "one study, series and frame of reference per volume"
    assert len({pydicom.dcmread(p).SOPInstanceUID for p in folder.iterdir()}) == len(volume)


def test_series_roundtrip(series):
    """Write -> read gives the same HU, spacing, and cranial-first order."""
    folder, volume = series
    hu, spacing, meta = read_ct_series(folder)
    assert hu.dtype == np.float32 and np.array_equal(hu, volume.astype(np.float32))
    assert spacing == pytest.approx(SPACING)
    assert meta["patient_id"] == "TEST-1" and len(meta["files"]) == len(volume)


def test_sorted_by_position_when_shuffled_and_renamed(series, tmp_path):
    """File names and order do not matter: slices are sorted by ImagePositionPatient."""
    folder, volume = series
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    files = sorted(folder.iterdir())
    names = [f"x{n:03d}.dcm" for n in random.Random(1).sample(range(100), len(files))]
    for source, name in zip(files, names, strict=True):
        shutil.copy(source, shuffled / name)
    hu, _, _ = read_ct_series(shuffled)
    assert np.array_equal(hu, volume.astype(np.float32))


def test_ct_small_reads_to_plausible_hu():
    """pydicom's bundled real CT slice reads through the same reader."""
    hu, meta = read_ct_slice(Path(get_testdata_file("CT_small.dcm")))
    assert hu.shape == (128, 128) and meta["modality"] == "CT"
    soft = np.mean((hu > 0) & (hu < 100))
    assert soft > 0.05, f"expected soft tissue (0-100 HU) in CT_small, found {soft:.3f} of pixels"
    assert -1100 < hu.min() < 0 and hu.max() < 3100


def test_window_maps_w400_l0_to_minus_one_one():
    hu = np.array([-1000, -200, 0, 100, 200, 3000], dtype=np.float32)
    assert window(hu).tolist() == pytest.approx([-1, -1, 0, 0.5, 1, 1])
    assert window(hu, center=40, width=80).tolist() == pytest.approx([-1, -1, -1, 1, 1, 1])
    with pytest.raises(ValueError, match="width"):
        window(hu, width=0)


def test_render_png_of_file_and_folder(series, tmp_path):
    folder, volume = series
    out = render_png(folder / "IM_0001.dcm", tmp_path / "one.png")
    image = np.asarray(Image.open(out))
    assert image.shape == (16, 16) and image.dtype == np.uint8
    expected = np.round((window(volume[0]) + 1) * 127.5)
    assert np.array_equal(image, expected)
    middle = np.asarray(Image.open(render_png(folder, tmp_path / "mid.png", center=40, width=400)))
    assert middle.shape == (16, 16)


def test_render_png_dispatches_radiographs(tmp_path, series, monkeypatch):
    """DX files go to medganlab.data.dicom.dx.render_dx_png with the requested window."""
    folder, _ = series
    ds = pydicom.dcmread(folder / "IM_0001.dcm")
    ds.Modality = "DX"
    ds.save_as(tmp_path / "dx.dcm", enforce_file_format=True)
    from medganlab.data.dicom import render as render_module

    calls = []
    monkeypatch.setattr(
        render_module,
        "render_dx_png",
        lambda path, out, window: calls.append((path, out, window)) or out,
    )
    render_png(tmp_path / "dx.dcm", tmp_path / "dx.png")
    render_png(tmp_path / "dx.dcm", tmp_path / "dx2.png", center=100, width=50)
    assert calls == [
        (tmp_path / "dx.dcm", tmp_path / "dx.png", None),
        (tmp_path / "dx.dcm", tmp_path / "dx2.png", (100, 50)),
    ]


# ---- bad input ------------------------------------------------------------------------


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.dcm"):
        read_ct_slice(tmp_path / "nope.dcm")
    with pytest.raises(FileNotFoundError, match="absent"):
        read_ct_series(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no DICOM files"):
        read_ct_series(tmp_path / "empty")


def test_corrupt_file_is_named(tmp_path):
    bad = tmp_path / "garbage.dcm"
    bad.write_bytes(b"this is not dicom" * 50)
    with pytest.raises(ValueError, match="garbage.dcm"):
        read_ct_slice(bad)


@pytest.mark.parametrize("keep", [0.3, 0.5, 0.9])
def test_truncated_file_is_named(series, keep):
    """A file cut in its header, or inside its pixel data, is reported as truncated."""
    folder, _ = series
    path = folder / "IM_0003.dcm"
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="IM_0003.dcm.*truncated"):
        read_ct_series(folder)


def test_missing_slice_is_reported(series):
    folder, _ = series
    (folder / "IM_0004.dcm").unlink()
    with pytest.raises(ValueError, match=r"IM_0005\.dcm.*1 missing slice"):
        read_ct_series(folder)


def test_two_series_mixed(series, tmp_path):
    folder, volume = series
    write_ct_series(tmp_path / "other", volume, SPACING, patient_id="TEST-2", uid_seed="b")
    shutil.copy(tmp_path / "other" / "IM_0002.dcm", folder / "Z_other.dcm")
    with pytest.raises(ValueError, match="SeriesInstanceUID.*two series"):
        read_ct_series(folder)


def test_two_orientations(series):
    folder, _ = series
    ds = pydicom.dcmread(folder / "IM_0002.dcm")
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
    ds.save_as(folder / "IM_0002.dcm", enforce_file_format=True)
    with pytest.raises(ValueError, match="IM_0002.dcm.*ImageOrientationPatient"):
        read_ct_series(folder)


def test_non_ct_modality(series):
    folder, _ = series
    ds = pydicom.dcmread(folder / "IM_0001.dcm")
    ds.Modality = "MR"
    ds.save_as(folder / "IM_0001.dcm", enforce_file_format=True)
    with pytest.raises(ValueError, match="IM_0001.dcm.*expected Modality CT, found MR"):
        read_ct_series(folder)


def test_wrong_pixel_data_length(series):
    folder, _ = series
    ds = pydicom.dcmread(folder / "IM_0002.dcm")
    ds.PixelData = ds.PixelData[:-64]
    ds.save_as(folder / "IM_0002.dcm", enforce_file_format=True)
    with pytest.raises(ValueError, match=r"IM_0002.dcm: pixel data has 448 bytes, expected 512"):
        read_ct_slice(folder / "IM_0002.dcm")


def test_write_rejects_bad_volume(tmp_path):
    with pytest.raises(ValueError, match="3-D"):
        write_ct_series(tmp_path / "x", np.zeros((4, 4)), SPACING, patient_id="p", uid_seed=1)
    with pytest.raises(ValueError, match="spacing"):
        write_ct_series(tmp_path / "x", np.zeros((2, 4, 4)), (0, 1, 1), patient_id="p", uid_seed=1)


def test_uids_are_deterministic(tmp_path):
    volume = make_volume(slices=2, size=8)
    first = write_ct_series(tmp_path / "a", volume, SPACING, patient_id="p", uid_seed=7)
    second = write_ct_series(tmp_path / "b", volume, SPACING, patient_id="p", uid_seed=7)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_one_study_date_and_no_import_cycle():
    """CT and DX files carry the same study date; core imports neither modality."""
    import ast
    import inspect

    from medganlab.data.dicom import core, ct, dx

    assert ct.STUDY_DATE == dx.STUDY_DATE == core.STUDY_DATE
    for module, forbidden in (
        (core, ("ct", "dx", "render")),
        (ct, ("dx", "render")),
        (dx, ("ct", "render")),
    ):
        tree = ast.parse(inspect.getsource(module))
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        bad = [m for m in imported if m.rsplit(".", 1)[-1] in forbidden and "dicom" in m]
        assert not bad, f"{module.__name__} imports {bad}"
