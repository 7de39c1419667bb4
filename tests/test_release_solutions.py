"""Every solution notebook passes all its tests and autogrades to full marks (smoke profile)."""

from __future__ import annotations

import pytest

from medganlab.grading import Course, autograde_submission, lint_source_notebook

from conftest import REPO

COURSE = Course(REPO)
ASSIGNMENTS = COURSE.assignments()

pytestmark = pytest.mark.slow


# The machine's own choice (float32, or bf16 on a CPU with native bf16), and bf16 forced:
# whether main lands must not depend on the CI machine's CPU flags. (Float16 + XLA runs in
# `make test-gpu-path`, through nbval.)
PRECISIONS = ["auto", "mixed_bfloat16"]


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_autogrades_to_full_marks(assignment, precision, smoke_env, monkeypatch):
    """Every autograded cell, hidden tests included, gets its points."""
    if precision == "auto":
        monkeypatch.delenv("MEDGANLAB_PRECISION", raising=False)
    else:
        monkeypatch.setenv("MEDGANLAB_PRECISION", precision)
    result = autograde_submission(COURSE, assignment, COURSE.source_notebook(assignment))
    assert result.error is None, result.error
    auto = [c for c in result.cells if not c["needs_manual_grade"]]
    assert auto, f"{assignment}: no autograded cells"
    short = [c for c in auto if c["auto_score"] != c["max_score"]]
    assert not short, f"{assignment} ({precision}): solution loses marks on {short}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_follows_the_course_rules(assignment):
    problems, stats = lint_source_notebook(COURSE.source_notebook(assignment))
    print(f"{assignment}: {stats}")
    assert not problems, f"{assignment}: " + "; ".join(problems)
