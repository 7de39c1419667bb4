"""Anonymous survey responses: build, check and write them (the notebook side of 09).

A response is a small JSON file with no identity in it: no username, no notebook metadata
(Colab's carries the user's name and photo), the date rounded to the day, and a random
``response_id``. It is never handed in through nbgrader (whose ``submitted/<student>/``
folders name the student). Where it goes:

- ``MEDGANLAB_SURVEY_INBOX`` set (a hub-wide drop folder): written there;
- on Colab: written to the runtime and offered as a download to upload anonymously;
- otherwise ``<build>/survey/responses`` (hand the file in as the instructor says).

A *pairing code* (``ABCD-EF23``, random, shown to the student and stored nowhere) links one
person's knowledge check before and after the course without saying who they are.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import secrets
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from medganlab.survey.instrument import (
    DONT_KNOW,
    FREE_TEXT,
    INSTRUMENT_VERSION,
    KNOWLEDGE,
    LIKERT_ITEMS,
    PHASES,
    SCALE,
)

__all__ = [
    "SCHEMA",
    "FIELDS",
    "MAX_TEXT",
    "new_response",
    "new_pairing_code",
    "validate_response",
    "write_response",
    "default_inbox",
    "deliver",
]

SCHEMA = "medganlab-survey"
FIELDS = (
    "schema",
    "instrument",
    "response_id",
    "revision",
    "date",
    "phase",
    "pairing_code",
    "likert",
    "free_text",
    "knowledge",
)
MAX_TEXT = 2000  # characters per free-text answer
_ID = re.compile(r"^[0-9a-f]{32}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to copy by hand
_CODE = re.compile(rf"^[{_CODE_ALPHABET}]{{4}}-[{_CODE_ALPHABET}]{{4}}$")
_LIKERT = {item.id: item for item in LIKERT_ITEMS}
_FREE = {q.id for q in FREE_TEXT}
_KNOWLEDGE = {q.id: q for q in KNOWLEDGE}


def new_pairing_code() -> str:
    """A random code such as ``K7QD-M2XA`` (40 bits), to write down and re-enter later."""
    pick = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"{pick[:4]}-{pick[4:]}"


def new_response(phase: str = "post", pairing_code: str | None = None) -> dict[str, Any]:
    """An empty response with a fresh random id and today's date (the day only)."""
    return {
        "schema": SCHEMA,
        "instrument": INSTRUMENT_VERSION,
        "response_id": uuid.uuid4().hex,
        "revision": 1,
        "date": _dt.date.today().isoformat(),
        "phase": phase,
        "pairing_code": pairing_code,
        "likert": {item.id: None for item in LIKERT_ITEMS},
        "free_text": {q.id: "" for q in FREE_TEXT},
        "knowledge": {q.id: None for q in KNOWLEDGE},
    }


def _check_likert(phase: str, likert: Any) -> list[str]:
    if not isinstance(likert, dict):
        return ["likert: expected a mapping of item -> 1..5"]
    problems = []
    for key, value in likert.items():
        if key not in _LIKERT:
            problems.append(f"likert: unknown item {key!r}")
        elif value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value not in SCALE
        ):
            problems.append(f"{key}: {value!r} is not on the scale; choose a whole number 1–5")
    if phase == "post":
        for item in LIKERT_ITEMS:
            if item.required and likert.get(item.id) is None:
                problems.append(f"{item.id}: required; choose 1–5 (“{item.text}”)")
    elif any(v is not None for v in likert.values()):
        problems.append("a 'pre' response holds the knowledge check only; clear the 1–5 items")
    return problems


def _check_free_text(phase: str, free: Any) -> list[str]:
    if not isinstance(free, dict):
        return ["free_text: expected a mapping of question -> text"]
    problems = []
    for key, value in free.items():
        if key not in _FREE:
            problems.append(f"free_text: unknown question {key!r}")
        elif not isinstance(value, str):
            problems.append(f"{key}: expected text, got {type(value).__name__}")
        elif len(value) > MAX_TEXT:
            problems.append(f"{key}: {len(value)} characters; keep it under {MAX_TEXT}")
        elif phase == "pre" and value.strip():
            problems.append("a 'pre' response holds the knowledge check only; clear the texts")
    return problems


def _check_knowledge(knowledge: Any) -> list[str]:
    if not isinstance(knowledge, dict):
        return ["knowledge: expected a mapping of question -> option"]
    problems = [f"knowledge: unknown question {k!r}" for k in knowledge if k not in _KNOWLEDGE]
    for qid, question in _KNOWLEDGE.items():
        value = knowledge.get(qid)
        letters = [letter for letter, _ in question.options]
        if value is None:
            problems.append(
                f"{qid}: required; choose an option, or “I don't know yet” (question {qid[1:]})"
            )
        elif value != DONT_KNOW and value not in letters:
            problems.append(f"{qid}: {value!r} is not one of {letters + [DONT_KNOW]}")
    return problems


def validate_response(response: Any) -> list[str]:
    """Every problem with a response, as messages a student can act on (empty: valid)."""
    if not isinstance(response, dict):
        return [f"expected a JSON object, got {type(response).__name__}"]
    problems = []
    extra = sorted(set(response) - set(FIELDS))
    if extra:  # e.g. a username or notebook metadata: never accepted
        problems.append(f"unexpected field(s) {extra}: a response holds only {list(FIELDS)}")
    missing = [f for f in FIELDS if f not in response]
    if missing:
        return problems + [f"missing field(s) {missing}"]
    if response["schema"] != SCHEMA:
        problems.append(f"schema is {response['schema']!r}, expected {SCHEMA!r}")
    if response["instrument"] != INSTRUMENT_VERSION:
        problems.append(
            f"instrument version {response['instrument']!r}; this tool reads {INSTRUMENT_VERSION!r}"
        )
    if not isinstance(response["response_id"], str) or not _ID.match(response["response_id"]):
        problems.append("response_id: expected 32 lowercase hexadecimal characters")
    revision = response["revision"]
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        problems.append(f"revision: expected a whole number >= 1, got {revision!r}")
    date = response["date"]
    if not isinstance(date, str) or not _DATE.match(date):
        problems.append(f"date: expected a day YYYY-MM-DD (no time), got {date!r}")
    phase = response["phase"]
    if phase not in PHASES:
        problems.append(f"phase: expected one of {list(PHASES)}, got {phase!r}")
    code = response["pairing_code"]
    if code is not None and (not isinstance(code, str) or not _CODE.match(code)):
        problems.append(f"pairing_code: expected a code like K7QD-M2XA (or none), got {code!r}")
    problems += _check_likert(phase, response["likert"])
    problems += _check_free_text(phase, response["free_text"])
    problems += _check_knowledge(response["knowledge"])
    return problems


def default_inbox() -> Path:
    """Where responses are written: ``MEDGANLAB_SURVEY_INBOX``, else ``<build>/survey/responses``."""
    env = os.environ.get("MEDGANLAB_SURVEY_INBOX")
    if env:
        return Path(env).expanduser()
    from medganlab.paths import build_dir

    return build_dir() / "survey" / "responses"


def write_response(response: dict[str, Any], folder: Path) -> Path:
    """Validate and write ``survey-<phase>-<response_id>.json`` into ``folder``, atomically.

    Writing the same response again (same id) replaces the earlier file.

    Raises:
        ValueError: the response has problems (all of them are listed).
    """
    problems = validate_response(response)
    if problems:
        raise ValueError("the response was not saved:\n- " + "\n- ".join(problems))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"survey-{response['phase']}-{response['response_id']}.json"
    text = json.dumps({k: response[k] for k in FIELDS}, indent=1, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".survey-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def deliver(path: Path) -> str:
    """On Colab, offer the file as a download; return what the student should do next."""
    if "google.colab" in sys.modules:
        from google.colab import files  # type: ignore[import-not-found]

        files.download(str(path))
        return (
            f"Your browser downloads {Path(path).name}. Upload it to the course's anonymous "
            "survey upload (not the graded-assignment upload, which records your name)."
        )
    if os.environ.get("MEDGANLAB_SURVEY_INBOX"):
        return "Saved in the course's survey inbox: nothing else to do."
    return (
        f"Saved as {path}. Hand this file in through the course's anonymous survey upload "
        "(not the graded-assignment upload, which records your name)."
    )
