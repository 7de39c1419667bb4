"""The generators of notebooks 02 and 03 as assignment 06 uses them: loaded, checked against
the experiment's test split, and turned into fixed pools of synthetic images per finding.

Every image, real or synthetic, passes through the same 8-bit quantisation (a real image is
a PNG; a generated one is rounded the same way), so a classifier cannot tell the two apart
by their grey-level grid.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "check_generator",
    "load_generators",
    "synthetic_pools",
    "synthetic_streams",
    "synthetic_only",
    "toy_streams",
]


def _quantised(images) -> np.ndarray:
    """[-1, 1] floats -> uint8 as a PNG stores them."""
    return np.round((np.clip(images, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def _to_float(image, label):
    import tensorflow as tf

    return tf.cast(image, tf.float32) / 127.5 - 1.0, label


def check_generator(
    meta: Mapping[str, Any],
    identity: Mapping[str, Any],
    test_patients: Collection[Any],
    image_size: int,
    classes: Sequence[str],
    name: str = "generator",
) -> dict[str, Any]:
    """Refuse a generator this experiment cannot use; return its training-data record.

    Raises:
        ValueError: another class list, images smaller than ``image_size``, or training
            data that may include ``test_patients`` (see
            :func:`medganlab.data.cxr_splits.check_training_provenance`).
    """
    from medganlab.data.cxr_splits import check_training_provenance

    found = list(meta.get("classes") or meta.get("class_names") or [])
    if found != list(classes):
        raise ValueError(f"{name}: generates classes {found}, expected {list(classes)} in order")
    size = meta.get("image_size")
    if not isinstance(size, int) or size < image_size:
        raise ValueError(
            f"{name}: draws {size} px images, expected at least the classifier's {image_size} "
            "px (they are area-resized down): export it from the same profile"
        )
    return check_training_provenance(meta, identity, test_patients, name=name)


def load_generators(
    artifacts: Mapping[str, str],
    identity: Mapping[str, Any],
    test_patients: Collection[Any],
    image_size: int,
    classes: Sequence[str],
) -> dict[str, tuple[Callable, dict[str, Any]]]:
    """Load and check the generators ``{label: artifact name}``; return ``{label: (sample,
    meta)}`` where ``sample(finding_index, n, seed)`` draws images in [-1, 1].

    The student's own export is used first, else the reference artifact (see
    :func:`medganlab.training.load_generator`); a missing one is skipped with a message.

    Raises:
        FileNotFoundError: none of them exists.
        ValueError: one exists but is refused (:func:`check_generator`).
    """
    from medganlab.evaluation.fdd import load_sampler

    loaded, absent = {}, []
    for label, artifact in artifacts.items():
        sample, meta = load_sampler(artifact)
        if sample is None:
            print(f"SKIPPED {label}: {meta}")
            absent.append(artifact)
            continue
        meta["training_data_checked"] = check_generator(
            meta, identity, test_patients, image_size, classes, name=f"{label} ({artifact})"
        )
        for note in meta.get("notes", []):
            print(f"{label}: {note}")
        loaded[label] = (sample, meta)
    if not loaded:
        notebooks = ", ".join(sorted({a.split("_")[0] for a in absent}))
        raise FileNotFoundError(
            f"no generator found ({', '.join(absent)}): run notebooks {notebooks} to the end in "
            "this profile first (they export their generators), or install the course's "
            "reference artifacts (medganlab.training.install_reference_artifacts)"
        )
    return loaded


def synthetic_pools(
    sample: Callable, counts: Mapping[int, int], size: int, seed: int = 0
) -> dict[int, np.ndarray]:
    """Draw ``counts[k]`` images of finding ``k`` once: ``{k: uint8 (n, size, size, 1)}``,
    area-resized to ``size`` and quantised to 8 bits like a PNG."""
    from medganlab.evaluation.fdd import resize_images

    pools = {}
    for k, n in counts.items():
        if n > 0:
            pools[int(k)] = _quantised(resize_images(sample(int(k), int(n), seed=seed), size))
    return pools


def synthetic_streams(pools: Mapping[int, np.ndarray], seed: int = 0) -> dict[int, Any]:
    """``{k: tf.data stream of single float32 images of finding k}``, shuffled, repeating."""
    import tensorflow as tf

    streams = {}
    for k, images in pools.items():
        data = tf.data.Dataset.from_tensor_slices(images).shuffle(len(images), seed=seed + k)
        streams[k] = data.repeat().map(lambda x: tf.cast(x, tf.float32) / 127.5 - 1.0)
    return streams


def synthetic_only(pools: Mapping[int, np.ndarray], num_classes: int, seed: int = 0):
    """Synthetic images of every finding, equally often, labelled with their finding: the
    training stream of "train on synthetic, test on real"."""
    import tensorflow as tf

    if sorted(pools) != list(range(num_classes)):
        raise ValueError(
            f"pools: expected images of all {num_classes} findings, got {sorted(pools)}"
        )
    eye = np.eye(num_classes, dtype=np.float32)
    streams = [
        tf.data.Dataset.from_tensor_slices((pools[k], np.repeat(eye[[k]], len(pools[k]), 0)))
        .shuffle(len(pools[k]), seed=seed + k)
        .repeat()
        for k in range(num_classes)
    ]
    mixed = tf.data.Dataset.sample_from_datasets(streams, seed=seed)  # equal weights
    return mixed.map(_to_float)


def toy_streams(
    positives: Sequence[int] = (40, 10, 0), n: int = 200, validation: int = 30, test: int = 50
):
    """A tiny fixed example for tests of a mixing function: ``(splits, synthetic, labels)``.

    ``n`` real training images (all pixels 0) of which ``positives[k]`` have finding ``k``
    (one finding each), finite validation and test splits of real images, and per finding
    ``k`` an endless stream of synthetic images whose pixels are all ``k + 1``, so the source
    of any example can be read off its pixel value.
    """
    import tensorflow as tf

    classes = len(positives)
    labels = np.zeros((n, classes), np.float32)
    start = 0
    for k, count in enumerate(positives):
        labels[start : start + count, k] = 1
        start += count

    def split(count: int, repeat: bool = False):
        data = tf.data.Dataset.from_tensor_slices(
            (np.zeros((count, 4, 4, 1), np.float32), labels[:count])
        )
        return data.repeat() if repeat else data

    splits = {"train": split(n, True), "validation": split(validation), "test": split(test)}
    synthetic = {
        k: tf.data.Dataset.from_tensors(np.full((4, 4, 1), k + 1.0, np.float32)).repeat()
        for k in range(classes)
    }
    return splits, synthetic, labels
