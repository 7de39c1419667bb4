"""The jupytext authoring format becomes correct nbgrader notebooks."""

from __future__ import annotations

import pytest

from medganlab import authoring

SOURCE = '''# %% [markdown]
# # Title

# %% solution grade_id="answer"
def f():
    ### BEGIN SOLUTION
    return 1
    ### END SOLUTION

# %% tests grade_id="test_answer" points=2
"""f returns 1."""
assert f() == 1

# %% [markdown] manual grade_id="essay" points=3
# YOUR ANSWER HERE

# %% readonly grade_id="fixed"
x = 1
'''


def test_roles_become_nbgrader_metadata(tmp_path):
    src = tmp_path / "a.py"
    src.write_text(SOURCE)
    nb = authoring.to_notebook(src)
    meta = [c.metadata.get("nbgrader") for c in nb.cells]
    assert meta[0] is None
    assert meta[1] == {
        "grade": False,
        "grade_id": "answer",
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    assert meta[2]["grade"] and meta[2]["locked"] and meta[2]["points"] == 2
    assert not meta[2]["solution"]
    assert nb.cells[3].cell_type == "markdown" and meta[3]["solution"] and meta[3]["grade"]
    assert meta[4]["locked"] and not meta[4]["grade"]
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "jupytext" not in nb.metadata


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ('# %% tests grade_id="t"', "points"),
        ("# %% solution", "grade_id"),
        ('# %% answer grade_id="x"', "unknown cell role"),
    ],
)
def test_bad_headers_are_clear_errors(tmp_path, header, message):
    src = tmp_path / "bad.py"
    src.write_text(f"{header}\nx = 1\n")
    with pytest.raises(ValueError, match=message):
        authoring.to_notebook(src)


def test_generation_is_deterministic_and_stale_notebooks_are_found(tmp_path):
    folder = tmp_path / "solutions" / "01_x"
    folder.mkdir(parents=True)
    (folder / "01_x.py").write_text(SOURCE)
    assert authoring.sync_sources(tmp_path / "solutions") == [folder / "01_x.ipynb"]
    first = (folder / "01_x.ipynb").read_bytes()
    assert authoring.sync_sources(tmp_path / "solutions") == []
    assert (folder / "01_x.ipynb").read_bytes() == first
    (folder / "01_x.py").write_text(SOURCE.replace("return 1", "return 2"))
    assert authoring.sync_sources(tmp_path / "solutions", check=True) == [folder / "01_x.ipynb"]
    assert (folder / "01_x.ipynb").read_bytes() == first, "check=True must not write"


def test_committed_solution_notebooks_are_generated_from_their_sources(repo):
    stale = authoring.sync_sources(repo / "solutions", check=True)
    assert not stale, f"regenerate with `make release`: {stale}"
