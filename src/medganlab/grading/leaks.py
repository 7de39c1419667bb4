"""What gives answers away: markers, solution and hidden-test lines, outputs, sources."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import nbformat

__all__ = ["LEAK_MARKERS", "find_leaks", "hidden_lines", "secret_lines", "scrub"]

LEAK_MARKERS = re.compile(
    r"BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS|BEGIN MARK SCHEME|"
    r"END MARK SCHEME|### AUTOTEST|### HASHED AUTOTEST"
)
_REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.DOTALL)
_MARK_SCHEME = re.compile(r"=== BEGIN MARK SCHEME ===(.*?)=== END MARK SCHEME ===", re.DOTALL)
MIN_LINE = 12  # shorter lines ("assert True") are too common to call a leak


def _distinct(lines: Iterable[str]) -> set[str]:
    return {line.strip() for line in lines if len(line.strip()) >= MIN_LINE}


def hidden_lines(source_nb: nbformat.NotebookNode) -> set[str]:
    """Distinctive lines of the hidden tests and mark schemes (never shown to a student)."""
    lines: list[str] = []
    for cell in source_nb.cells:
        for match in _REGION.finditer(cell.source):
            if match.group(1) == "HIDDEN TESTS":
                lines += match.group(2).splitlines()
        for match in _MARK_SCHEME.finditer(cell.source):
            lines += match.group(1).splitlines()
    return _distinct(lines)


def secret_lines(source_nb: nbformat.NotebookNode) -> set[str]:
    """Distinctive lines inside solution, hidden-test and mark-scheme regions."""
    lines: list[str] = []
    for cell in source_nb.cells:
        for match in _REGION.finditer(cell.source):
            lines += match.group(2).splitlines()
        for match in _MARK_SCHEME.finditer(cell.source):
            lines += match.group(1).splitlines()
    return _distinct(lines)


def scrub(text: str, secret: set[str], note: str = "[hidden test text removed]") -> str:
    """``text`` with every line that contains a secret line or a marker replaced by ``note``."""
    if not text:
        return text
    out = []
    for line in text.splitlines(keepends=True):
        if LEAK_MARKERS.search(line) or any(s in line for s in secret):
            out.append(note + ("\n" if line.endswith("\n") else ""))
        else:
            out.append(line)
    return "".join(out)


def find_leaks(release_dir: Path, source_notebooks: Iterable[Path]) -> list[str]:
    """What under ``release_dir`` gives answers away: markers, solution lines, outputs, sources.

    ``release_dir`` is one assignment's release folder (or a whole release tree) and
    ``source_notebooks`` the sources whose answers it must not contain. A later assignment
    may show an earlier one's answer on purpose (it is released after that deadline), so
    check each assignment against its own source.

    Returns human-readable problems (empty when the release is clean).
    """
    secret: set[str] = set()
    for path in source_notebooks:
        secret |= secret_lines(nbformat.read(path, as_version=4))
    problems = []
    for path in sorted(Path(release_dir).rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(release_dir)
        if path.suffix == ".py":
            problems.append(f"{rel}: a Python source in the release (solutions' authoring file?)")
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        if LEAK_MARKERS.search(text):
            problems.append(f"{rel}: contains a solution/hidden-test/mark-scheme marker")
        if path.suffix == ".ipynb":
            nb = nbformat.reads(text, as_version=4)
            body = "\n".join(c.source for c in nb.cells)
            leaked = sorted(line for line in secret if line in body)
            if leaked:
                problems.append(f"{rel}: contains solution or hidden-test code: {leaked[0]!r}")
            if any(
                c.get("outputs") or c.get("execution_count")
                for c in nb.cells
                if c.cell_type == "code"
            ):
                problems.append(f"{rel}: has outputs or execution counts")
    return problems
