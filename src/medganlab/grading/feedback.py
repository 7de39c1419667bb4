"""Feedback a student may read: their notebook, visible tests, results, no hidden tests.

Built by the grader from the executed notebook: the grader's probe cells are dropped, each
test cell shows its *released* (visible) source, a failing test shows only its exception and
message (no traceback, which would quote hidden lines), and every output line that contains
a hidden-test or mark-scheme line is replaced; a teaching cell the grader skipped says so. A
last check refuses to write feedback that still holds such a line or a marker.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from medganlab.grading.feedback_html import notebook_html
from medganlab.grading.leaks import LEAK_MARKERS, scrub

__all__ = ["SKIPPED_NOTE", "feedback_notebook", "still_leaks", "write_feedback"]

SKIPPED_NOTE = nbformat.NotebookNode(
    output_type="stream",
    name="medganlab-note",
    text="Not run by the autograder: a teaching cell (tagged medganlab-skip) that no graded "
    "cell needs.\n",
)


def _clean_output(output, secret: set[str]):
    output = copy.deepcopy(output)
    kind = output.get("output_type")
    if kind == "stream":
        output["text"] = scrub(output.get("text", ""), secret)
    elif kind == "error":
        output["evalue"] = scrub(str(output.get("evalue", "")), secret)
        output["traceback"] = [f"{output.get('ename', 'Error')}: {output['evalue']}"]
    elif kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        for mime, value in list(data.items()):
            if isinstance(value, (str, list)) and not mime.startswith("image/"):
                text = "".join(value) if isinstance(value, list) else value
                data[mime] = scrub(text, secret)  # widget views (dicts) carry no source
    return output


def feedback_notebook(
    executed: nbformat.NotebookNode,
    release: nbformat.NotebookNode,
    secret: set[str],
    summary: str,
) -> nbformat.NotebookNode:
    """The student's view of an executed, merged notebook (see the module docstring)."""
    shown = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in release.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
    }
    cells = [nbformat.v4.new_markdown_cell(summary)]
    for cell in executed.cells:
        info = cell.metadata.get("medganlab", {})
        role = info.get("role")
        if role == "injected":
            continue
        new = copy.deepcopy(cell)
        new.metadata = {"medganlab": {"role": role}}
        if role in ("test", "readonly"):
            new.source = shown.get(info.get("grade_id"), "")
        if info.get("skip"):
            new.outputs = [copy.deepcopy(SKIPPED_NOTE)]
            cells.append(new)
            continue
        if new.cell_type == "code":
            keep_traceback = role not in ("test", "readonly")
            outputs = []
            for output in cell.get("outputs", []):
                clean = _clean_output(output, secret)
                if keep_traceback and output.get("output_type") == "error":
                    clean["traceback"] = [
                        scrub(line, secret) for line in output.get("traceback", [])
                    ]
                outputs.append(clean)
            new.outputs = outputs
        cells.append(new)
    nb = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(executed.metadata))
    return nb


def still_leaks(nb: nbformat.NotebookNode, secret: set[str]) -> str | None:
    """The first hidden line or marker left anywhere in ``nb`` (None when clean)."""
    parts = []
    for cell in nb.cells:
        if cell.metadata.get("medganlab", {}).get("role") not in ("student", "answer", "manual"):
            parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts += [str(output.get(k, "")) for k in ("text", "evalue", "traceback", "data")]
    body = "\n".join(parts)
    match = LEAK_MARKERS.search(body)
    if match:
        return match.group(0)
    return next((line for line in sorted(secret) if line in body), None)


def write_feedback(nb: nbformat.NotebookNode, target: Path) -> Path:
    """Write ``nb`` as a self-contained HTML page (see :mod:`.feedback_html`)."""
    html = notebook_html(nb, title=target.stem)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(html)
    tmp.replace(target)
    return target
