"""KiTS19 reader, dataset summary, patient split, slices, tf.data and augmentation."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medganlab.data import kits
from medganlab.data.ct_phantom import generate_dataset


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("kits") / "phantom"
    return generate_dataset(
        out,
        cases=2,
        size=64,
        seed=11,
        slice_thickness_mm=5.0,
        tumour_fraction=1.0,
        workers=1,
        progress=False,
    )


@pytest.fixture()
def fake_kits(tmp_path) -> Path:
    """A tiny folder shaped like the KiTS19 repository (``data/case_XXXXX``)."""
    rng = np.random.default_rng(0)
    for index in range(3):
        hu = rng.integers(-1024, 400, size=(5, 16, 16)).astype(np.int16)
        labels = np.zeros((5, 16, 16), np.uint8)
        labels[1:3, 4:8, 4:8] = 1
        labels[2, 5:7, 5:7] = 2
        kits.write_kits_case(tmp_path / "data" / f"case_{index:05d}", hu, labels, (3.0, 0.78, 0.78))
    return tmp_path


def test_nifti_roundtrip_and_kits_orientation(tmp_path):
    """imaging/segmentation.nii.gz hold (slices, H, W) with KiTS19's axis directions."""
    hu = np.arange(4 * 6 * 8, dtype=np.int16).reshape(4, 6, 8) - 100
    labels = np.zeros_like(hu, dtype=np.uint8)
    labels[1, 2:4, 2:4] = 2
    kits.write_kits_case(tmp_path / "case_00000", hu, labels, (5.0, 0.7, 0.7))
    image = nib.load(str(tmp_path / "case_00000" / "imaging.nii.gz"))
    assert image.shape == (4, 6, 8) and nib.aff2axcodes(image.affine) == ("I", "P", "L")
    assert image.header.get_zooms() == pytest.approx((5.0, 0.7, 0.7))
    read_hu, read_labels, spacing = kits.load_case(tmp_path / "case_00000")
    assert np.array_equal(read_hu, hu) and np.array_equal(read_labels, labels)
    assert spacing == pytest.approx((5.0, 0.7, 0.7))


def test_generated_kits_layout_matches_dicom(tmp_path):
    """The NIfTI files of a generated case hold the same arrays as its DICOM series."""
    out = generate_dataset(
        tmp_path / "set",
        cases=1,
        size=64,
        seed=2,
        slice_thickness_mm=5.0,
        kits_layout=True,
        workers=1,
        progress=False,
    )
    case = out / "case_00000"
    from medganlab.data.dicom import read_ct_series

    dicom_hu, dicom_spacing, _ = read_ct_series(case / "dicom")
    nifti_hu, labels, nifti_spacing = kits.load_case(case)
    assert np.array_equal(dicom_hu, nifti_hu) and dicom_spacing == pytest.approx(nifti_spacing)
    assert np.array_equal(labels, np.load(case / "labels.npy"))
    assert kits.is_kits_layout(out) and kits.is_nifti_layout(out)


@pytest.mark.parametrize("kind", ["nifti", "npy"])
def test_labels_outside_kits_values_are_rejected(tmp_path, kind):
    case = tmp_path / "case_00000"
    labels = np.zeros((2, 4, 4), np.uint8)
    labels[0, 0, 0] = 3
    if kind == "nifti":
        nib.save(
            nib.Nifti1Image(np.zeros((2, 4, 4), np.int16), np.eye(4)),
            str(tmp_path / "imaging.nii.gz"),
        )
        case.mkdir()
        (tmp_path / "imaging.nii.gz").rename(case / "imaging.nii.gz")
        nib.save(nib.Nifti1Image(labels, np.eye(4)), str(case / "segmentation.nii.gz"))
        name = "segmentation.nii.gz"
    else:
        case.mkdir()
        np.save(case / "labels.npy", labels)
        name = "labels.npy"
    with pytest.raises(ValueError, match=rf"{name}: labels must be 0 .* found \[3\]"):
        kits.load_labels(case)
    with pytest.raises(ValueError, match="labels must be"):
        kits.write_kits_case(tmp_path / "out", np.zeros((2, 4, 4)), labels, (1, 1, 1))


def test_reader_errors_name_the_case(tmp_path):
    (tmp_path / "case_00000").mkdir()
    with pytest.raises(FileNotFoundError, match="case_00000: expected imaging.nii.gz"):
        kits.load_case(tmp_path / "case_00000")
    with pytest.raises(FileNotFoundError, match="no case_XXXXX"):
        kits.case_dirs(tmp_path / "case_00000")
    assert not kits.is_kits_layout(tmp_path / "missing")


def test_info_of_real_layout(fake_kits):
    """dataset_info finds case folders under data/ as in the KiTS19 repository."""
    info = kits.dataset_info(fake_kits)
    assert (
        info["layout"] == "nifti"
        and not info["generated"]
        and info["cases"] == 3
        and info["slices"] == 15
    )
    assert info["label_voxels"]["tumour"] == 3 * 4 and info["slices_with_kidney_or_tumour"] == 6
    text = kits.describe(fake_kits)
    assert (
        "cases: 3" in text and "slices: 15" in text and "tumour" in text and "KiTS19-style" in text
    )


def test_info_of_generated_folder(generated):
    assert kits.is_kits_layout(generated) and not kits.is_nifti_layout(generated)
    info = kits.dataset_info(generated)
    assert (
        info["layout"] == "dicom"
        and info["generated"]
        and info["cases"] == 2
        and info["cases_with_tumour"] == 2
    )
    assert info["slices"] == 2 * 36 and info["label_voxels"]["kidney"] > 0


def test_split_is_by_patient_and_respects_fractions():
    ids = [f"case_{i:05d}" for i in range(100)]
    split = kits.split_cases(ids, seed=3)
    sizes = {name: len(part) for name, part in split.items()}
    assert sizes == {"train": 70, "val": 20, "test": 10}
    parts = [set(part) for part in split.values()]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert set().union(*parts) == set(ids)
    assert split == kits.split_cases(ids, seed=3) and split != kits.split_cases(ids, seed=4)
    small = kits.split_cases(ids[:10])
    assert [len(small[k]) for k in ("train", "val", "test")] == [7, 2, 1]
    with pytest.raises(ValueError, match="sum"):
        kits.split_cases(ids, fractions=(0.5, 0.2, 0.1))
    with pytest.raises(ValueError, match="unique"):
        kits.split_cases(["a", "a"])


def test_slice_arrays_keep_labelled_slices(generated):
    images, masks, owners = kits.slice_arrays(generated, size=32)
    assert images.shape[1:] == (32, 32, 1) and masks.shape == images.shape
    assert images.dtype == np.float32 and images.min() >= -1 and images.max() <= 1
    assert set(np.unique(masks).tolist()) <= {0, 1, 2}
    assert np.all(masks.reshape(len(masks), -1).max(axis=1) > 0), (
        "only slices with kidney or tumour"
    )
    every, _, _ = kits.slice_arrays(generated, case_ids=["case_00000"], only_labelled=False)
    assert len(every) == 36 and set(owners) == {"case_00000", "case_00001"}


def blocks() -> tuple[np.ndarray, np.ndarray]:
    mask = np.zeros((48, 48, 1), np.uint8)
    mask[8:28, 10:30] = 1
    mask[30:44, 24:40] = 2
    image = np.where(mask > 0, 0.9, -0.9).astype(np.float32)
    return image, mask


def test_augmentation_keeps_image_and_mask_aligned():
    """The same transform moves both; the mask stays in {0, 1, 2} (nearest neighbour)."""
    import tensorflow as tf

    image, mask = blocks()
    changed = 0
    for index in range(8):
        warped_image, warped_mask = kits.augment_pair(
            image, mask, tf.constant([5, index]), rotation_deg=30, translation=0.15, zoom=0.2
        )
        warped_image, warped_mask = warped_image.numpy(), warped_mask.numpy()
        assert warped_mask.dtype == np.uint8 and set(np.unique(warped_mask).tolist()) <= {0, 1, 2}
        agree = np.mean((warped_image > 0) == (warped_mask > 0))
        assert agree > 0.97, f"image and mask disagree on {1 - agree:.1%} of pixels"
        changed += not np.array_equal(warped_mask, mask)
    assert changed >= 6, "the augmentation should move the pair"


def test_make_dataset_batches(generated):
    images, masks, _ = kits.slice_arrays(generated, size=32)
    dataset = kits.make_dataset(images, masks, batch_size=4, augment=True, seed=1)
    batch_images, batch_masks = next(iter(dataset))
    assert tuple(batch_images.shape) == (4, 32, 32, 1) and tuple(batch_masks.shape) == (
        4,
        32,
        32,
        1,
    )
    assert batch_images.dtype.name == "float32" and batch_masks.dtype.name == "uint8"
    assert set(np.unique(batch_masks.numpy()).tolist()) <= {0, 1, 2}
    with pytest.raises(ValueError, match="same length"):
        kits.make_dataset(images, masks[:1])
