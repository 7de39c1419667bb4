"""Aggregate a folder of survey responses (``medganlab survey aggregate DIR``).

Reads every file, skips and lists the malformed and duplicate ones without stopping, and
summarises what remains with small-n suppression:

- a 1–5 item answered by fewer than :data:`MIN_N` people shows "suppressed";
- free text is shown only when at least :data:`MIN_N_TEXT` people answered that question;
- nothing is broken down by another answer (no cross-tab can single out a student).

Satisfaction follows the seed study's definition (Lee et al. 2021): the mean of the
satisfaction item divided by 5, so three 5s and two 4s give 92 %.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medganlab.survey.instrument import (
    FREE_TEXT,
    KNOWLEDGE,
    LIKERT_ITEMS,
    SCALE,
    score_knowledge,
)
from medganlab.survey.responses import validate_response

__all__ = [
    "MIN_N",
    "MIN_N_TEXT",
    "Collection",
    "read_responses",
    "likert_summary",
    "satisfaction",
    "knowledge_change",
    "free_text",
]

MIN_N = 5
MIN_N_TEXT = 10


@dataclass
class Collection:
    """The valid responses of a folder, and every file that was skipped with its reason."""

    responses: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    def phase(self, phase: str) -> list[dict[str, Any]]:
        return [r for r in self.responses if r["phase"] == phase]


def read_responses(folder: Path) -> Collection:
    """Read every file under ``folder``; keep the valid responses, list the rest.

    A response id seen more than once (a file uploaded twice, or saved again after a change)
    keeps its highest revision; the others are listed as duplicates.

    Raises:
        FileNotFoundError: ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder of survey responses")
    collection = Collection()
    by_id: dict[str, tuple[str, dict]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = str(path.relative_to(folder))
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue  # editor and checkpoint files
        if path.suffix != ".json":
            collection.skipped.append((name, f"not a survey response ({path.suffix or 'no'} file)"))
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            collection.skipped.append((name, f"not valid JSON ({exc.__class__.__name__})"))
            continue
        problems = validate_response(data)
        if problems:
            more = f" (+{len(problems) - 2} more)" if len(problems) > 2 else ""
            collection.skipped.append((name, "malformed: " + "; ".join(problems[:2]) + more))
            continue
        rid = data["response_id"]
        if rid in by_id:
            kept_name, kept = by_id[rid]
            if data["revision"] > kept["revision"]:
                collection.skipped.append((kept_name, f"duplicate of {name} (older revision)"))
                by_id[rid] = (name, data)
            else:
                same = "an identical copy" if data == kept else "an older or equal revision"
                collection.skipped.append((name, f"duplicate of {kept_name} ({same})"))
            continue
        by_id[rid] = (name, data)
    collection.responses = [data for _, data in by_id.values()]
    return collection


def _quantiles(values: list[int]) -> tuple[float, float, float]:
    """Median (middle answers averaged) and quartiles that are answers on the scale."""
    q1, q3 = np.percentile(values, [25, 75], method="inverted_cdf")
    return float(np.median(values)), float(q1), float(q3)


def likert_summary(collection: Collection, min_n: int = MIN_N) -> list[dict[str, Any]]:
    """One row per 1–5 item (post-course responses): n, counts, median, IQR, % 4–5.

    Items answered by fewer than ``min_n`` people have ``suppressed=True`` and no numbers.
    """
    post = collection.phase("post")
    rows = []
    for item in LIKERT_ITEMS:
        values = [r["likert"].get(item.id) for r in post]
        values = [v for v in values if v is not None]
        row: dict[str, Any] = {
            "item": item.id,
            "group": item.group,
            "assignment": item.assignment or "",
            "text": item.text,
            "n": len(values),
            "suppressed": len(values) < min_n,
        }
        if not row["suppressed"]:
            counts = Counter(values)
            median, q1, q3 = _quantiles(values)
            row |= {
                "counts": [counts.get(k, 0) for k in SCALE],
                "median": median,
                "q1": q1,
                "q3": q3,
                "mean": float(np.mean(values)),
                "percent_4_5": 100.0 * sum(v >= 4 for v in values) / len(values),
            }
        rows.append(row)
    return rows


def satisfaction(collection: Collection, min_n: int = MIN_N) -> dict[str, Any]:
    """Satisfaction as the seed study defines it: mean of the 1–5 item / 5, in %.

    Also returns the share who answered 4 or 5 (a common alternative). Note that the seed's
    definition cannot go below 20 % (everyone answering 1).
    """
    values = [
        r["likert"]["satisfaction"]
        for r in collection.phase("post")
        if r["likert"].get("satisfaction") is not None
    ]
    if len(values) < min_n:
        return {"n": len(values), "suppressed": True}
    mean = float(np.mean(values))
    return {
        "n": len(values),
        "suppressed": False,
        "mean": mean,
        "percent": 100.0 * mean / 5.0,
        "percent_4_5": 100.0 * sum(v >= 4 for v in values) / len(values),
    }


def _pairs(collection: Collection) -> tuple[list[tuple[int, int]], int]:
    """(pre score, post score) per pairing code seen exactly once in each phase."""
    by_code: dict[str, dict[str, list[dict]]] = defaultdict(lambda: {"pre": [], "post": []})
    for response in collection.responses:
        if response["pairing_code"]:
            by_code[response["pairing_code"]][response["phase"]].append(response)
    pairs, ambiguous = [], 0
    for phases in by_code.values():
        if len(phases["pre"]) == 1 and len(phases["post"]) == 1:
            pairs.append(
                (
                    score_knowledge(phases["pre"][0]["knowledge"]),
                    score_knowledge(phases["post"][0]["knowledge"]),
                )
            )
        elif len(phases["pre"]) > 1 or len(phases["post"]) > 1:
            ambiguous += 1
    return pairs, ambiguous


def knowledge_change(collection: Collection, min_n: int = MIN_N) -> dict[str, Any]:
    """Knowledge check before vs after: a paired Wilcoxon signed-rank test on the scores.

    Pairs come from the pairing codes; a code used twice in one phase is left out
    (``ambiguous``). Fewer than ``min_n`` pairs: suppressed. Per question, the share of
    correct answers in each phase (suppressed below ``min_n`` responses in that phase).
    """
    from scipy import stats

    pairs, ambiguous = _pairs(collection)
    result: dict[str, Any] = {
        "n_pre": len(collection.phase("pre")),
        "n_post": len(collection.phase("post")),
        "n_pairs": len(pairs),
        "ambiguous_codes": ambiguous,
        "suppressed": len(pairs) < min_n,
        "questions": [],
    }
    if not result["suppressed"]:
        pre = np.array([p for p, _ in pairs], dtype=float)
        post = np.array([q for _, q in pairs], dtype=float)
        diff = post - pre
        if np.any(diff != 0):
            test = stats.wilcoxon(post, pre, zero_method="wilcox", alternative="two-sided")
            statistic, p_value = float(test.statistic), float(test.pvalue)
        else:  # no change at all: nothing to test
            statistic, p_value = 0.0, 1.0
        result |= {
            "pre_scores": pre.tolist(),
            "post_scores": post.tolist(),
            "mean_pre": float(pre.mean()),
            "mean_post": float(post.mean()),
            "mean_change": float(diff.mean()),
            "median_change": float(np.median(diff)),
            "wilcoxon_statistic": statistic,
            "p_value": p_value,
        }
    for question in KNOWLEDGE:
        row: dict[str, Any] = {"question": question.id, "assignment": question.assignment}
        for phase in ("pre", "post"):
            answers = [r["knowledge"][question.id] for r in collection.phase(phase)]
            row[f"n_{phase}"] = len(answers)
            row[f"correct_{phase}"] = (
                None
                if len(answers) < min_n
                else 100.0 * sum(a == question.answer for a in answers) / len(answers)
            )
        result["questions"].append(row)
    return result


def free_text(collection: Collection, min_n: int = MIN_N_TEXT) -> dict[str, dict[str, Any]]:
    """Non-empty answers per question, sorted (so they cannot be lined up with other answers);
    fewer than ``min_n`` answers: suppressed."""
    out = {}
    for question in FREE_TEXT:
        answers = [r["free_text"].get(question.id, "").strip() for r in collection.phase("post")]
        answers = sorted(a for a in answers if a)
        out[question.id] = {
            "text": question.text,
            "n": len(answers),
            "suppressed": len(answers) < min_n,
            "answers": [] if len(answers) < min_n else answers,
        }
    return out
