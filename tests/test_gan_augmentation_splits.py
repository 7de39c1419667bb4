"""The shared patient-level split of chest X-ray sets (02, 03, 06) and generator provenance."""

from __future__ import annotations

import pytest

from medganlab.data import cxr_splits, nih
from medganlab.data.cxr import generate_dataset
from medganlab.data.cxr_splits import (
    check_training_provenance,
    dataset_identity,
    patient_part,
    split_records,
    training_provenance,
)


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    """Two phantom sets of seed 7 (multi-label and single-finding, different sizes)."""
    base = tmp_path_factory.mktemp("cxr")
    multi = generate_dataset(base / "multi", n=40, size=64, seed=7, progress=False)
    single = generate_dataset(
        base / "single", n=24, size=64, seed=7, single_finding=True, progress=False
    )
    return multi, single


def _records(patients: range) -> list[dict]:
    return [{"patient_id": str(p), "image": f"{p}.png", "labels": ["No Finding"]} for p in patients]


def test_a_patient_has_one_part_whatever_the_set_or_the_id_spelling():
    assert patient_part("00017") == patient_part(17) == patient_part(" 17 ")
    small = split_records(_records(range(1, 200)))
    large = split_records(_records(range(1, 3000)))
    for part in cxr_splits.PARTS:
        ids = {r["patient_id"] for r in small[part]}
        assert ids <= {r["patient_id"] for r in large[part]}, (
            "a subset's split is the split's subset"
        )
    counts = {part: len(large[part]) / 2999 for part in cxr_splits.PARTS}
    for part, fraction in zip(cxr_splits.PARTS, cxr_splits.SPLIT_FRACTIONS, strict=True):
        assert abs(counts[part] - fraction) < 0.03, counts
    other_seed = split_records(_records(range(1, 3000)), seed=cxr_splits.SPLIT_SEED + 1)
    assert other_seed["test"] != large["test"]


def test_no_patient_in_two_parts_and_follow_ups_stay_together(phantom):
    index = nih.load_index(phantom[0])
    parts = split_records(index)
    assert sum(len(p) for p in parts.values()) == len(index)
    owners = {}
    for part, records in parts.items():
        for r in records:
            assert owners.setdefault(r["patient_id"], part) == part


def test_bad_fractions_are_refused():
    with pytest.raises(ValueError, match="summing to 1"):
        split_records(_records(range(5)), fractions=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="3 values"):
        patient_part(1, fractions=(0.8, 0.2))


def test_identity_names_the_patient_namespace(phantom, tmp_path):
    multi, single = dataset_identity(phantom[0]), dataset_identity(phantom[1])
    assert multi["kind"] == "cxr-phantom" and multi["n"] == 40 and not multi["single_finding"]
    assert multi["patient_namespace"] == single["patient_namespace"] == "cxr-phantom:seed7"
    folder = tmp_path / "nih"
    (folder / "images").mkdir(parents=True)
    (folder / "Data_Entry_2017.csv").write_text("Image Index,Finding Labels,Patient ID\n")
    real = dataset_identity(folder)
    assert real["kind"] == "nih-folder" and real["patient_namespace"].startswith("nih:")
    with pytest.raises(FileNotFoundError, match="expected a phantom set"):
        dataset_identity(tmp_path / "empty")


def test_provenance_records_training_patients_and_refuses_others(phantom):
    parts = split_records(nih.load_index(phantom[1]))
    record = training_provenance(phantom[1], parts["train"])
    split = record["split"]
    assert split["part"] == "train" and split["images"] == len(parts["train"])
    assert split["patients"] == sorted(
        {cxr_splits.patient_key(r["patient_id"]) for r in parts["train"]}
    )
    assert record["data"]["folder"] == phantom[1].name
    with pytest.raises(ValueError, match="not in the training split"):
        training_provenance(phantom[1], parts["train"] + parts["test"])


def test_check_accepts_a_clean_generator_and_refuses_leaky_ones(phantom):
    gan_parts = split_records(nih.load_index(phantom[1]))
    meta = {"training_data": training_provenance(phantom[1], gan_parts["train"])}
    identity = dataset_identity(phantom[0])  # 06's own set: same namespace, other images
    test = [r["patient_id"] for r in split_records(nih.load_index(phantom[0]))["test"]]
    assert check_training_provenance(meta, identity, test)["split"]["part"] == "train"

    seen = meta["training_data"]["split"]["patients"]
    with pytest.raises(ValueError, match=r"refused .* trained on \d+ patient"):
        check_training_provenance(meta, identity, seen[:3] + test)
    with pytest.raises(ValueError, match="records no training data"):
        check_training_provenance({}, identity, test)
    other = {**identity, "patient_namespace": "cxr-phantom:seed8"}
    with pytest.raises(ValueError, match="expected 'cxr-phantom:seed8'"):
        check_training_provenance(meta, other, test)
    with pytest.raises(ValueError, match="expected {'scheme'"):
        check_training_provenance(meta, identity, test, seed=1)
    damaged = {"training_data": {**meta["training_data"]}}
    damaged["training_data"]["split"] = {**meta["training_data"]["split"], "patients": seen[1:]}
    with pytest.raises(ValueError, match="checksum"):
        check_training_provenance(damaged, identity, test)
