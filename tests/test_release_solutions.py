"""Every solution notebook passes all its tests and autogrades to full marks (smoke profile)."""

from __future__ import annotations

import os

import pytest

from medganlab.grading import (
    Course,
    autograde_submission,
    graded_assignments,
    lint_source_notebook,
)

from conftest import REPO

COURSE = Course(REPO)
ASSIGNMENTS = COURSE.assignments()
GRADED = graded_assignments(COURSE)  # 09 (the survey) has no graded cells

pytestmark = pytest.mark.slow


def assert_full_marks(assignment: str) -> None:
    """Autograde the solution as a pretend student: every auto-graded cell at full marks."""
    result = autograde_submission(COURSE, assignment, COURSE.source_notebook(assignment))
    assert result.error is None, result.error
    auto = [c for c in result.cells if not c["needs_manual_grade"]]
    assert auto, f"{assignment}: no autograded cells"
    short = [c for c in auto if c["auto_score"] != c["max_score"]]
    precision = os.environ.get("MEDGANLAB_PRECISION", "auto")
    assert not short, f"{assignment} ({precision}): solution loses marks on {short}"


@pytest.mark.parametrize("assignment", GRADED)
def test_solution_autogrades_to_full_marks(assignment, smoke_env, monkeypatch):
    """Every autograded cell, hidden tests included, gets its points in the machine's own
    precision (float32, or bf16 on a CPU with native bf16). Forced bf16:
    test_release_solutions_bf16.py; float16 + XLA: nbval in `make test-notebooks`."""
    monkeypatch.delenv("MEDGANLAB_PRECISION", raising=False)
    assert_full_marks(assignment)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_follows_the_course_rules(assignment):
    problems, stats = lint_source_notebook(COURSE.source_notebook(assignment))
    print(f"{assignment}: {stats}")
    assert not problems, f"{assignment}: " + "; ".join(problems)
