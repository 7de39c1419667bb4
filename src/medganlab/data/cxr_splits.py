"""The course's patient-level split of chest X-ray sets, shared by 02, 03 and 06.

Notebooks 02 and 03 train their GANs on the **training** patients only; notebook 06 tests its
classifiers on the **test** patients and refuses a generator that saw any of them. For that
the three notebooks must agree on which patient is where, although they read different
folders (02 and 03 a single-finding set, 06 a multi-label one, at other sizes and counts).

Two facts make that possible:

- A phantom patient is defined by the generation seed and its number: images of patient
  ``17`` in every phantom set of seed 42 share that patient's anatomy (``data/cxr/writer.py``
  derives it from ``(seed, patient)``). So the **patient namespace** of a phantom set is its
  seed; a real NIH folder is its own namespace (named by its CSV's checksum).
- The split assigns each patient by a hash of ``(split seed, patient id)``, not by shuffling
  the patients of one folder, so a patient lands in the same part in every set of the same
  namespace, whatever the set's size.

:func:`training_provenance` is what an exported generator records (``metadata.json``:
``training_data``); :func:`check_training_provenance` is the check notebook 06 runs before
it uses a generator.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "PARTS",
    "SCHEME",
    "SPLIT_FRACTIONS",
    "SPLIT_SEED",
    "patient_key",
    "patient_part",
    "split_records",
    "dataset_identity",
    "training_provenance",
    "check_training_provenance",
]

PARTS = ("train", "validation", "test")
SPLIT_FRACTIONS = (0.7, 0.1, 0.2)
SPLIT_SEED = 2018  # shared by 02, 03 and 06: change it in all three or in none
SCHEME = "patient-hash-v1"  # sha256(f"{seed}:{patient}") -> uniform in [0, 1) -> part


def _check_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(f) for f in fractions)
    if len(values) != len(PARTS) or any(f < 0 for f in values) or abs(sum(values) - 1) > 1e-6:
        raise ValueError(
            f"fractions: expected {len(PARTS)} values >= 0 for {PARTS} summing to 1, "
            f"got {list(fractions)}"
        )
    return values


def patient_key(patient_id: Any) -> str:
    """A patient id as the split sees it: ``"00017"``, ``17`` and ``"17"`` are one patient."""
    text = str(patient_id).strip()
    if not text:
        raise ValueError("patient id: expected a non-empty id, got an empty one")
    return str(int(text)) if text.isdigit() else text


def patient_part(
    patient_id: Any, seed: int = SPLIT_SEED, fractions: Sequence[float] = SPLIT_FRACTIONS
) -> str:
    """The part (``"train"``, ``"validation"`` or ``"test"``) of one patient."""
    bounds, total = [], 0.0
    for fraction in _check_fractions(fractions):
        total += fraction
        bounds.append(total)
    digest = hashlib.sha256(f"{int(seed)}:{patient_key(patient_id)}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2.0**64
    for part, bound in zip(PARTS, bounds, strict=True):
        if u < bound:
            return part
    return PARTS[-1]


def split_records(
    records: Iterable[Mapping[str, Any]],
    seed: int = SPLIT_SEED,
    fractions: Sequence[float] = SPLIT_FRACTIONS,
) -> dict[str, list[dict[str, Any]]]:
    """Split index records (``nih.load_index``) by patient: ``{"train", "validation", "test"}``.

    No patient is in two parts, and a patient's part depends only on its id, ``seed`` and
    ``fractions`` (never on the other records), so every set of one namespace agrees. Parts
    hold about ``fractions`` of the patients; a small set may leave a part empty.
    """
    parts: dict[str, list[dict[str, Any]]] = {part: [] for part in PARTS}
    cache: dict[str, str] = {}
    for record in records:
        key = patient_key(record["patient_id"])
        if key not in cache:
            cache[key] = patient_part(key, seed, fractions)
        parts[cache[key]].append(dict(record))
    return parts


def _csv_sha256(root: Path) -> str:
    from medganlab.data import nih
    from medganlab.data.manifest import sha256_file

    csv = nih.find_csv(root)
    if csv is None:
        raise FileNotFoundError(
            f"{root}: expected a phantom set (manifest.json) or an NIH folder "
            f"({nih.CSV_NAMES[0]}), found neither"
        )
    return sha256_file(csv)


def dataset_identity(root: str | os.PathLike) -> dict[str, Any]:
    """What a chest X-ray folder is, for the record: parameters of a phantom set (seed, size,
    number of images ...) or the checksum of a real NIH folder's label CSV.

    ``patient_namespace`` names the patients: ``cxr-phantom:seed42`` for every phantom set of
    seed 42, ``nih:<checksum>`` for a real folder.
    """
    from medganlab.data.manifest import read_manifest

    root = Path(root)
    manifest = read_manifest(root)
    if manifest and manifest.get("kind") == "cxr-phantom":
        params = manifest["params"]
        return {
            "kind": "cxr-phantom",
            "folder": root.name,
            "seed": params["seed"],
            "n": params["n"],
            "size": params["size"],
            "prevalence": params["prevalence"],
            "single_finding": params["single_finding"],
            "generator_version": params.get("generator_version"),
            "patient_namespace": f"cxr-phantom:seed{params['seed']}",
        }
    checksum = _csv_sha256(root)
    return {
        "kind": "nih-folder",
        "folder": str(root.resolve()),
        "csv_sha256": checksum,
        "patient_namespace": f"nih:{checksum[:16]}",
    }


def _digest(patients: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(patients).encode()).hexdigest()


def training_provenance(
    root: str | os.PathLike,
    records: Iterable[Mapping[str, Any]],
    seed: int = SPLIT_SEED,
    fractions: Sequence[float] = SPLIT_FRACTIONS,
) -> dict[str, Any]:
    """What a model trained on ``records`` of ``root`` saw, for its ``metadata.json``.

    Returns ``{"data": dataset_identity(root), "split": {...}}`` where the split holds the
    scheme, seed, fractions, ``part`` ("train"), the sorted patient ids, their SHA-256 and the
    number of images.

    Raises:
        ValueError: a record belongs to another part than training (the model saw
            validation or test patients), or ``records`` is empty.
    """
    fractions = _check_fractions(fractions)
    records = list(records)
    if not records:
        raise ValueError("records: expected the training records the model saw, got none")
    patients = sorted({patient_key(r["patient_id"]) for r in records})
    outside = [p for p in patients if patient_part(p, seed, fractions) != "train"]
    if outside:
        raise ValueError(
            f"{len(outside)} of the {len(patients)} patients are not in the training split "
            f"(e.g. patient {outside[0]} is in {patient_part(outside[0], seed, fractions)!r}): "
            "train on split_records(...)['train'] only"
        )
    return {
        "data": dataset_identity(root),
        "split": {
            "scheme": SCHEME,
            "seed": int(seed),
            "fractions": list(fractions),
            "part": "train",
            "images": len(records),
            "patients": patients,
            "patients_sha256": _digest(patients),
        },
    }


def check_training_provenance(
    meta: Mapping[str, Any],
    identity: Mapping[str, Any],
    test_patients: Collection[Any],
    seed: int = SPLIT_SEED,
    fractions: Sequence[float] = SPLIT_FRACTIONS,
    name: str = "generator",
) -> dict[str, Any]:
    """Refuse a model whose training data may include the test patients of ``identity``.

    Args:
        meta: the model's metadata (``metadata.json``) with ``training_data``.
        identity: :func:`dataset_identity` of the data set being tested.
        test_patients: the patient ids of its test split.
        seed, fractions: the split the test split was made with.
        name: the model's name, for the messages.

    Returns:
        The model's ``training_data`` record.

    Raises:
        ValueError: no record of its training data, another patient namespace, another
            split, a damaged patient list, or training patients among ``test_patients``.
    """
    fractions = _check_fractions(fractions)
    record = meta.get("training_data")
    if not isinstance(record, Mapping) or "data" not in record or "split" not in record:
        raise ValueError(
            f"{name}: its metadata records no training data and split, so it may have been "
            "trained on the test patients. Re-run its notebook (it trains on the training "
            "split only and records it) or use current reference artifacts."
        )
    data, split = record["data"], record["split"]
    want = identity.get("patient_namespace")
    if data.get("patient_namespace") != want:
        raise ValueError(
            f"{name}: trained on patients of {data.get('patient_namespace')!r} "
            f"({data.get('folder')}), expected {want!r} ({identity.get('folder')}): a "
            "generator of another data set; re-run its notebook on this data"
        )
    expected = {"scheme": SCHEME, "seed": int(seed), "fractions": list(fractions), "part": "train"}
    found = {key: split.get(key) for key in expected}
    if found != expected:
        raise ValueError(f"{name}: trained on split {found}, expected {expected}")
    patients = [patient_key(p) for p in split.get("patients", [])]
    if not patients or _digest(sorted(patients)) != split.get("patients_sha256"):
        raise ValueError(
            f"{name}: the recorded training patients do not match their checksum "
            "(patients_sha256): the metadata is damaged; re-export the generator"
        )
    seen = sorted(set(patients) & {patient_key(p) for p in test_patients})
    if seen:
        raise ValueError(
            f"{name}: refused — it was trained on {len(seen)} patient(s) of this test split "
            f"(e.g. {', '.join(seen[:5])}); its images could leak them into training. "
            "Train it on split_records(...)['train'] only."
        )
    return dict(record)
