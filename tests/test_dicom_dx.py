"""Tests of DICOM chest radiographs: DX writing, DX/CR reading, MONOCHROME1, JPEG, errors."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit

from medganlab.data import cxr_phantom as cxr
from medganlab.data.dicom import dx as dicom_dx


@pytest.fixture(scope="module")
def radiograph() -> np.ndarray:
    return cxr.render_case(1, ["Effusion"], size=96).image


def test_dx_roundtrip(tmp_path, radiograph):
    """Written DX file: right SOP class, MONOCHROME2, spacing, file meta; pixels round-trip."""
    path = dicom_dx.write_dx(tmp_path / "a.dcm", radiograph, 4.479, patient_id="7", uid_seed=3)
    assert path.read_bytes()[128:132] == b"DICM"
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == dicom_dx.DX_PRESENTATION_STORAGE
    assert ds.file_meta.MediaStorageSOPClassUID == dicom_dx.DX_PRESENTATION_STORAGE
    assert ds.Modality == "DX" and ds.PhotometricInterpretation == "MONOCHROME2"
    image, meta = dicom_dx.read_dx(path)
    assert image.dtype == np.float32 and np.array_equal(image, radiograph.astype(np.float32))
    assert meta["pixel_spacing_mm"] == [4.479, 4.479] and meta["inverted"] is False
    again = dicom_dx.write_dx(tmp_path / "b.dcm", radiograph, 4.479, patient_id="7", uid_seed=3)
    assert again.read_bytes() == path.read_bytes()  # deterministic UIDs and dates


def test_monochrome1_cr_is_inverted(tmp_path, radiograph):
    """A CR stored as MONOCHROME1 reads back with bone bright (inverted)."""
    path = dicom_dx.write_dx(tmp_path / "a.dcm", radiograph, 1.0)
    ds = pydicom.dcmread(path)
    ds.PixelData = (255 - radiograph).tobytes()
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.Modality = "CR"
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = dicom_dx.CR_STORAGE
    ds.save_as(tmp_path / "cr.dcm", enforce_file_format=True)
    image, meta = dicom_dx.read_dx(tmp_path / "cr.dcm")
    assert meta["inverted"] and meta["modality"] == "CR"
    assert np.array_equal(image, radiograph.astype(np.float32))


def test_jpeg_compressed_roundtrip(tmp_path, radiograph):
    """JPEG baseline pixel data (encoded with Pillow) decodes close to the original."""
    path = dicom_dx.write_dx(tmp_path / "a.dcm", radiograph, 1.0)
    ds = pydicom.dcmread(path)
    buffer = io.BytesIO()
    Image.fromarray(radiograph).save(buffer, format="JPEG", quality=95)
    ds.PixelData = encapsulate([buffer.getvalue()])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.LossyImageCompression = "01"
    ds.save_as(tmp_path / "jpeg.dcm", enforce_file_format=True)
    image, meta = dicom_dx.read_dx(tmp_path / "jpeg.dcm")
    assert meta["transfer_syntax"] == JPEGBaseline8Bit
    assert image.shape == radiograph.shape
    assert np.abs(image - radiograph).mean() < 3


def test_render_png(tmp_path, radiograph):
    """render_dx_png writes an 8-bit PNG of the image's size (percentile or file window)."""
    path = dicom_dx.write_dx(tmp_path / "a.dcm", radiograph, 1.0)
    out = dicom_dx.render_dx_png(path, tmp_path / "a.png")
    assert Image.open(out).size == (96, 96)
    same = dicom_dx.render_dx_png(path, tmp_path / "b.png", window="file")
    assert np.array_equal(np.asarray(Image.open(same)), radiograph)


def test_errors_name_the_file_and_problem(tmp_path, radiograph):
    """Missing, non-DICOM, truncated and non-radiograph files raise clear errors."""
    with pytest.raises(FileNotFoundError, match="missing.dcm"):
        dicom_dx.read_dx(tmp_path / "missing.dcm")
    text = tmp_path / "notes.dcm"
    text.write_text("this is not DICOM\n" * 20)
    with pytest.raises(ValueError, match="notes.dcm.*not a DICOM"):
        dicom_dx.read_dx(text)
    path = dicom_dx.write_dx(tmp_path / "full.dcm", radiograph, 1.0)
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(path.read_bytes()[:-2000])
    with pytest.raises(ValueError, match="cut.dcm.*truncated|cut.dcm.*unreadable"):
        dicom_dx.read_dx(cut)
    from pydicom.data import get_testdata_file

    ct = get_testdata_file("CT_small.dcm")
    with pytest.raises(ValueError, match="expected a DX or CR"):
        dicom_dx.read_dx(ct)
    with pytest.raises(ValueError, match="2-D uint8"):
        dicom_dx.write_dx(tmp_path / "x.dcm", radiograph.astype(float), 1.0)
