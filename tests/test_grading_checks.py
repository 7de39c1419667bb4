"""The release checks catch what they promise to: each is broken on purpose here.

A tiny assignment without TensorFlow keeps these fast; it goes through the same nbgrader
config and the same functions as the real course.
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from medganlab import authoring
from medganlab.grading import (
    Course,
    autograde_submission,
    compare_release,
    find_leaks,
    grade_cohort,
    lint_release_notebook,
    lint_source_notebook,
    release,
    validate,
)

from conftest import make_course

NAME = "99_fixture"
FIXTURE = '''# %% [markdown]
# # Double a number
#
# **What you'll do**: write one function. **What you'll learn**: nbgrader.
# **What you'll need**: Python.

# %% [markdown]
# ## Setup

# %%
import medganlab

# %% [markdown]
# ## Configuration

# %%
cfg = medganlab.profile_for("00_setup_and_data")

# %% solution grade_id="double"
def double(x):
    """Return twice x."""
    ### BEGIN SOLUTION
    return x * 2  # the doubling answer
    ### END SOLUTION

# %% tests grade_id="test_double" points=2
"""double doubles."""
assert double(2) == 4, "double(2) should be 4"
### BEGIN HIDDEN TESTS
assert double(-3.5) == -7.0, "negative numbers double too"
### END HIDDEN TESTS

# %% [markdown] readonly grade_id="q_explain"
# ### Exercise 2 (written)
#
# Why is twice a negative number negative?

# %% [markdown] manual grade_id="explain" points=1
# === BEGIN MARK SCHEME ===
# A positive factor keeps the sign.
# === END MARK SCHEME ===
#
# YOUR ANSWER HERE

# %% [markdown]
# ## Key points
#
# - Functions.
#
# ## Further reading
#
# - nbgrader docs.
'''

pytestmark = pytest.mark.slow


@pytest.fixture
def course(tmp_path, smoke_env):
    root = make_course(tmp_path / "course", {NAME: FIXTURE})
    course = Course(root)
    release(course)
    return course


def _edit_source(course, old, new):
    src = course.solutions / NAME / f"{NAME}.py"
    src.write_text(src.read_text().replace(old, new))
    authoring.sync_sources(course.solutions)


def test_fixture_course_passes_every_check(course):
    assert validate(course.source_notebook(NAME)) == {}
    assert validate(course.release_notebook(NAME), invert=True) == {}
    assert find_leaks(course.notebooks, [course.source_notebook(NAME)]) == []
    assert compare_release(course) == []
    problems, stats = lint_source_notebook(course.source_notebook(NAME))
    assert problems == [] and stats["max_lines"] <= 6
    full = autograde_submission(course, NAME, course.source_notebook(NAME))
    zero = autograde_submission(course, NAME, course.release_notebook(NAME))
    assert (full.score, full.max_score, zero.score) == (2.0, 3.0, 0.0)
    assert (full.manual_pending, full.status, zero.status) == (1.0, "ok", "ok")
    assert lint_release_notebook(course.release_notebook(NAME)) == []


def test_a_wrong_solution_fails_validation_and_loses_marks(course):
    _edit_source(course, "return x * 2", "return x + 2")  # right for 2, wrong for -3.5
    result = validate(course.source_notebook(NAME))
    assert result.get("failed"), "a hidden test should fail"
    graded = autograde_submission(course, NAME, course.source_notebook(NAME))
    assert graded.score == 0.0 and graded.max_score == 3.0


def test_a_release_with_a_passing_test_is_caught(course):
    # A test that does not depend on the student's work passes on the release: caught.
    _edit_source(
        course, 'assert double(2) == 4, "double(2) should be 4"', 'assert 2 + 2 == 4, "arithmetic"'
    )
    _edit_source(
        course, 'assert double(-3.5) == -7.0, "negative numbers double too"', "assert True"
    )
    release(course)
    assert validate(course.release_notebook(NAME), invert=True).get("passed")


def test_leaked_markers_solution_lines_outputs_and_sources_are_found(course):
    nb_path = course.release_notebook(NAME)
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("return x * 2  # the doubling answer"))
    nbformat.write(nb, nb_path)
    leaks = find_leaks(course.notebooks, [course.source_notebook(NAME)])
    assert any("solution or hidden-test code" in p for p in leaks), leaks
    nb.cells[-1] = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nassert True")
    nb.cells[-1].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nbformat.write(nb, nb_path)
    leaks = find_leaks(course.notebooks, [course.source_notebook(NAME)])
    assert any("marker" in p for p in leaks) and any("outputs" in p for p in leaks), leaks
    shutil.copy(course.solutions / NAME / f"{NAME}.py", course.notebooks / NAME)
    assert any("Python source" in p for p in find_leaks(course.notebooks, []))


def test_a_stale_or_hand_edited_release_is_found(course):
    _edit_source(course, "Return twice x.", "Return two times x.")
    assert any("differs" in p for p in compare_release(course))
    release(course)
    assert compare_release(course) == []
    (course.notebooks / NAME / "extra.txt").write_text("hand-made")
    assert any("not produced by a release" in p for p in compare_release(course))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda nb: nb.cells[6].metadata["nbgrader"].update(grade_id="double"), "repeats"),
        (lambda nb: nb.cells[6].metadata["nbgrader"].update(locked=False), "not locked"),
        (lambda nb: nb.cells[6].metadata["nbgrader"].pop("points"), "without points"),
        (lambda nb: nb.metadata["kernelspec"].update(name="python2"), "kernelspec"),
        (lambda nb: nb.cells.pop(9), "Key points"),
        (lambda nb: nb.cells.pop(7), "without its question"),
        (lambda nb: nb.cells[7].metadata.pop("nbgrader"), "not a read-only cell"),
        (lambda nb: nb.cells[7].update(source="### Exercise 2 (written)"), "asks nothing"),
        (
            lambda nb: nb.cells[8].update(source="Why? YOUR ANSWER HERE"),
            "disappears in the release",
        ),
        (lambda nb: [c.metadata.pop("nbgrader", None) for c in nb.cells], "no graded cells"),
        (lambda nb: nb.cells[4].update(source="\n".join(["x = 1"] * 30)), "lines of code"),
        (lambda nb: nb.cells[6].update(source="assert double(2) == 4"), "docstring"),
    ],
)
def test_lint_catches_broken_rules(course, edit, expected):
    path = course.source_notebook(NAME)
    nb = nbformat.read(path, as_version=4)
    edit(nb)
    nbformat.write(nb, path)
    problems, _ = lint_source_notebook(path)
    assert any(expected in p for p in problems), problems


def test_a_release_whose_question_vanished_is_caught(course):
    path = course.release_notebook(NAME)
    nb = nbformat.read(path, as_version=4)
    nb.cells.pop(7)  # the read-only question cell above the written answer
    nbformat.write(nb, path)
    assert any("without its question" in p for p in lint_release_notebook(path))


def test_an_ungraded_assignment_may_have_no_graded_cells(course, monkeypatch):
    path = course.source_notebook(NAME)
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    nbformat.write(nb, path)
    monkeypatch.setattr("medganlab.grading.lint.ungraded", lambda: frozenset({NAME}))
    assert not any("no graded cells" in p for p in lint_source_notebook(path)[0])


def test_cohort_grading_survives_bad_submissions(course, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(course.source_notebook(NAME), subs / "ada.ipynb")
    shutil.copy(course.release_notebook(NAME), subs / "bob.ipynb")
    (subs / "cy.ipynb").write_text("{ not json")
    dead = nbformat.read(course.source_notebook(NAME), as_version=4)
    dead.cells[4].source = "import os\nos._exit(1)"
    nbformat.write(dead, subs / "dee.ipynb")
    rows = {r["student"]: r for r in grade_cohort(course, NAME, subs, tmp_path / "out", workers=2)}
    assert rows["ada"]["score"] == 2.0 and rows["ada"]["status"] == "ok"
    assert rows["bob"]["score"] == 0.0 and rows["bob"]["status"] == "ok"
    assert rows["cy"]["status"] == "failed" and "not a readable notebook" in rows["cy"]["reason"]
    assert rows["cy"]["max_score"] == 3.0, "an unreadable file still shows what it was out of"
    assert rows["dee"]["score"] == 0.0 and "kernel died in cell 5" in rows["dee"]["reason"]
    csv = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert csv[0].startswith("student,assignment,score,max_score,auto_score") and len(csv) == 5
    assert ",1,ok," in csv[1], "ada: 1 point awaits manual grading"
    assert json.loads((tmp_path / "out" / "grades.json").read_text())[0]["student"] == "ada"
    assert (tmp_path / "out" / "feedback" / "ada.html").is_file()
    feedback = (tmp_path / "out" / "feedback" / "ada.html").read_text()
    assert "negative numbers double too" not in feedback, "hidden tests must not reach feedback"
