"""Writing a data set in the NIH layout (PNG, Data_Entry_2017.csv, metadata, masks,
optional DICOM) with a manifest and atomic writes."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from medganlab.data.cxr.anatomy import MAX_SIZE, MIN_SIZE, _sex_and_age
from medganlab.data.cxr.labels import sample_labels
from medganlab.data.cxr.rendering import GENERATOR_VERSION, render_case
from medganlab.data.vocabulary import FINDINGS, NO_FINDING

__all__ = ["CSV_HEADER", "KIND", "generate_dataset"]


# The real Data_Entry_2017.csv header: the bracketed names hold unquoted commas, so the
# last four values sit in four columns, and every line ends with a trailing comma.
CSV_HEADER = (
    "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,"
    "View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],"
)


KIND = "cxr-phantom"

# NIH ChestX-ray14 holds 112,120 images of 30,805 patients: 3.64 images per patient. The
# number of images of a patient is geometric with this probability, capped at FOLLOW_UP_CAP
# (mean 3.62): about a quarter of the patients have one image, and the cap keeps the
# patient-level splits of a small set even (NIH's longest series are far longer).
FOLLOW_UP_P = 0.27
FOLLOW_UP_CAP = 12


def _derived_seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def _plan(n: int, seed: int, labels: list[list[str]]) -> list[dict[str, Any]]:
    """Assign images to patients (NIH-like follow-ups: 3.6 images per patient on average)
    and derive every per-image seed."""
    rng = np.random.default_rng([seed, 13])
    tasks: list[dict[str, Any]] = []
    patient, follow_up, remaining = 0, 0, 0
    for index in range(n):
        if remaining == 0:
            patient += 1
            follow_up = 0
            remaining = int(min(rng.geometric(FOLLOW_UP_P), FOLLOW_UP_CAP))
            patient_seed = _derived_seed(seed, patient, 101)
            sex, age = _sex_and_age(patient_seed)  # the anatomy's, without drawing it
        tasks.append(
            {
                "index": index,
                "name": f"{patient:08d}_{follow_up:03d}",
                "patient": patient,
                "follow_up": follow_up,
                "age": min(age + follow_up // 2, 95),
                "sex": sex,
                "seed": _derived_seed(seed, index, 202),
                "patient_seed": patient_seed,
                "labels": labels[index],
            }
        )
        follow_up += 1
        remaining -= 1
    return tasks


def _save_png(array: np.ndarray, path: Path) -> None:
    """A mask (large flat regions: plain deflate suits it)."""
    Image.fromarray(array).save(path, format="PNG", optimize=False, compress_level=1)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _save_film_png(array: np.ndarray, path: Path) -> None:
    """An 8-bit grayscale film as PNG: every row "Up"-filtered (the difference to the row
    above, done in numpy) and Huffman-coded without string matching. A noisy film has no
    repeated strings to find, so this is about as small as PIL's level-1 deflate (33 KiB
    against 32 KiB at 256 px) in a third of its time (level 6 took longer than rendering)."""
    height, width = array.shape
    rows = np.empty((height, width + 1), np.uint8)
    rows[:, 0] = 2  # filter type Up
    rows[0, 1:] = array[0]
    np.subtract(array[1:], array[:-1], out=rows[1:, 1:])  # modulo 256, as PNG wants
    packer = zlib.compressobj(6, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    data = packer.compress(rows.tobytes()) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey, no interlace
    png = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data)
    path.write_bytes(png + _png_chunk(b"IEND", b""))


def _write_one(task: dict[str, Any]) -> dict[str, Any]:
    """Render and write one image (and its masks / DICOM); return its CSV row and metadata."""
    out = Path(task["out"])
    case = render_case(
        task["seed"],
        task["labels"],
        size=task["size"],
        masks=task["masks"],
        patient_seed=task["patient_seed"],
    )
    name = task["name"]
    _save_film_png(np.ascontiguousarray(case.image, np.uint8), out / "images" / f"{name}.png")
    if case.masks is not None:
        for key in ("lungs", "heart", "lesions"):
            _save_png(case.masks[key].astype(np.uint8) * 255, out / "masks" / f"{name}_{key}.png")
    spacing = case.meta["pixel_spacing_mm"]
    if task["dicom"]:
        from medganlab.data.dicom.dx import write_dx

        write_dx(
            out / "dicom" / f"{name}.dcm",
            case.image,
            pixel_spacing_mm=spacing,
            patient_id=f"{task['patient']:08d}",
            patient_sex=task["sex"],
            patient_age=task["age"],
            uid_seed=task["seed"],
        )
    label_text = "|".join(task["labels"]) if task["labels"] else NO_FINDING
    spacing_text = f"{spacing:.6f}".rstrip("0").rstrip(".")
    row = (
        f"{name}.png,{label_text},{task['follow_up']},{task['patient']},{task['age']},"
        f"{task['sex']},PA,{task['size']},{task['size']},{spacing_text},{spacing_text},"
    )
    meta = {"Image Index": f"{name}.png", "Patient ID": task["patient"], **case.meta}
    return {"row": row, "meta": meta}


def _write_batch(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_write_one(task) for task in tasks]


def _batches(tasks: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """Consecutive tasks in groups of at least ``size`` images, never splitting a patient."""
    groups: list[list[dict[str, Any]]] = []
    for task in tasks:
        if groups and (len(groups[-1]) < size or task["patient"] == groups[-1][-1]["patient"]):
            groups[-1].append(task)
        else:
            groups.append([task])
    return groups


def _params(n, size, seed, prevalence, single_finding, dicom, masks) -> dict[str, Any]:
    return {
        "n": int(n),
        "size": int(size),
        "seed": int(seed),
        "prevalence": prevalence if isinstance(prevalence, str) else dict(prevalence),
        "single_finding": bool(single_finding),
        "dicom": bool(dicom),
        "masks": bool(masks),
        "generator_version": GENERATOR_VERSION,
    }


def generate_dataset(
    out: Path,
    n: int,
    size: int = 256,
    seed: int = 0,
    prevalence: str | Mapping[str, float] = "nih",
    single_finding: bool = False,
    dicom: bool = False,
    masks: bool = False,
    workers: int | None = None,
    progress: bool | None = None,
) -> Path:
    """Write a phantom data set in the NIH ChestX-ray14 layout, atomically.

    Layout: ``images/<patient>_<follow-up>.png``, ``Data_Entry_2017.csv`` (the real header),
    ``metadata.jsonl`` (one JSON object per image), optional ``masks/`` and ``dicom/``, and
    ``manifest.json`` (parameters and SHA-256 per file). Files are byte-identical for a seed
    whatever the number of workers; a second call with the same parameters does nothing.

    Returns:
        The data set folder ``out``.
    """
    from medganlab.data.manifest import atomic_dataset_dir, manifest_matches, write_manifest
    from medganlab.parallel import parallel_map

    if n < 1:
        raise ValueError(f"n must be at least 1 image, got {n}")
    if not MIN_SIZE <= int(size) <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {size}")
    out = Path(out)
    params = _params(n, size, seed, prevalence, single_finding, dicom, masks)
    if manifest_matches(out, KIND, params):
        return out
    labels = sample_labels(n, prevalence, seed, single_finding)
    tasks = _plan(n, seed, labels)
    with atomic_dataset_dir(out) as tmp:
        for folder in ("images", *(["masks"] if masks else []), *(["dicom"] if dicom else [])):
            (tmp / folder).mkdir()
        for task in tasks:
            task.update(out=str(tmp), size=int(size), masks=bool(masks), dicom=bool(dicom))
        # one work item = whole patients (follow-ups reuse the patient's cached anatomy),
        # about a dozen images, so workers exchange few messages
        groups = _batches(tasks, 12)
        done = parallel_map(_write_batch, groups, workers=workers, desc="cxr", progress=progress)
        results = [result for batch in done for result in batch]
        lines = [CSV_HEADER, *(r["row"] for r in results)]
        (tmp / "Data_Entry_2017.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        with open(tmp / "metadata.jsonl", "w", encoding="utf-8") as handle:
            for result in results:
                handle.write(json.dumps(result["meta"], sort_keys=True) + "\n")
        counts = {name: 0 for name in (NO_FINDING, *FINDINGS)}
        for task in tasks:
            for label in task["labels"]:
                counts[label] += 1
        write_manifest(tmp, KIND, params, extra={"counts": counts, "images": n})
    return out
