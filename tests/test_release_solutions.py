"""Every solution notebook passes all its tests and autogrades to full marks (smoke profile)."""

from __future__ import annotations

import pytest

from medganlab.grading import Course, autograde_submission, lint_source_notebook, validate

from conftest import REPO

COURSE = Course(REPO)
ASSIGNMENTS = COURSE.assignments()

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_passes_every_test_hidden_ones_included(assignment, smoke_env):
    result = validate(COURSE.source_notebook(assignment))
    assert result == {}, f"{assignment}: the solution fails its own tests: {result}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_autogrades_to_full_marks(assignment, smoke_env):
    result = autograde_submission(COURSE, assignment, COURSE.source_notebook(assignment))
    assert result.error is None, result.error
    auto = [c for c in result.cells if not c["needs_manual_grade"]]
    assert auto, f"{assignment}: no autograded cells"
    short = [c for c in auto if c["auto_score"] != c["max_score"]]
    assert not short, f"{assignment}: solution loses marks on {short}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_follows_the_course_rules(assignment):
    problems, stats = lint_source_notebook(COURSE.source_notebook(assignment))
    print(f"{assignment}: {stats}")
    assert not problems, f"{assignment}: " + "; ".join(problems)
