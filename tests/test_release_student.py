"""Released (student) notebooks: in sync, leak-free, failing their tests, scoring zero."""

from __future__ import annotations

import pytest

from medganlab.grading import (
    Course,
    autograde_submission,
    compare_release,
    find_leaks,
    graded_assignments,
)

from conftest import REPO

COURSE = Course(REPO)
ASSIGNMENTS = COURSE.assignments()

pytestmark = pytest.mark.slow


def test_notebooks_equal_a_fresh_release():
    problems = compare_release(COURSE)
    assert not problems, "run `make release` and commit: " + "; ".join(problems)


def test_released_assignment_folders_match_the_sources():
    released = sorted(p.name for p in COURSE.notebooks.iterdir() if p.is_dir())
    assert released == ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nothing_under_notebooks_gives_answers_away(assignment):
    leaks = find_leaks(COURSE.notebooks / assignment, [COURSE.source_notebook(assignment)])
    assert not leaks, "; ".join(leaks)


def test_no_stray_files_outside_assignment_folders():
    stray = [p.name for p in COURSE.notebooks.iterdir() if p.is_file()]
    assert not stray, f"files directly under notebooks/: {stray}"


@pytest.mark.parametrize("assignment", graded_assignments(COURSE))
def test_untouched_release_autogrades_to_zero(assignment, smoke_env):
    """Every test cell of the untouched release fails (so each scores 0): no test passes on
    a stub, and nothing is given away."""
    result = autograde_submission(COURSE, assignment, COURSE.release_notebook(assignment))
    assert result.error is None, f"autograding the release crashed: {result.error}"
    auto = [c for c in result.cells if c["auto_score"] is not None]
    assert auto and all(c["auto_score"] == 0 for c in auto), result.cells
