"""Authoring format of the course: jupytext "percent" sources that generate the notebooks.

Each assignment is written as ``solutions/NN_slug/NN_slug.py`` (readable diffs) and
:func:`sync_sources` turns it into ``solutions/NN_slug/NN_slug.ipynb``, the notebook nbgrader
reads. Cell headers carry the nbgrader role in a short form::

    # %% [markdown]                                   plain prose
    # %%                                              plain code
    # %% solution grade_id="stored_to_hu"             autograded answer (BEGIN/END SOLUTION)
    # %% tests grade_id="test_stored_to_hu" points=2  locked test cell (visible + hidden tests)
    # %% [markdown] manual grade_id="q_window" points=2   manually graded written answer
    # %% readonly grade_id="data_setup"               locked cell students may not change

The generated notebook has no outputs, no jupytext metadata and a ``python3`` kernelspec.
The course's public address is written in at generation time: ``{{ colab_url }}``,
``{{ repository_url }}`` and ``{{ course_ref }}`` come from ``course/settings.toml``
(see :mod:`medganlab.course_info`), so the badges and the Colab install cell follow it.
"""

from __future__ import annotations

import json
from pathlib import Path

import jupytext
import nbformat

from medganlab import course_info

__all__ = ["ROLES", "KERNELSPEC", "to_notebook", "sync_sources", "source_files"]

ROLES = ("solution", "tests", "manual", "readonly")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_KEEP_CELL_METADATA = ("tags",)


def _nbgrader_metadata(role: str, meta: dict, where: str) -> dict:
    grade_id = meta.get("grade_id")
    if not grade_id:
        raise ValueError(f'{where}: a {role!r} cell needs grade_id="..."')
    base = {"grade_id": grade_id, "schema_version": 3, "task": False}
    if role == "solution":
        return {**base, "grade": False, "locked": False, "solution": True}
    if role == "readonly":
        return {**base, "grade": False, "locked": True, "solution": False}
    if "points" not in meta:
        raise ValueError(f"{where}: a {role!r} cell needs points=N")
    points = meta["points"]
    if role == "tests":
        return {**base, "grade": True, "locked": True, "points": points, "solution": False}
    return {**base, "grade": True, "locked": False, "points": points, "solution": True}


def to_notebook(source: Path) -> nbformat.NotebookNode:
    """Read a jupytext percent source and return the nbgrader notebook it describes.

    Raises:
        ValueError: a cell header names an unknown role or lacks grade_id/points.
    """
    source = Path(source)
    notebook = jupytext.read(source, fmt="py:percent")
    settings = None
    if any(course_info.has_tokens(cell.source) for cell in notebook.cells):
        # solutions/NN_slug/NN_slug.py -> the course root is three levels up
        settings = course_info.load_settings(source.resolve().parent.parent.parent)
    cells = []
    for index, cell in enumerate(notebook.cells):
        meta = dict(cell.metadata)
        role = meta.pop("title", None)
        where = f"{source.name} cell {index + 1}"
        new_meta = {k: meta[k] for k in _KEEP_CELL_METADATA if k in meta}
        if role is not None:
            if role not in ROLES:
                raise ValueError(f"{where}: unknown cell role {role!r}; expected one of {ROLES}")
            new_meta["nbgrader"] = _nbgrader_metadata(role, meta, where)
        text = cell.source
        if settings is not None:
            text = course_info.substitute(text, source.stem, settings)
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(text, metadata=new_meta)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(text, metadata=new_meta)
        else:
            new = nbformat.v4.new_raw_cell(text, metadata=new_meta)
        # Stable ids (nbformat 4.5 needs them): the grade id, else the position.
        new["id"] = new_meta.get("nbgrader", {}).get("grade_id") or f"cell-{index:03d}"
        cells.append(new)
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    }
    out.nbformat, out.nbformat_minor = 4, 5
    return out


def source_files(solutions: Path) -> list[Path]:
    """Every assignment source ``solutions/NN_slug/NN_slug.py``, sorted."""
    return sorted(p for p in Path(solutions).glob("*/*.py") if p.stem == p.parent.name)


def render(notebook: nbformat.NotebookNode) -> str:
    """Serialise a notebook the way it is committed (stable key order, trailing newline)."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def sync_sources(solutions: Path, check: bool = False) -> list[Path]:
    """Write ``NN_slug.ipynb`` beside every source; return the notebooks that changed.

    With ``check=True`` nothing is written: the return value lists the notebooks that are
    out of date (so a test can fail on a hand-edited or stale notebook).
    """
    changed = []
    for source in source_files(solutions):
        target = source.with_suffix(".ipynb")
        text = render(to_notebook(source))
        if not target.is_file() or target.read_text() != text:
            changed.append(target)
            if not check:
                target.write_text(text)
    return changed
