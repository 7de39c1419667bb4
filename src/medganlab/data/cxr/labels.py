"""Label sampling: NIH prevalence with its co-occurrence, single-finding and
normal-vs-abnormal sets."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from medganlab.data.vocabulary import FINDINGS, NIH_COUNTS, NIH_TOTAL, NO_FINDING

__all__ = ["normal_abnormal_labels", "sample_labels"]


# Pairs that co-occur more often than chance in ChestX-ray14 (weight of a second label).
_AFFINITY: dict[frozenset[str], float] = {
    frozenset({"Effusion", "Atelectasis"}): 4.0,
    frozenset({"Effusion", "Infiltration"}): 3.0,
    frozenset({"Atelectasis", "Infiltration"}): 3.0,
    frozenset({"Effusion", "Cardiomegaly"}): 3.0,
    frozenset({"Mass", "Nodule"}): 3.0,
    frozenset({"Effusion", "Mass"}): 2.0,
    frozenset({"Pneumonia", "Infiltration"}): 3.0,
    frozenset({"Pneumothorax", "Effusion"}): 1.5,
    frozenset({"Infiltration", "Nodule"}): 2.0,
}


def _scaled_counts(weights: Mapping[str, float], n: int) -> dict[str, int]:
    """Largest-remainder rounding of ``weights`` to integers summing to ``n`` (stable order)."""
    total = float(sum(weights.values()))
    if total <= 0:
        raise ValueError(f"prevalence counts must sum to more than 0, got {dict(weights)}")
    raw = {k: n * v / total for k, v in weights.items()}
    counts = {k: int(math.floor(v)) for k, v in raw.items()}
    order = sorted(raw, key=lambda k: (-(raw[k] - counts[k]), list(weights).index(k)))
    for key in order[: n - sum(counts.values())]:
        counts[key] += 1
    return counts


def _check_names(names: Sequence[str]) -> None:
    allowed = set(FINDINGS) | {NO_FINDING}
    unknown = sorted(set(names) - allowed)
    if unknown:
        raise ValueError(
            f"unknown label(s) {unknown} in prevalence; expected names from "
            f"{[NO_FINDING, *FINDINGS]}"
        )


def _multi_label(counts: Mapping[str, int], n_normal: int, n_abnormal: int, rng) -> list[list[str]]:
    """Spread label slots over abnormal images: one primary each, extras by co-occurrence."""
    slots = [name for name in FINDINGS for _ in range(counts.get(name, 0))]
    rng.shuffle(slots)
    if n_abnormal == 0:
        return [[NO_FINDING] for _ in range(n_normal)]
    primaries, extras = slots[:n_abnormal], slots[n_abnormal:]
    while len(primaries) < n_abnormal:  # fewer slots than images: reuse by prevalence
        primaries.append(primaries[len(primaries) % max(1, len(slots))] if slots else FINDINGS[0])
    labels = [[name] for name in primaries]
    # the weight of each image for an extra label, as arrays (one row per image): 0 if it
    # has the label already, else 1 + the affinity to its primary, times 0.35 per label
    # it already carries
    k = len(FINDINGS)
    affinity = np.array(
        [[1.0 + _AFFINITY.get(frozenset({a, b}), 0.0) for b in FINDINGS] for a in FINDINGS]
    )
    decay = np.array([0.35**j for j in range(k + 1)])
    primary = np.array([FINDINGS.index(name) for name in primaries], dtype=np.int64)
    has = np.zeros((k, len(labels)), bool)
    has[primary, np.arange(len(labels))] = True
    carried = np.zeros(len(labels), np.int64)  # labels beyond the first
    for name in extras:
        index = FINDINGS.index(name)
        weights = np.where(has[index], 0.0, affinity[index][primary])
        weights *= decay[carried]
        if weights.sum() <= 0:
            continue
        chosen = int(rng.choice(len(labels), p=weights / weights.sum()))
        labels[chosen].append(name)
        has[index, chosen] = True
        carried[chosen] += 1
    labels = [sorted(have, key=FINDINGS.index) for have in labels]
    labels += [[NO_FINDING] for _ in range(n_normal)]
    order = rng.permutation(len(labels))
    return [labels[i] for i in order]


def sample_labels(
    n: int,
    prevalence: str | Mapping[str, float] = "nih",
    seed: int = 0,
    single_finding: bool = False,
) -> list[list[str]]:
    """Draw the label list of ``n`` images.

    Args:
        n: Number of images.
        prevalence: ``"nih"`` (ChestX-ray14 counts, imbalanced, multi-label), ``"balanced"``
            (equal counts of ``No Finding`` and each finding, one label per image),
            ``"normal-abnormal"`` (half ``No Finding``, half abnormal with NIH proportions)
            or a mapping of label to count/weight (one label per image).
        seed: Random seed.
        single_finding: One finding per abnormal image (for the conditional GANs).

    Returns:
        One list of labels per image (``["No Finding"]`` for a normal image).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng([seed, 7])
    if isinstance(prevalence, str):
        key = prevalence.lower()
        if key == "nih":
            normal = NIH_COUNTS[NO_FINDING]
            counts = _scaled_counts({NO_FINDING: normal, "_abnormal": NIH_TOTAL - normal}, n)
            n_normal, n_abnormal = counts[NO_FINDING], counts["_abnormal"]
            return _abnormal_labels(n_normal, n_abnormal, rng, single_finding)
        if key == "balanced":
            weights = {NO_FINDING: 1.0, **{name: 1.0 for name in FINDINGS}}
            return _single_labels(_scaled_counts(weights, n), rng)
        if key in ("normal-abnormal", "normal_abnormal"):
            return normal_abnormal_labels(n - n // 2, n // 2, seed, single_finding)
        raise ValueError(
            f"prevalence must be 'nih', 'balanced', 'normal-abnormal' or a counts mapping, "
            f"got {prevalence!r}"
        )
    _check_names(list(prevalence))
    return _single_labels(_scaled_counts(dict(prevalence), n), rng)


def _single_labels(counts: Mapping[str, int], rng) -> list[list[str]]:
    labels = [[name] for name in counts for _ in range(counts[name])]
    order = rng.permutation(len(labels))
    return [labels[i] for i in order]


def _abnormal_labels(n_normal: int, n_abnormal: int, rng, single_finding: bool) -> list[list[str]]:
    """NIH finding proportions over ``n_abnormal`` images, plus ``n_normal`` normals."""
    finding_counts = {name: NIH_COUNTS[name] for name in FINDINGS}
    if single_finding:
        counts = _scaled_counts(finding_counts, n_abnormal)
        counts[NO_FINDING] = n_normal
        return _single_labels(counts, rng)
    # NIH: 66,392 finding labels over 51,759 abnormal images (about 1.28 per image)
    per_image = sum(finding_counts.values()) / (NIH_TOTAL - NIH_COUNTS[NO_FINDING])
    counts = _scaled_counts(finding_counts, int(round(per_image * n_abnormal)))
    return _multi_label(counts, n_normal, n_abnormal, rng)


def normal_abnormal_labels(
    n_normal: int, n_abnormal: int, seed: int = 0, single_finding: bool = False
) -> list[list[str]]:
    """Labels for the VGG-16 study: ``n_normal`` normals and ``n_abnormal`` abnormal images.

    Abnormal images carry NIH-proportioned findings (gpu profile: 10,000 + 10,000).
    """
    if n_normal < 0 or n_abnormal < 0:
        raise ValueError(f"counts must be >= 0, got {n_normal} normal, {n_abnormal} abnormal")
    rng = np.random.default_rng([seed, 11])
    return _abnormal_labels(n_normal, n_abnormal, rng, single_finding)
