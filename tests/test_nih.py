"""Tests of the NIH ChestX-ray14 layout index, summary, patient split and tf.data loader."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from medganlab.data import cxr_phantom as cxr
from medganlab.data import nih

HEADER = (
    "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,"
    "View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],"
)
ROWS = [
    "00000001_000.png,Cardiomegaly,0,1,57,M,PA,2682,2749,0.143,0.143,",
    "00000001_001.png,Cardiomegaly|Emphysema,1,1,58,M,PA,2894,2729,0.143,0.143,",
    "00000001_002.png,Cardiomegaly|Effusion,2,1,58,M,PA,2500,2048,0.168,0.168,",
    "00000002_000.png,No Finding,0,2,081Y,M,PA,2500,2048,0.171,0.171,",
    "00000003_000.png,Hernia,0,3,74,F,PA,2500,2048,0.168,0.168,",
    "00000004_000.png,Mass|Nodule,0,4,82,M,AP,2992,2991,0.143,0.143,",
    "00000005_000.png,No Finding,0,5,69,F,PA,2048,2500,0.168,0.168,",
    "00000006_000.png,Effusion|Infiltration,0,6,45,F,PA,2500,2048,0.168,0.168,",
]


def make_fixture(root, nested: bool = False, size: int = 48):
    """Write a tiny NIH-layout folder (8 images) like a real ChestX-ray14 download."""
    folder = root / ("images_001/images" if nested else "images")
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for row in ROWS:
        name = row.split(",")[0]
        pixels = rng.integers(0, 256, (size, size), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / name)
    (root / "Data_Entry_2017.csv").write_text("\n".join([HEADER, *ROWS]) + "\n")
    return root


def test_load_index_reads_the_real_schema(tmp_path):
    """Columns by NIH name and position; ages like 081Y; nested images_001/images."""
    root = make_fixture(tmp_path, nested=True)
    assert nih.is_nih_layout(root)
    index = nih.load_index(root)
    assert len(index) == 8
    first = index[1]
    assert first["labels"] == ["Cardiomegaly", "Emphysema"]
    assert first["patient_id"] == "1" and first["follow_up"] == 1
    assert (first["width"], first["height"], first["spacing"]) == (2894, 2729, 0.143)
    assert index[3]["labels"] == ["No Finding"] and index[3]["age"] == 81
    assert index[5]["view"] == "AP"
    assert all(path.endswith(".png") for path in (r["image"] for r in index))


def test_describe_counts_findings(tmp_path):
    """dataset_info/describe: image count, size and counts per label incl. No Finding."""
    root = make_fixture(tmp_path)
    info = nih.dataset_info(root)
    assert info["images"] == 8 and info["patients"] == 6
    assert info["sizes"] == {"48x48": 8}
    assert info["counts"]["No Finding"] == 2
    assert info["counts"]["Cardiomegaly"] == 3
    assert info["counts"]["Pneumonia"] == 0
    assert info["counts"]["Hernia"] == 1
    text = nih.describe(root)
    assert "8 images" in text and "48x48" in text and "No Finding" in text


def test_clear_errors(tmp_path):
    """Missing folder, missing CSV, listed-but-absent image -> FileNotFoundError."""
    with pytest.raises(FileNotFoundError, match="no such folder"):
        nih.load_index(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="Data_Entry_2017.csv"):
        nih.load_index(tmp_path / "empty")
    assert not nih.is_nih_layout(tmp_path / "empty")
    root = make_fixture(tmp_path / "fixture")
    (root / "images" / "00000003_000.png").unlink()
    with pytest.raises(FileNotFoundError, match="00000003_000.png"):
        nih.load_index(root)
    bad = tmp_path / "bad"
    (bad / "images").mkdir(parents=True)
    (bad / "Data_Entry_2017.csv").write_text("name,label\n")
    with pytest.raises(ValueError, match="Finding Labels"):
        nih.load_index(bad)


def test_split_by_patient_has_no_overlap(tmp_path):
    """Every image lands in exactly one part and no patient spans two parts."""
    out = cxr.generate_dataset(tmp_path / "set", 30, size=64, seed=2, workers=1, progress=False)
    index = nih.load_index(out)
    parts = nih.split_by_patient(index, (0.6, 0.2, 0.2), seed=1)
    patients = [{r["patient_id"] for r in part} for part in parts]
    assert sum(len(part) for part in parts) == 30
    assert not (patients[0] & patients[1] or patients[0] & patients[2] or patients[1] & patients[2])
    assert len(parts[0]) > len(parts[1])
    assert len({r["patient_id"] for r in index}) < 30  # follow-ups exist
    with pytest.raises(ValueError, match="sum to 1"):
        nih.split_by_patient(index, (0.5, 0.2))


def test_phantom_index_agrees_with_metadata(tmp_path):
    """The phantom reads like a real download, and CSV labels match metadata.jsonl."""
    import json

    out = cxr.generate_dataset(tmp_path / "set", 5, size=64, seed=3, workers=1, progress=False)
    index = nih.load_index(out)
    meta = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    assert [r["labels"] for r in index] == [m["labels"] for m in meta]
    assert all(r["width"] == 64 and r["spacing"] == pytest.approx(430 / 64) for r in index)


def test_label_vectors():
    """multi-hot over 8 findings, one-hot with No Finding first, binary normal/abnormal."""
    vector = nih.label_vector(["Effusion", "Mass"], "multi-hot")
    assert vector.tolist() == [0, 0, 1, 0, 1, 0, 0, 0]
    assert nih.label_vector(["No Finding"], "one-hot").tolist() == [1] + [0] * 8
    assert nih.label_vector(["Mass", "Effusion"], "one-hot").argmax() == 3
    assert nih.label_vector(["Hernia"], "binary").tolist() == [1.0]
    assert nih.label_vector(["No Finding"], "binary").tolist() == [0.0]
    with pytest.raises(ValueError, match="multi-hot"):
        nih.label_vector(["Mass"], "softmax")


def test_make_dataset_batches_in_range(tmp_path):
    """tf.data: (batch, size, size, 1) float images in [-1, 1] and the chosen label shape."""
    root = make_fixture(tmp_path)
    index = nih.load_index(root)
    dataset = nih.make_dataset(
        index, size=32, batch=4, labels="multi-hot", shuffle=True, cache=True
    )
    images, labels = next(iter(dataset))
    assert tuple(images.shape) == (4, 32, 32, 1) and tuple(labels.shape) == (4, 8)
    values = images.numpy()
    assert values.min() >= -1.0 and values.max() <= 1.0 and values.min() < -0.5 < 0.5 < values.max()
    batches = list(nih.make_dataset(index, size=16, batch=3, labels="one-hot", shuffle=False))
    assert [tuple(b[0].shape) for b in batches] == [(3, 16, 16, 1), (3, 16, 16, 1), (2, 16, 16, 1)]
    assert tuple(batches[0][1].shape) == (3, 9)
    assert batches[0][1].numpy()[0].argmax() == 2  # 00000001_000: Cardiomegaly


def test_make_dataset_balance_draws_every_class_equally(tmp_path):
    """balance=True: rare classes are revisited so each class is about 1/K of the draws."""
    root = make_fixture(tmp_path)
    record = nih.load_index(root)[0]
    # 30 images of one finding, 3 of another, 1 of a third: 30:3:1 in the index
    index = [dict(record, labels=["Infiltration"])] * 30
    index += [dict(record, labels=["Pneumonia"])] * 3 + [dict(record, labels=["Mass"])]
    dataset = nih.make_dataset(index, size=8, batch=32, shuffle=True, cache=True, balance=True)
    labels = np.concatenate([y.numpy() for _, y in dataset.take(30)])  # infinite: take
    share = labels.sum(axis=0) / len(labels)
    picked = [nih.FINDINGS.index(f) for f in ("Infiltration", "Pneumonia", "Mass")]
    assert np.allclose(share[picked], 1 / 3, atol=0.05), share
    assert labels.sum() == len(labels)  # one class per image
    assert nih.balanced_steps(index, 32) == 1 and nih.balanced_steps(index, 8) == 4
    with pytest.raises(ValueError, match="exactly one class"):
        nih.make_dataset(nih.load_index(root), size=8, batch=4, balance=True)
