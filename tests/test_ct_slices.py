"""Kidney CT slices for 07/08: the shared patient split, windowing, conditions, tumour edits."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from medganlab.data import ct_phantom, ct_slices, kits


@pytest.fixture(scope="module")
def ct_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("ct") / "phantom"
    ct_phantom.generate_dataset(
        root, cases=5, size=64, seed=3, slice_thickness_mm=10.0, workers=1, progress=False
    )
    return root


def test_split_is_by_patient_complete_and_shared(ct_root):
    split = ct_slices.split_patients(ct_root)
    patients = [c.name for c in kits.case_dirs(ct_root)]
    assert sorted(sum(split.values(), [])) == sorted(patients)
    assert all(split[name] for name in ("train", "val", "test")), split
    assert not set(split["train"]) & set(split["test"])
    assert ct_slices.split_patients(ct_root) == split  # 07 and 08 get the same split


def test_split_fractions_on_100_patients(tmp_path, monkeypatch):
    names = [f"case_{i:05d}" for i in range(100)]
    monkeypatch.setattr(kits, "case_dirs", lambda root: [tmp_path / n for n in names])
    monkeypatch.setattr(kits, "load_labels", lambda case: np.zeros((1, 2, 2), np.uint8))
    split = ct_slices.split_patients(tmp_path)
    assert [len(split[k]) for k in ("train", "val", "test")] == [70, 20, 10]


def test_split_needs_three_patients(tmp_path, monkeypatch):
    monkeypatch.setattr(kits, "case_dirs", lambda root: [tmp_path / "case_00000"])
    monkeypatch.setattr(kits, "load_labels", lambda case: np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="at least 3 labelled patients"):
        ct_slices.split_patients(tmp_path)


def test_load_slices_windowed_with_labels_and_body(ct_root):
    split = ct_slices.split_patients(ct_root)
    part = ct_slices.load_slices(ct_root, split["train"], size=32)
    assert part.images.shape == part.labels.shape == part.body.shape
    assert part.images.shape[1:] == (32, 32, 1) and len(part) == len(part.cases)
    assert -1.0 <= part.images.min() and part.images.max() <= 1.0
    assert set(np.unique(part.labels)) <= {0, 1, 2}
    assert (part.labels > 0).any(axis=(1, 2, 3)).all(), "only slices with kidney or tumour"
    assert set(part.cases) <= set(split["train"])
    inside = part.body.mean()
    assert 0.2 < inside < 0.95, f"the body should fill part of the slice, got {inside:.2f}"
    assert (part.body[part.labels > 0] == 1).all(), "kidneys lie inside the body outline"


def test_to_hu_is_the_w400_l0_window():
    assert np.allclose(ct_slices.to_hu(np.array([-1.0, 0.0, 1.0])), [-200.0, 0.0, 200.0])


def test_encode_condition_channels_and_values():
    labels = np.zeros((2, 8, 8, 1), np.uint8)
    labels[0, 2:4, 2:4] = 1
    labels[1, 5, 5] = 2
    body = np.ones_like(labels)
    both = ct_slices.encode_condition(labels, body, "labels+body")
    alone = ct_slices.encode_condition(labels, None, "labels")
    assert both.shape == (2, 8, 8, 3) and alone.shape == (2, 8, 8, 2)
    assert set(np.unique(both)) == {-1.0, 1.0}
    assert both[0, 2, 2, 0] == 1 and both[1, 5, 5, 1] == 1 and both[0, 0, 0, 2] == 1


def test_label_values_outside_0_1_2_are_refused():
    labels = np.zeros((1, 8, 8, 1), np.uint8)
    labels[0, 0, 0] = 3
    with pytest.raises(ValueError, match=r"expected values 0 \(background\), 1 \(kidney\) or 2"):
        ct_slices.encode_condition(labels, np.ones_like(labels))


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="expected the shape of the CT slices"):
        ct_slices.check_label_map(np.zeros((2, 8, 8, 1)), like=np.zeros((2, 16, 16, 1)))
    with pytest.raises(ValueError, match="expected the shape of the label maps"):
        ct_slices.encode_condition(np.zeros((1, 8, 8, 1)), np.zeros((1, 4, 4, 1)))
    with pytest.raises(ValueError, match="expected a body mask"):
        ct_slices.encode_condition(np.zeros((1, 8, 8, 1)), None, "labels+body")
    with pytest.raises(ValueError, match="condition: expected one of"):
        ct_slices.condition_channels("label")


def test_edit_tumour_grows_shrinks_and_moves():
    labels = np.zeros((32, 32), np.uint8)
    labels[8:24, 8:24] = 1
    labels[14:18, 14:18] = 2
    grown = ct_slices.edit_tumour(labels, scale=2.0)
    shrunk = ct_slices.edit_tumour(labels, scale=0.5)
    moved = ct_slices.edit_tumour(labels, shift=(3, -2))
    assert (grown == 2).sum() > (labels == 2).sum() > (shrunk == 2).sum() > 0
    assert (moved == 2).sum() == (labels == 2).sum()
    rows, cols = np.nonzero(moved == 2)
    assert rows.min() == 17 and cols.min() == 12
    assert moved[14, 14] == 1, "kidney fills where the tumour was"
    assert np.array_equal(ct_slices.edit_tumour(labels), labels)
    no_tumour = np.where(labels == 2, 1, labels)
    assert np.array_equal(ct_slices.edit_tumour(no_tumour, 2.0), no_tumour)
    assert ct_slices.edit_tumour(labels[..., None], 1.5).shape == (32, 32, 1)
    with pytest.raises(ValueError, match="positive"):
        ct_slices.edit_tumour(labels, scale=0)


def test_synthetic_count_matches_the_paper_ratio():
    assert ct_slices.synthetic_count(4480) == 1333
    assert ct_slices.synthetic_count(420) == 125
    assert ct_slices.synthetic_count(1) == 1
    with pytest.raises(ValueError):
        ct_slices.synthetic_count(0)


def test_body_outline_fills_gas_inside():
    image = -np.ones((32, 32), np.float32)
    image[4:28, 4:28] = 0.0
    image[14:18, 14:18] = -1.0  # bowel gas inside the body
    mask = ct_slices.body_outline(image)
    assert mask[15, 15] == 1 and mask[0, 0] == 0 and mask.sum() == 24 * 24


def test_a_kits19_nifti_folder_reads_like_the_phantom(ct_root, tmp_path):
    """The KiTS19 layout (imaging.nii.gz + segmentation.nii.gz) gives the same slices."""
    nifti = tmp_path / "kits"
    ct_phantom.generate_dataset(
        nifti, cases=5, size=64, seed=3, slice_thickness_mm=10.0, kits_layout=True,
        workers=1, progress=False,
    )  # fmt: skip
    for case in kits.case_dirs(nifti):  # keep only what KiTS19 ships
        for extra in ("dicom", "labels.npy", "case.json"):
            path = case / extra
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    split = ct_slices.split_patients(nifti)
    assert split == ct_slices.split_patients(ct_root)
    a = ct_slices.load_slices(ct_root, split["test"], size=32)
    b = ct_slices.load_slices(nifti, split["test"], size=32)
    assert np.allclose(a.images, b.images, atol=1e-5) and np.array_equal(a.labels, b.labels)
