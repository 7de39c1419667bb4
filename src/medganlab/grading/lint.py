"""The course's notebook rules (release lint): one small function per rule.

:func:`lint_source_notebook` checks a source notebook in ``solutions/``;
:func:`lint_release_notebook` checks what students get in ``notebooks/``.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import nbformat

from medganlab.grading.course import ungraded

__all__ = [
    "INSTRUCTION_VERBS",
    "MAX_CODE_LINES",
    "SKELETON",
    "asks_a_question",
    "lint_release_notebook",
    "lint_source_notebook",
    "questions_visible",
]

SKELETON = (
    (r"^# \S", "an H1 title as the first cell"),
    (r"^\*\*What you'll do\*\*|^## What you'll do", "'What you'll do'"),
    (r"What you'll learn", "'What you'll learn'"),
    (r"What you'll need", "'What you'll need'"),
    (r"^## Setup\b", "a '## Setup' section"),
    (r"^## Configuration\b", "a '## Configuration' section"),
    (r"^## Key points\b", "a '## Key points' section"),
    (r"^## Further reading\b", "a '## Further reading' section"),
)
MAX_CODE_LINES = 25
# A question cell asks something: a question mark, or a sentence opening with one of these.
INSTRUCTION_VERBS = (
    "explain", "describe", "compare", "contrast", "name", "state", "give", "list", "justify",
    "discuss", "say", "write", "identify", "suggest", "predict", "estimate", "argue",
    "outline", "summarise", "summarize", "propose", "interpret", "define", "show",
    "calculate", "compute", "derive", "decide", "choose",
)  # fmt: skip
_SENTENCE_START = re.compile(
    r"(?:^|[.!:;]\s+|\n)\s*(?:[#>*_\-]+\s*|\d+[.)]\s*)*(" + "|".join(INSTRUCTION_VERBS) + r")\b",
    re.IGNORECASE,
)
_MARK_SCHEME = re.compile(r"=== BEGIN MARK SCHEME ===.*?=== END MARK SCHEME ===", re.DOTALL)


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {}) or {}


def _is_manual_answer(cell) -> bool:
    meta = _meta(cell)
    return bool(meta.get("grade") and meta.get("solution") and cell.cell_type == "markdown")


def asks_a_question(text: str) -> bool:
    """True if ``text`` holds a question mark or an instruction ("Explain why ...")."""
    text = _MARK_SCHEME.sub("", text)
    return "?" in text or bool(_SENTENCE_START.search(text))


def questions_visible(nb: nbformat.NotebookNode) -> list[str]:
    """Every manually graded answer has its question in a read-only markdown cell above it.

    nbgrader replaces an answer cell *whole* by "YOUR ANSWER HERE" in the release, so a
    question written in the answer cell disappears: it must stand in the cell just above,
    locked (``# %% [markdown] readonly grade_id="q_<answer id>"``) and asking something —
    a question mark, or a sentence that opens with an instruction verb (Explain, Compare...).
    """
    problems = []
    for index, cell in enumerate(nb.cells):
        if not _is_manual_answer(cell):
            continue
        gid = _meta(cell).get("grade_id", "?")
        where = f"cell {index + 1} ({gid})"
        above = nb.cells[index - 1] if index else None
        if above is None or above.cell_type != "markdown":
            problems.append(
                f"{where}: a written answer without its question in a markdown cell above"
            )
            continue
        meta = _meta(above)
        if not meta.get("locked") or meta.get("grade") or meta.get("solution"):
            problems.append(
                f"{where}: the question above the written answer is not a read-only cell "
                f'(# %% [markdown] readonly grade_id="q_{gid}")'
            )
        elif not asks_a_question(above.source):
            problems.append(
                f"{where}: the read-only cell above the written answer asks nothing "
                f"(no '?' and no sentence opening with {', '.join(INSTRUCTION_VERBS[:4])}...)"
            )
    return problems


def _answer_text_lost(nb: nbformat.NotebookNode) -> list[str]:
    """Source side: text in an answer cell besides the mark scheme vanishes in the release."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if not _is_manual_answer(cell):
            continue
        rest = _MARK_SCHEME.sub("", cell.source).replace("YOUR ANSWER HERE", "").strip()
        if rest:
            problems.append(
                f"cell {index + 1} ({_meta(cell).get('grade_id')}): text in a written-answer "
                "cell disappears in the release; move it to the read-only question cell above"
            )
    return problems


def _graded_cell_rules(nb: nbformat.NotebookNode) -> list[str]:
    problems: list[str] = []
    ids: dict[str, int] = {}
    for index, cell in enumerate(nb.cells, start=1):
        meta = _meta(cell)
        if cell.cell_type == "code" and cell.get("outputs"):
            problems.append(f"cell {index}: has outputs")
        if not meta:
            continue
        gid = meta.get("grade_id")
        if not gid:
            problems.append(f"cell {index}: nbgrader cell without grade_id")
            continue
        if gid in ids:
            problems.append(f"cell {index}: grade_id {gid!r} repeats cell {ids[gid]}")
        ids[gid] = index
        is_test = meta.get("grade") and not meta.get("solution")
        if meta.get("grade") and not meta.get("points"):
            problems.append(f"cell {index} ({gid}): a graded cell without points")
        if is_test and not meta.get("locked"):
            problems.append(f"cell {index} ({gid}): a test cell that is not locked")
        if is_test and not cell.source.lstrip().startswith(('"""', "'''")):
            problems.append(f"cell {index} ({gid}): a test cell should start with a docstring")
        if (
            meta.get("solution")
            and cell.cell_type == "code"
            and "BEGIN SOLUTION" not in cell.source
        ):
            problems.append(f"cell {index} ({gid}): a solution cell without BEGIN/END SOLUTION")
        if "BEGIN HIDDEN TESTS" in cell.source:
            visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
            checks = ("assert", "check_", "testing.check_")  # medganlab.testing helpers count
            if not [ln for ln in visible.splitlines() if ln.strip().startswith(checks)]:
                problems.append(f"cell {index} ({gid}): hidden tests without a visible test")
    return problems


def _skeleton_rules(nb: nbformat.NotebookNode) -> list[str]:
    problems = []
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    first = nb.cells[0].source if nb.cells else ""
    for pattern, what in SKELETON:
        text = first if what.startswith("an H1") else markdown
        if not re.search(pattern, text, flags=re.MULTILINE):
            problems.append(f"notebook skeleton: missing {what}")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    if "profile_for(" not in code:
        problems.append("no `cfg = medganlab.profile_for(...)` configuration cell")
    if re.search(r"^\s*[!%]pip\b", code, flags=re.MULTILINE) and "google.colab" not in code:
        problems.append("a pip install outside the Colab-guarded cell")
    return problems


def _cell_size_rules(nb: nbformat.NotebookNode) -> list[str]:
    problems = []
    for index, cell in enumerate(nb.cells, start=1):
        n = len(cell.source.strip().splitlines())
        if cell.cell_type == "code" and n > MAX_CODE_LINES:
            problems.append(f"cell {index}: {n} lines of code (at most {MAX_CODE_LINES})")
    return problems


def _has_graded_cells(nb: nbformat.NotebookNode) -> bool:
    return any(_meta(c).get("grade") for c in nb.cells)


def lint_source_notebook(path: Path) -> tuple[list[str], dict]:
    """Check a source notebook against the course's rules.

    Returns (problems, stats) where stats has the code-cell sizes (median and max lines).
    An assignment listed in ``course_info.UNGRADED`` may have no graded cells.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    problems: list[str] = []
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        problems.append("kernelspec is not python3")
    problems += _graded_cell_rules(nb)
    if not _has_graded_cells(nb) and path.stem not in ungraded():
        problems.append("no graded cells")
    problems += questions_visible(nb)
    problems += _answer_text_lost(nb)
    problems += _skeleton_rules(nb)
    problems += _cell_size_rules(nb)
    sizes = [len(c.source.strip().splitlines()) for c in nb.cells if c.cell_type == "code"]
    stats = {
        "code_cells": len(sizes),
        "median_lines": statistics.median(sizes) if sizes else 0,
        "max_lines": max(sizes) if sizes else 0,
    }
    return problems, stats


def lint_release_notebook(path: Path) -> list[str]:
    """Check a released (student) notebook: every written answer's question is shown."""
    nb = nbformat.read(Path(path), as_version=4)
    return questions_visible(nb)
