"""Run a solution notebook's code up to one of its cells, outside Jupyter.

The tests of the GPU path exercise what students write (the train steps of 01–03), which
lives only in the notebooks: this module concatenates a solution notebook's code cells
(test cells skipped) up to the cell with a given ``grade_id`` so a test can ``exec`` it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

_KEEP_NAMES = {"info", "cfg"}


def _definitions(code: str) -> str:
    """Only the imports, functions, classes and constants (``NAME = ...``, ``info``, ``cfg``)."""
    kept = []
    for node in ast.parse(code).body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
            kept.append(node)
        elif isinstance(node, ast.Assign) and all(
            isinstance(t, ast.Name) and (t.id.isupper() or t.id in _KEEP_NAMES)
            for t in node.targets
        ):
            kept.append(node)
    return ast.unparse(ast.Module(body=kept, type_ignores=[]))


REPO = Path(__file__).resolve().parents[2]


def code_until(
    assignment: str, grade_id: str, repo: Path = REPO, definitions_only: bool = False
) -> str:
    """The code of ``assignment``'s solution notebook up to and including cell ``grade_id``.

    Test cells (graded, locked) are left out; IPython magics (``%pip`` in the Colab cell)
    are commented out. ``definitions_only`` keeps just imports, functions, classes and
    constants (no data loading, demos or training): what a test needs to call the
    notebook's functions, in seconds.

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
            code = "\n\n".join(parts)
            return _definitions(code) if definitions_only else code
    raise ValueError(f"{path}: no cell with grade_id {grade_id!r}")
