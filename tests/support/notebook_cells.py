"""Run a solution notebook's code up to one of its cells, outside Jupyter.

The tests of the GPU path exercise what students write (the train steps of 01–03), which
lives only in the notebooks: this module concatenates a solution notebook's code cells
(test cells skipped) up to the cell with a given ``grade_id`` so a test can ``exec`` it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]


def code_until(assignment: str, grade_id: str, repo: Path = REPO) -> str:
    """The code of ``assignment``'s solution notebook up to and including cell ``grade_id``.

    Test cells (graded, locked) are left out; IPython magics (``%pip`` in the Colab cell)
    are commented out.

    Raises:
        ValueError: no cell has that grade id.
    """
    path = repo / "solutions" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    parts = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            continue
        lines = cell.source.splitlines()
        parts.append("\n".join(f"# {ln}" if ln.lstrip()[:1] in ("%", "!") else ln for ln in lines))
        if meta.get("grade_id") == grade_id:
            return "\n\n".join(parts)
    raise ValueError(f"{path}: no cell with grade_id {grade_id!r}")
