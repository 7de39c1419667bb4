"""Plausible wrong answers (tests/mutants/NN_slug.py) must each fail a *visible* test.

Format and rules: tests/mutants/README.md. Per assignment, one kernel runs the *released*
notebook (visible tests only) with the solution's answer cells put in, in the smoke profile:

1. every cell up to the first test cell after the last answer cell, then only the test
   cells after it (the training, evaluation and export cells that follow are never needed by
   a test; a test that needs one fails step 2 loudly);
2. every visible test cell must pass with the unmutated answers (a broken runner, or a test
   that cannot pass, fails here instead of letting mutants "fail" for the wrong reason);
3. per mutant: run the mutated answer cell, then the test cells after it until one fails
   with an error whose ``ename: evalue`` contains ``expect`` (case-insensitive); then run the
   original answer cell again (a mutant's effect on shared fixtures, such as a GAN it
   trained, is not undone: tests build what they judge, or compare before and after).

The static checks (``old`` occurs once, three mutants per graded function) run without a
kernel and are not marked slow.
"""

from __future__ import annotations

import copy
import importlib.util
import time
from pathlib import Path

import nbformat
import pytest

from conftest import REPO

MUTANT_DIR = REPO / "tests" / "mutants"
MUTANT_FILES = sorted(p for p in MUTANT_DIR.glob("[0-9][0-9]_*.py"))
ASSIGNMENTS = [p.stem for p in MUTANT_FILES]
CELL_TIMEOUT = 300  # seconds; a mutant that hangs fails loudly instead of stalling CI


def load_mutants(assignment: str) -> list[dict]:
    path = MUTANT_DIR / f"{assignment}.py"
    spec = importlib.util.spec_from_file_location(f"mutants_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.MUTANTS)


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_answer(cell) -> bool:
    """An autograded answer cell (code, solution, not graded itself)."""
    meta = _nbgrader(cell)
    return cell.cell_type == "code" and meta.get("solution", False) and not meta.get("grade")


def is_test(cell) -> bool:
    """A locked, graded test cell (code)."""
    meta = _nbgrader(cell)
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution")


def solution_answers(assignment: str) -> dict[str, str]:
    """grade_id -> source of every answer cell of the solution notebook."""
    nb = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {_nbgrader(c)["grade_id"]: c.source for c in nb.cells if is_answer(c)}


def released_with_answers(assignment: str) -> nbformat.NotebookNode:
    """The released notebook (visible tests only) with the solution's answers put in."""
    nb = nbformat.read(REPO / "notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    answers = solution_answers(assignment)
    for cell in nb.cells:
        if is_answer(cell):
            grade_id = _nbgrader(cell)["grade_id"]
            assert grade_id in answers, f"{assignment}: no solution for answer cell {grade_id}"
            cell.source = answers[grade_id]
    return nb


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_mutants_are_well_formed(assignment):
    """Every mutant names a real answer cell and text in it; three per graded function."""
    answers = solution_answers(assignment)
    problems, per_cell = [], dict.fromkeys(answers, 0)
    for m in load_mutants(assignment):
        missing = {"grade_id", "name", "old", "new", "expect"} - set(m)
        if missing:
            problems.append(f"{m.get('name', m)}: missing {sorted(missing)}")
            continue
        if m["grade_id"] not in answers:
            problems.append(f"{m['name']}: no answer cell {m['grade_id']!r}")
            continue
        found = answers[m["grade_id"]].count(m["old"])
        if found != 1:
            problems.append(f"{m['name']}: `old` occurs {found} times in {m['grade_id']}")
        per_cell[m["grade_id"]] += 1
    few = {gid: n for gid, n in per_cell.items() if n < 3}
    if few:
        problems.append(f"graded functions with fewer than three mutants: {few}")
    assert not problems, f"{assignment}:\n  " + "\n  ".join(problems)


class Kernel:
    """One nbclient kernel that runs cells of one notebook and reports failures."""

    def __init__(self, nb, workdir: Path):
        from nbclient import NotebookClient

        self.nb = nb
        # nbclient stores each executed cell back into nb.cells: keep the sources apart
        self.sources = [c.source for c in nb.cells]
        self.client = NotebookClient(
            nb,
            timeout=CELL_TIMEOUT,
            kernel_name="python3",
            allow_errors=False,
            resources={"metadata": {"path": str(workdir)}},
        )

    def run(self, index: int, source: str | None = None) -> str | None:
        """Run cell ``index`` (with ``source`` instead of its own); return the error or None."""
        from nbclient.exceptions import CellExecutionError

        cell = copy.deepcopy(self.nb.cells[index])
        cell.source = self.sources[index] if source is None else source
        try:
            self.client.execute_cell(cell, index)
        except CellExecutionError as error:
            return f"{error.ename}: {error.evalue}"
        return None


def run_assignment(assignment: str, workdir: Path) -> tuple[list[str], dict]:
    """Run every mutant of one assignment; return (problems, timings)."""
    nb = released_with_answers(assignment)
    cells = nb.cells
    answers = {_nbgrader(c)["grade_id"]: i for i, c in enumerate(cells) if is_answer(c)}
    tests = [i for i, c in enumerate(cells) if is_test(c)]
    # every code cell up to the first test after the last answer (that test's fixtures
    # included), then only the remaining test cells
    first_test_after = min(t for t in tests if t > max(answers.values()))
    setup = [
        i
        for i, c in enumerate(cells)
        if c.cell_type == "code" and (i <= first_test_after or i in tests)
    ]
    kernel, problems, timings = Kernel(nb, workdir), [], {}

    def check_all_pass(when: str) -> None:
        for i in tests:
            begin = time.perf_counter()
            error = kernel.run(i)
            timings[f"{when}: {_nbgrader(cells[i])['grade_id']}"] = round(
                time.perf_counter() - begin, 1
            )
            if error:
                gid = _nbgrader(cells[i])["grade_id"]
                problems.append(f"{when}: the solution fails visible test {gid}: {error[:300]}")

    start = time.perf_counter()
    with kernel.client.setup_kernel():
        for i in setup:
            error = kernel.run(i)
            if error and i not in tests:
                pytest.fail(f"{assignment}: cell {i} of the released notebook fails: {error}")
        timings["setup_s"] = round(time.perf_counter() - start, 1)
        check_all_pass("before the mutants")
        if problems:  # a runner that cannot run the solution must not judge mutants
            return problems, timings
        mutants_start = time.perf_counter()
        for m in load_mutants(assignment):
            index = answers[m["grade_id"]]
            original = kernel.sources[index]
            if original.count(m["old"]) != 1:
                problems.append(f"{m['grade_id']}: {m['name']}: `old` not found once")
                continue
            seen = []
            error = kernel.run(index, original.replace(m["old"], m["new"]))
            if error:  # a mutant must be a wrong *answer*, not code that cannot run
                problems.append(f"{m['grade_id']}: {m['name']}: the mutated cell raised {error}")
            else:
                for i in (t for t in tests if t > index):
                    error = kernel.run(i)
                    if error:
                        seen.append(f"{_nbgrader(cells[i])['grade_id']}: {error[:200]}")
                        if m["expect"].lower() in error.lower():
                            break
                else:
                    problems.append(
                        f"SURVIVED {m['grade_id']}: {m['name']} (expected a visible test to say "
                        f"{m['expect']!r}; the tests said: {seen or 'nothing, all passed'})"
                    )
            restore = kernel.run(index)
            if restore:
                problems.append(f"{m['grade_id']}: the original answer no longer runs: {restore}")
        timings["mutants_s"] = round(time.perf_counter() - mutants_start, 1)
    timings["total_s"] = round(time.perf_counter() - start, 1)
    return problems, timings


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_mutant_fails_a_visible_test(assignment, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDGANLAB_PROFILE", "smoke")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("MEDGANLAB_BUILD", str(tmp_path / "build"))
    monkeypatch.setenv("MEDGANLAB_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    problems, timings = run_assignment(assignment, tmp_path)
    print(f"{assignment}: {timings}")
    assert not problems, f"{assignment}: {len(problems)} problem(s):\n  " + "\n  ".join(problems)
