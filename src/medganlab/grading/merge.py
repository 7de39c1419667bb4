"""Build the notebook the grader runs: the student's answers in the release's structure.

The grader, not the kernel, restores every locked cell (tests with their hidden part,
read-only cells) from the *source* notebook and repairs tampered metadata from the release:

- a graded cell is found by its ``grade_id``, else by its cell id (the course's ids are the
  grade ids), else by its position among the cells of its kind (a renamed grade id);
- a duplicated graded cell counts once (a duplicated answer becomes a plain cell);
- points, cell types and locked cells come from the source; a missing graded cell is put
  back (an answer as the release's stub, so it scores nothing);
- student code that tampers with the tests (replacing NumPy's comparisons, subclassing
  ``float``, IPython's exception hooks, process tricks...) is flagged for review.

Each cell of the result carries ``metadata.medganlab.role``: ``test``, ``readonly``,
``answer`` (autograded answer), ``manual`` (written answer), ``student`` (any other cell of
the student's) or ``injected`` (the grader's own probes, never shown).

Teaching cells the author tagged ``medganlab-skip`` in the source (00's Keras warm-up: no
exercise needs it, and importing Keras was most of a graded kernel's CPU time) get
``metadata.medganlab.skip`` and are not run, but only when it cannot change a score: the
student's copy is unchanged from the release and no cell that does run mentions a name the
skipped cells define (any mention, even in a string, runs the whole notebook).
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field

import nbformat

__all__ = ["Merged", "PROBE_PREFIX", "SKIP_TAG", "merge_submission", "scan_for_tampering"]

SKIP_TAG = "medganlab-skip"  # a teaching cell the grader may leave out (see the docstring)

PROBE_PREFIX = "MEDGANLAB-PROBE "
_PREAMBLE = "import medganlab.testing as _medganlab_testing  # grader: capture references"
_PROBE = 'print(__import__("medganlab.testing").testing.tamper_report())  # grader probe'

# (pattern, reason): cheap ways to fool in-kernel tests; a hit flags the row for review.
TAMPERING = (
    (
        r"\b(np|numpy|math|builtins|medganlab[\w.]*|testing)\.\w+\s*=[^=]",
        "replaces a library function the tests use",
    ),
    (r"\bsetattr\(\s*(np|numpy|math|builtins|medganlab)", "replaces a library function"),
    (
        r"class\s+\w+\s*\([^)]*\b(float|int|complex|ndarray|np\.\w+|numpy\.\w+)\b",
        "subclasses a number or array type",
    ),
    (
        r"__(eq|ne|lt|le|gt|ge|bool|abs|float)__\s*=|def\s+__(eq|lt|gt|le|ge|bool)__",
        "overrides comparisons",
    ),
    (r"set_custom_exc|input_transformers|ast_transformers|events\.register", "hooks IPython"),
    (r"\bsys\.(settrace|setprofile|excepthook|modules\[)|__builtins__", "hooks the interpreter"),
    (r"\b_ih\b|\bIn\s*\[|history_manager|\b_i\d+\b", "reads the cells the grader ran"),
    (r"start_new_session|setsid|\bos\.fork\b|daemon\s*=\s*True|nohup|disown", "detaches a process"),
    (r"gradebook|solutions/|autograded", "looks for grading files"),
    (r"\bos\._exit\b|\bos\.kill\b", "ends the kernel on purpose"),
    (r"\bctypes\b|\bgc\.get_(referrers|objects)\b", "reaches into the interpreter"),
)


@dataclass
class Merged:
    """The notebook to run plus what was repaired and what looks like tampering."""

    notebook: nbformat.NotebookNode
    repairs: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _kind(meta: dict) -> str:
    return "answer" if meta.get("solution") else "locked"


def _role(meta: dict, cell_type: str) -> str:
    if meta.get("solution"):
        if meta.get("grade"):
            return "manual" if cell_type == "markdown" else "answer"
        return "answer"
    return "test" if meta.get("grade") else "readonly"


def _tag(cell, role: str, gid: str | None = None):
    cell.metadata["medganlab"] = {"role": role, **({"grade_id": gid} if gid else {})}
    return cell


def _new_cell(cell_type: str, source: str, metadata: dict):
    maker = {
        "code": nbformat.v4.new_code_cell,
        "markdown": nbformat.v4.new_markdown_cell,
    }.get(cell_type, nbformat.v4.new_raw_cell)
    cell = maker(source)
    cell.metadata = copy.deepcopy(metadata)
    return cell


def merge_submission(
    source: nbformat.NotebookNode,
    release: nbformat.NotebookNode,
    student: nbformat.NotebookNode,
    probes: bool = True,
) -> Merged:
    """Merge a student's notebook into the source's structure (see the module docstring)."""
    src = {_meta(c)["grade_id"]: c for c in source.cells if _meta(c).get("grade_id")}
    rel = {_meta(c)["grade_id"]: c for c in release.cells if _meta(c).get("grade_id")}
    order = list(src)
    merged = Merged(nbformat.v4.new_notebook())
    assign: list[tuple[str, str | None]] = []  # per student cell: (how, grade id)
    claimed: set[str] = set()
    unresolved: list[int] = []
    for index, cell in enumerate(student.cells):
        meta = _meta(cell)
        gid = meta.get("grade_id")
        found = gid if gid in src else (cell.get("id") if cell.get("id") in src else None)
        if found and gid and gid != found:
            merged.repairs.append(f"grade id {gid!r} renamed: restored {found!r} (cell id)")
        if found is None:
            assign.append(("unresolved" if gid else "plain", gid))
            if gid:
                unresolved.append(index)
            continue
        if found in claimed:
            merged.repairs.append(f"graded cell {found!r} duplicated: the copy is not graded")
            assign.append(("duplicate", found))
            continue
        claimed.add(found)
        assign.append(("graded", found))
    for index in unresolved:
        kind = _kind(_meta(student.cells[index]))
        gid = assign[index][1]
        match = next((g for g in order if g not in claimed and _kind(_meta(src[g])) == kind), None)
        if match is None:
            merged.repairs.append(f"unknown grade id {gid!r}: graded as a plain cell")
            assign[index] = ("plain", gid)
        else:
            merged.repairs.append(f"grade id {gid!r} is not in the release: restored {match!r}")
            claimed.add(match)
            assign[index] = ("graded", match)

    cells = []
    for cell, (how, gid) in zip(student.cells, assign, strict=True):
        meta = _meta(cell)
        if how in ("plain", "unresolved") or (
            how == "duplicate" and _kind(_meta(src[gid])) == "answer"
        ):
            plain = _new_cell(cell.cell_type, cell.source, {})
            cells.append(_tag(plain, "student"))
            continue
        if how == "duplicate":
            continue
        truth = src[gid]
        tmeta = _meta(truth)
        if meta.get("points") is not None and tmeta.get("points") is not None:
            if float(meta["points"]) != float(tmeta["points"]):
                merged.flags.append(
                    f"points of {gid!r} changed from {tmeta['points']} to {meta['points']}"
                )
        if _kind(tmeta) == "locked":
            shown = rel.get(gid, truth).source
            if cell.source.strip() not in (shown.strip(), truth.source.strip()) and tmeta.get(
                "grade"
            ):
                merged.repairs.append(f"test cell {gid!r} was edited: restored")
            cells.append(
                _tag(
                    _new_cell(truth.cell_type, truth.source, truth.metadata),
                    _role(tmeta, truth.cell_type),
                    gid,
                )
            )
        else:
            new = _new_cell(truth.cell_type, cell.source, truth.metadata)
            cells.append(_tag(new, _role(tmeta, truth.cell_type), gid))
    # Put back what is missing, after the graded cell that precedes it in the source.
    for position, gid in enumerate(order):
        if gid in claimed:
            continue
        truth = src[gid]
        tmeta = _meta(truth)
        if _kind(tmeta) == "locked":
            new = _new_cell(truth.cell_type, truth.source, truth.metadata)
        else:
            new = _new_cell(truth.cell_type, rel.get(gid, truth).source, truth.metadata)
        if tmeta.get("grade") or _kind(tmeta) == "answer":
            merged.repairs.append(f"graded cell {gid!r} was missing: restored from the release")
        previous = order[:position]
        at = 0
        for i, c in enumerate(cells):
            if c.metadata["medganlab"].get("grade_id") in previous:
                at = i + 1
        cells.insert(at, _tag(new, _role(tmeta, truth.cell_type), gid))
        claimed.add(gid)

    merged.flags += scan_for_tampering(cells)
    _mark_skippable(cells, release)
    final = []
    if probes:
        final.append(_tag(nbformat.v4.new_code_cell(_PREAMBLE), "injected"))
    for cell in cells:
        if probes and cell.metadata["medganlab"]["role"] == "test":
            final.append(_tag(nbformat.v4.new_code_cell(_PROBE), "injected"))
        final.append(cell)
    merged.notebook.cells = final
    merged.notebook.metadata = copy.deepcopy(source.metadata)
    return merged


def scan_for_tampering(cells) -> list[str]:
    """Reasons to review: student code that matches a known way of fooling the tests."""
    flags = []
    number = 0
    for cell in cells:
        role = cell.metadata.get("medganlab", {}).get("role")
        if role not in ("student", "answer") or cell.cell_type != "code":
            continue
        number += 1
        for pattern, reason in TAMPERING:
            hit = re.search(pattern, cell.source)
            if hit:
                flags.append(f"student code {reason}: {hit.group(0).strip()!r}")
    return sorted(set(flags))


def _bound_names(source: str) -> set[str] | None:
    """Every name a cell binds, at any depth (None: not plain Python, so unknown)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
    return names


def _mark_skippable(cells: list, release: nbformat.NotebookNode) -> None:
    """Mark the student's unchanged copies of tagged teaching cells ``skip`` when no cell
    that runs could need them; otherwise mark nothing (the whole notebook runs)."""
    tagged = {
        c.source.strip()
        for c in release.cells
        if c.cell_type == "code" and SKIP_TAG in c.get("metadata", {}).get("tags", [])
    }
    if not tagged:
        return
    skip = [
        c
        for c in cells
        if c.cell_type == "code"
        and c.metadata["medganlab"]["role"] == "student"
        and c.source.strip() in tagged
    ]
    names: set[str] = set()
    for cell in skip:
        bound = _bound_names(cell.source)
        if bound is None:
            return
        names |= bound
    if names:
        mention = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(names))) + r")\b")
        running = [c for c in cells if c.cell_type == "code" and not any(c is s for s in skip)]
        if any(mention.search(c.source) for c in running):
            return
    for cell in skip:
        cell.metadata["medganlab"]["skip"] = True
