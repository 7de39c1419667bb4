"""Generated (fake) survey responses: for tests, demos and trying the report."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np

from medganlab.survey.instrument import DONT_KNOW, FREE_TEXT, KNOWLEDGE, LIKERT_ITEMS
from medganlab.survey.responses import new_pairing_code, new_response, write_response

__all__ = ["example_response", "example_cohort", "write_cohort", "SEED_STUDY_SATISFACTION"]

# Lee et al. (2021): five students, three answered 5 and two answered 4 -> 92 %.
SEED_STUDY_SATISFACTION = (5, 5, 5, 4, 4)
_TEXTS = {
    "helped_most": [
        "the sample grids after every epoch",
        "visible tests with clear messages",
        "building the discriminator myself",
        "the phantom data tour",
    ],
    "change_first": [
        "03 needs more time",
        "explain tau earlier in 03",
        "more about FDD bias",
        "a shorter 01",
    ],
    "anything_else": ["thanks", "more GPU time on the hub", "great course"],
}


def _rng_id(rng: np.random.Generator) -> str:
    return uuid.UUID(bytes=rng.bytes(16), version=4).hex


def example_response(
    rng: np.random.Generator,
    phase: str = "post",
    pairing_code: str | None = None,
    skill: float = 0.5,
    satisfaction: int | None = None,
) -> dict[str, Any]:
    """One plausible response; ``skill`` (0–1) is the chance of a right knowledge answer."""
    response = new_response(phase, pairing_code)
    response["response_id"] = _rng_id(rng)
    for question in KNOWLEDGE:
        if rng.random() < skill:
            response["knowledge"][question.id] = question.answer
        else:
            letters = [letter for letter, _ in question.options] + [DONT_KNOW]
            response["knowledge"][question.id] = str(rng.choice(letters))
    if phase == "pre":
        return response
    for item in LIKERT_ITEMS:
        if item.group in ("difficulty", "time"):
            p = [0.05, 0.2, 0.45, 0.22, 0.08]
        else:
            p = [0.03, 0.07, 0.2, 0.4, 0.3]
        answered = item.required or rng.random() < 0.9
        response["likert"][item.id] = int(rng.choice([1, 2, 3, 4, 5], p=p)) if answered else None
    if satisfaction is not None:
        response["likert"]["satisfaction"] = satisfaction
    for question in FREE_TEXT:
        if rng.random() < 0.6:
            response["free_text"][question.id] = str(rng.choice(_TEXTS[question.id]))
    return response


def example_cohort(n: int = 24, paired: int = 18, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` post-course responses; the first ``paired`` also took the check before."""
    rng = np.random.default_rng(seed)
    responses = []
    for index in range(n):
        code = new_pairing_code() if index < paired else None
        skill = float(rng.uniform(0.15, 0.5))
        if code:
            responses.append(example_response(rng, "pre", code, skill=skill))
        responses.append(example_response(rng, "post", code, skill=min(1.0, skill + 0.35)))
    return responses


def write_cohort(folder: Path, responses: list[dict[str, Any]]) -> list[Path]:
    """Write each response as a file, the way the notebook does."""
    return [write_response(r, folder) for r in responses]
