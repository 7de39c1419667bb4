"""Autograde one submission: merge, run sandboxed, score in the grader, write feedback.

The kernel never sees the source notebook, the gradebook or any grading output: it gets a
scratch folder with the release's files and is sent the merged cells one by one. Scores are
computed here, from the executed cells, after the kernel is gone.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import nbformat

from medganlab.grading.course import Course
from medganlab.grading.execute import kernel_environment, new_token, run_notebook
from medganlab.grading.feedback import feedback_notebook, still_leaks, write_feedback
from medganlab.grading.leaks import hidden_lines
from medganlab.grading.merge import PROBE_PREFIX, merge_submission
from medganlab.grading.sandbox import Sandbox, detect
from medganlab.grading.warm import seed_scratch

__all__ = [
    "CELL_TIMEOUT",
    "GradeResult",
    "WALL_TIMEOUT",
    "autograde_submission",
    "max_points",
]

CELL_TIMEOUT = 180  # seconds per cell (as c.Execute.timeout in nbgrader_config.py)
WALL_TIMEOUT = 900  # seconds per submission


@dataclass
class GradeResult:
    """One submission's autograding outcome.

    ``status`` is ``ok`` (graded, nothing to check), ``flagged`` (graded; a person should
    look: see ``reason``) or ``failed`` (not graded: see ``reason``).
    """

    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    auto_score: float = 0.0
    auto_max_score: float = 0.0
    manual_pending: float = 0.0  # points of written answers awaiting a person
    status: str = "ok"
    reason: str = ""
    cells: list[dict] = field(default_factory=list)
    error: str | None = None
    feedback: str | None = None
    feedback_written: bool = False
    isolation: str = ""
    seconds: float = 0.0
    file: str = ""
    kernel_cpu_seconds: float = 0.0  # the kernel's process tree (user + system)
    grader_cpu_seconds: float = 0.0  # this process: merge, drive the kernel, score, feedback

    def as_dict(self) -> dict:
        return asdict(self)

    def note(self, text: str, status: str | None = None) -> None:
        self.reason = f"{self.reason}; {text}" if self.reason else text
        order = {"ok": 0, "flagged": 1, "failed": 2}
        if status and order[status] > order[self.status]:
            self.status = status


def _graded(nb) -> list:
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def max_points(source: nbformat.NotebookNode) -> tuple[float, float]:
    """(total points, autograded points) of a source notebook."""
    total = auto = 0.0
    for cell in _graded(source):
        meta = cell.metadata["nbgrader"]
        total += float(meta.get("points", 0))
        if not meta.get("solution"):
            auto += float(meta.get("points", 0))
    return total, auto


def _failed(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"
    return None


def _score(result: GradeResult, executed, ran: list[bool]) -> None:
    for index, cell in enumerate(executed.cells):
        info = cell.metadata.get("medganlab", {})
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        points = float(meta.get("points", 0))
        manual = bool(meta.get("solution"))
        auto = None if manual else (points if ran[index] and not _failed(cell) else 0.0)
        result.cells.append(
            {
                "name": info.get("grade_id", meta.get("grade_id")),
                "score": auto or 0.0,
                "auto_score": auto,
                "max_score": points,
                "needs_manual_grade": manual,
            }
        )
    result.max_score = sum(c["max_score"] for c in result.cells)
    result.score = sum(c["score"] for c in result.cells)
    result.auto_max_score = sum(c["max_score"] for c in result.cells if c["auto_score"] is not None)
    result.auto_score = sum(c["auto_score"] or 0.0 for c in result.cells)
    result.manual_pending = sum(c["max_score"] for c in result.cells if c["needs_manual_grade"])


def _probes(executed) -> list[str]:
    replaced: set[str] = set()
    broken = False
    for cell in executed.cells:
        if cell.metadata.get("medganlab", {}).get("role") != "injected":
            continue
        text = "".join(o.get("text", "") for o in cell.get("outputs", []))
        if "_medganlab_testing" in cell.source:
            continue
        if PROBE_PREFIX not in text:
            broken = broken or bool(cell.get("outputs"))
            continue
        line = text.split(PROBE_PREFIX, 1)[1].splitlines()[0]
        try:
            replaced |= set(json.loads(line).get("replaced", []))
        except ValueError:
            broken = True
    flags = [f"student code replaced {name} before a test" for name in sorted(replaced)]
    if broken:
        flags.append("the grader's tamper probe did not run normally")
    return flags


def _cell_number(executed, index: int) -> int:
    """1-based number of a cell in the student's own view (grader probes not counted)."""
    return sum(
        1
        for c in executed.cells[: index + 1]
        if c.metadata.get("medganlab", {}).get("role") != "injected"
    )


def _mounts(sandbox: Sandbox) -> dict[str, Path]:
    from medganlab.paths import artifacts_dir, data_dir

    mounts = {"data": data_dir(), "artifacts": artifacts_dir()}
    if sandbox.as_nobody:
        for folder in mounts.values():
            _world_readable(str(folder))
    return mounts


@cache
def _world_readable(folder: str) -> None:
    """Let the sandbox's ``nobody`` read the data sets (atomic writes leave files 0600)."""
    import os
    import stat

    entries = [(folder, 0o005)] if os.path.isdir(folder) else []
    for base, dirs, files in os.walk(folder):
        entries += [(os.path.join(base, d), 0o005) for d in dirs]
        entries += [(os.path.join(base, f), 0o004) for f in files]
    for path, extra in entries:
        try:
            mode = os.lstat(path).st_mode
            if not stat.S_ISLNK(mode) and (mode & extra) != extra:
                os.chmod(path, stat.S_IMODE(mode) | extra)
        except OSError:
            continue


def autograde_submission(
    course: Course,
    assignment: str,
    submission: Path,
    student: str = "pretend_student",
    feedback_dir: Path | None = None,
    timeout: int | None = None,
    *,
    wall_timeout: int | None = None,
    env: dict[str, str] | None = None,
    sandbox: Sandbox | None = None,
    autograded_dir: Path | None = None,
) -> GradeResult:
    """Autograde one submitted notebook in a sandboxed kernel and return its grades.

    Never raises for a bad submission: an unreadable notebook, a crash, a kernel death or
    tampered metadata gives a result whose ``status``/``reason`` say what happened, with
    the points of what could be graded.

    Args:
        timeout: seconds per cell (default :data:`CELL_TIMEOUT`).
        wall_timeout: seconds for the whole notebook (default :data:`WALL_TIMEOUT`).
        env: the kernel's settings (e.g. ``{"MEDGANLAB_PROFILE": "smoke"}``), passed in;
            the grader's own environment is never copied into the kernel.
        sandbox: how to isolate the kernel (default: :func:`~medganlab.grading.sandbox.detect`).
        autograded_dir: where to keep the executed notebook (instructor-only: it holds the
            hidden tests).
    """
    started = time.process_time()
    result = GradeResult(student=student, assignment=assignment, file=str(submission))
    source = nbformat.read(course.source_notebook(assignment), as_version=4)
    release_path = course.release_notebook(assignment)
    release = nbformat.read(release_path, as_version=4)
    result.max_score, result.auto_max_score = max_points(source)
    result.manual_pending = result.max_score - result.auto_max_score
    try:
        student_nb = nbformat.read(Path(submission), as_version=4)
    except Exception as exc:  # malformed JSON, not a notebook, missing file
        result.error = f"{Path(submission).name}: not a readable notebook ({exc})"
        result.note(result.error, "failed")
        return result
    sandbox = sandbox or detect()
    result.isolation = sandbox.mode
    merged = merge_submission(source, release, student_nb)
    for text in merged.repairs:
        result.note(f"repaired: {text}")
    for text in merged.flags:
        result.note(text, "flagged")
    nb = merged.notebook
    with tempfile.TemporaryDirectory(prefix="medganlab-grade-") as tmp:
        scratch, run_dir = Path(tmp) / "work", Path(tmp) / "run"
        shutil.copytree(
            release_path.parent,
            scratch,
            ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__"),
        )
        mounts = _mounts(sandbox)
        kernel_env = kernel_environment(
            dict(env or {"MEDGANLAB_PROFILE": "smoke"}), scratch, sandbox, new_token(), mounts
        )
        if Path(kernel_env["MPLCONFIGDIR"]).is_relative_to(scratch):
            seed_scratch(scratch, Path(kernel_env["MPLCONFIGDIR"]))
        outcome = run_notebook(
            nb,
            sandbox=sandbox,
            scratch=scratch,
            run_dir=run_dir,
            env=kernel_env,
            mounts=mounts,
            cell_timeout=timeout or CELL_TIMEOUT,
            wall_timeout=wall_timeout or WALL_TIMEOUT,
        )
    result.seconds = round(outcome.seconds, 2)
    result.kernel_cpu_seconds = round(outcome.kernel_cpu, 2)
    _score(result, nb, outcome.ran)
    if outcome.start_error:
        result.error = f"the kernel did not start: {outcome.start_error}"
        result.note(result.error, "failed")
    if outcome.died_in is not None:
        result.error = f"kernel died in cell {_cell_number(nb, outcome.died_in)}"
        result.note(f"{result.error}; the cells after it were not run", "flagged")
    if outcome.timed_out_in is not None:
        result.error = (
            f"submission time limit ({wall_timeout or WALL_TIMEOUT} s) reached in cell "
            f"{_cell_number(nb, outcome.timed_out_in)}"
        )
        result.note(f"{result.error}; the cells after it were not run", "flagged")
    if outcome.leftovers_killed:
        result.note(f"{outcome.leftovers_killed} leftover process(es) killed", "flagged")
    for text in _probes(nb):
        result.note(text, "flagged")
    if not sandbox.isolated:
        result.note(f"not sandboxed: {sandbox.reason}", "flagged")
    if autograded_dir is not None:
        autograded_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, autograded_dir / f"{student}.ipynb")
    if feedback_dir is not None:
        _feedback(result, nb, release, hidden_lines(source), Path(feedback_dir))
    result.grader_cpu_seconds = round(time.process_time() - started, 2)
    return result


def _feedback(result: GradeResult, nb, release, secret: set[str], folder: Path) -> None:
    summary = (
        f"# Feedback: {result.assignment}\n\n**{result.student}**: {result.score:g} / "
        f"{result.max_score:g} points"
        + (f" ({result.manual_pending:g} awaiting manual grading)" if result.manual_pending else "")
        + "\n\nA failing test shows its message only; hidden tests are not shown."
    )
    try:
        student_view = feedback_notebook(nb, release, secret, summary)
        leak = still_leaks(student_view, secret)
        if leak is not None:
            result.note("feedback withheld: it would show hidden test text", "flagged")
            return
        target = write_feedback(student_view, folder / f"{result.student}.html")
    except Exception as exc:  # report, never lose the grade
        result.note(f"feedback not written: {type(exc).__name__}: {exc}", "flagged")
        return
    result.feedback = str(target)
    result.feedback_written = True
