"""Grade a whole class: find every notebook, grade each in parallel, write the grade sheets.

Nothing is lost silently: every notebook found is graded or listed with the reason it was
not, and every row of ``grades.csv`` says ``ok`` / ``flagged`` / ``failed`` and why.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from medganlab.grading.autograde import GradeResult, autograde_submission
from medganlab.grading.course import Course, ungraded
from medganlab.grading.sandbox import Sandbox, detect
from medganlab.parallel import default_workers, parallel_map

__all__ = ["CSV_COLUMNS", "Found", "find_submissions", "grade_cohort", "scan_submissions"]

log = logging.getLogger("medganlab.grading")
CSV_COLUMNS = (
    "student", "assignment", "score", "max_score", "auto_score", "auto_max_score",
    "manual_pending", "status", "reason", "feedback_written", "isolation", "seconds", "file",
)  # fmt: skip


@dataclass
class Found:
    """One student's hand-in: the notebook to grade (or None) and what else was there."""

    student: str
    path: Path | None
    notes: list[str] = field(default_factory=list)


def _notebooks(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*.ipynb")
        if not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _choose(student: str, notebooks: list[Path], assignment: str, folder: Path) -> Found:
    if not notebooks:
        return Found(student, None, ["no notebook in the student's folder"])
    exact = [p for p in notebooks if p.name == f"{assignment}.ipynb"]
    named = [p for p in notebooks if assignment in p.stem]
    if len(notebooks) == 1:
        chosen, why = notebooks[0], ""
    elif exact:
        chosen, why = sorted(exact, key=lambda p: len(p.parts))[0], ""
    elif len(named) == 1:
        chosen, why = named[0], ""
    else:
        pool = named or notebooks
        chosen = max(pool, key=lambda p: p.stat().st_mtime)
        why = "several notebooks and none named as the assignment: graded the newest"
    found = Found(student, chosen)
    if chosen.name != f"{assignment}.ipynb":
        found.notes.append(f"graded {chosen.relative_to(folder)} (named differently)")
    if why:
        found.notes.append(why)
    extras = [str(p.relative_to(folder)) for p in notebooks if p != chosen]
    if extras:
        found.notes.append("not graded (extra notebooks): " + ", ".join(extras))
    return found


def scan_submissions(submissions: Path, assignment: str) -> tuple[list[Found], list[str]]:
    """Every student's hand-in, and the files that belong to no student.

    A folder per student (nbgrader's ``<student>/<assignment>/<assignment>.ipynb`` or any
    notebook inside ``<student>/``, whatever its name) or ``<student>.ipynb`` files.
    """
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise FileNotFoundError(f"{submissions}: no such folder of submissions")
    found: dict[str, Found] = {}
    stray: list[str] = []
    for entry in sorted(submissions.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found[entry.name] = _choose(entry.name, _notebooks(entry), assignment, submissions)
        elif entry.suffix == ".ipynb":
            if entry.stem in found:
                stray.append(f"{entry.name}: not graded, {entry.stem}/ is graded instead")
            else:
                found[entry.stem] = Found(entry.stem, entry)
        else:
            stray.append(f"{entry.name}: not a notebook, not graded")
    return list(found.values()), stray


def find_submissions(submissions: Path, assignment: str) -> dict[str, Path]:
    """Map student → notebook for a folder of submissions (see :func:`scan_submissions`)."""
    found, _ = scan_submissions(submissions, assignment)
    chosen = {f.student: f.path for f in found if f.path is not None}
    if not chosen:
        raise FileNotFoundError(
            f"{submissions}: no submissions of {assignment}; expected "
            f"<student>/{assignment}/{assignment}.ipynb, <student>/*.ipynb or <student>.ipynb"
        )
    return chosen


def _grade_one(job: tuple) -> dict:
    course_root, assignment, path, student, out, timeout, wall, env, sandbox = job
    try:
        result = autograde_submission(
            Course(Path(course_root)),
            assignment,
            Path(path),
            student,
            feedback_dir=Path(out) / "feedback",
            timeout=timeout,
            wall_timeout=wall,
            env=env,
            sandbox=sandbox,
            autograded_dir=Path(out) / "autograded",
        )
    except Exception as exc:  # one submission's crash never stops the batch
        result = GradeResult(student=student, assignment=assignment, file=str(path))
        result.error = f"grader error: {type(exc).__name__}: {exc}"
        result.note(result.error, "failed")
    return result.as_dict()


def _check_reference(course: Course, assignment: str, env: dict, timeout, wall) -> None:
    """Run the solution once, unsandboxed (trusted), which also builds the cached data sets
    the sandboxed kernels read; it must score full marks or grading would be unfair."""
    result = autograde_submission(
        course,
        assignment,
        course.source_notebook(assignment),
        "reference-solution",
        timeout=timeout,
        wall_timeout=wall,
        env=env,
        sandbox=Sandbox("none", reason="the course's own solution (trusted)"),
    )
    lost = [c["name"] for c in result.cells if c["auto_score"] not in (None, c["max_score"])]
    if result.error or lost:
        raise RuntimeError(
            f"{assignment}: the solution does not score full marks in the grader "
            f"({result.error or 'tests failing: ' + ', '.join(lost)}); fix that first"
        )


def grade_cohort(
    course: Course,
    assignment: str,
    submissions: Path,
    out: Path,
    workers: int = 2,
    timeout: int | None = None,
    wall_timeout: int | None = None,
    env: dict[str, str] | None = None,
    reference: bool = True,
    only: list[str] | None = None,
) -> list[dict]:
    """Autograde every submission in parallel; write ``grades.csv``, ``grades.json``, feedback.

    Each submission runs in its own sandbox (see :mod:`medganlab.grading.sandbox`); a crash,
    a kernel death or a malformed notebook affects only that student's row, which says why.
    Files that belong to no student are listed in ``not_graded.txt``.

    Args:
        env: the kernels' settings, passed to every worker (default: the smoke profile).
        reference: first run the solution once (builds cached data, proves full marks).
        only: grade only these students (one pod of a Kubernetes Job grades one).
    """
    if assignment not in course.assignments():
        raise ValueError(
            f"unknown assignment {assignment!r}; expected one of: {', '.join(course.assignments())}"
        )
    found, stray = scan_submissions(submissions, assignment)
    if only:
        found = [f for f in found if f.student in set(only)]
    if not found:
        find_submissions(submissions, assignment)  # raises with the expected layouts
    env = dict(env or {"MEDGANLAB_PROFILE": "smoke"})
    # Kernels share the cores: one worker's kernel gets cores // workers threads, no more.
    threads = str(max(1, default_workers() // max(1, workers)))
    for key in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(key, threads)
    # TF_NUM_INTEROP_THREADS stays TensorFlow's default: 1 deadlocked a tf.data cell.
    sandbox = detect()
    if reference and assignment not in ungraded():
        _check_reference(course, assignment, env, timeout, wall_timeout)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [
        (
            str(course.root),
            assignment,
            str(f.path),
            f.student,
            str(out),
            timeout,
            wall_timeout,
            env,
            sandbox,
        )  # fmt: skip
        for f in found
        if f.path is not None
    ]
    graded = {
        r["student"]: r
        for r in parallel_map(_grade_one, jobs, workers, "grading", start_method="spawn")
    }
    rows = []
    for f in found:
        if f.path is None:
            row = GradeResult(student=f.student, assignment=assignment, isolation=sandbox.mode)
            row.note("; ".join(f.notes), "failed")
            rows.append(row.as_dict())
            continue
        row = graded[f.student]
        for text in f.notes:
            row["reason"] = f"{text}; {row['reason']}" if row["reason"] else text
            if text.startswith("several") and row["status"] == "ok":
                row["status"] = "flagged"
        rows.append(row)
    _write(out, assignment, rows, stray)
    return rows


def _write(out: Path, assignment: str, rows: list[dict], stray: list[str]) -> None:
    (out / "grades.json").write_text(json.dumps(rows, indent=1) + "\n")
    with open(out / "grades.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow([_cell(row.get(k)) for k in CSV_COLUMNS])
    (out / "not_graded.txt").write_text("".join(f"{line}\n" for line in stray))
    for line in stray:
        log.warning("not graded: %s", line)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return ""
    return str(value).replace("\n", " ")
