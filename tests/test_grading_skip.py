"""The grader leaves out 00's tagged Keras warm-up only when that cannot change a score."""

from __future__ import annotations

import copy

import nbformat
import pytest

from medganlab.grading.merge import SKIP_TAG, merge_submission
from medganlab.paths import home

NAME = "00_setup_and_data"


@pytest.fixture(scope="module")
def notebooks():
    root = home()
    source = nbformat.read(root / "solutions" / NAME / f"{NAME}.ipynb", as_version=4)
    release = nbformat.read(root / "notebooks" / NAME / f"{NAME}.ipynb", as_version=4)
    return source, release


def _skipped(merged) -> list[str]:
    return [
        c.source
        for c in merged.notebook.cells
        if c.cell_type == "code" and c.metadata.get("medganlab", {}).get("skip")
    ]


def _tagged(release) -> list[str]:
    return [c.source for c in release.cells if SKIP_TAG in c.metadata.get("tags", [])]


def test_an_untouched_release_skips_exactly_the_tagged_cells(notebooks):
    source, release = notebooks
    tagged = _tagged(release)
    assert tagged, f"00's release should tag its Keras warm-up cells {SKIP_TAG!r}"
    assert "import keras" in "\n".join(tagged)
    assert sorted(_skipped(merge_submission(source, release, copy.deepcopy(release)))) == sorted(
        tagged
    )


def test_an_answer_that_uses_keras_runs_the_whole_notebook(notebooks):
    source, release = notebooks
    student = copy.deepcopy(release)
    student.cells.append(nbformat.v4.new_code_cell("probe = keras.ops.ones((2,))"))
    assert _skipped(merge_submission(source, release, student)) == []


def test_an_edited_warm_up_cell_runs_with_whatever_it_needs(notebooks):
    source, release = notebooks
    student = copy.deepcopy(release)
    cell = next(c for c in student.cells if SKIP_TAG in c.metadata.get("tags", []))
    cell.source += "\nprint('mine')"
    skipped = _skipped(merge_submission(source, release, student))
    assert cell.source not in skipped and skipped, "only the edited cell runs"
    cell.source += "\nprint(warmup_model.name)"  # now it needs the cells that define it
    assert _skipped(merge_submission(source, release, student)) == []


def test_a_student_tag_does_not_skip_a_cell(notebooks):
    source, release = notebooks
    student = copy.deepcopy(release)
    extra = nbformat.v4.new_code_cell("total = 1 + 1")
    extra.metadata["tags"] = [SKIP_TAG]
    student.cells.append(extra)
    assert "total = 1 + 1" not in _skipped(merge_submission(source, release, student))
