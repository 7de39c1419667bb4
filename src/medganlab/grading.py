"""Release and grading tools around nbgrader (what ``make release|test`` and
``medganlab release|grade`` run).

nbgrader's command line exits 0 when tests fail, so everything here goes through its Python
API and checks results explicitly. Each autograding run happens in a private, temporary
course folder with its own gradebook, which makes runs independent (and parallel).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import tempfile
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from medganlab import authoring

__all__ = [
    "Course",
    "GradeResult",
    "LEAK_MARKERS",
    "load_nbgrader_config",
    "release",
    "validate",
    "autograde_submission",
    "find_leaks",
    "lint_source_notebook",
    "grade_cohort",
]

LEAK_MARKERS = re.compile(
    r"BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS|BEGIN MARK SCHEME|"
    r"END MARK SCHEME|### AUTOTEST|### HASHED AUTOTEST"
)
_REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.DOTALL)
_MARK_SCHEME = re.compile(r"=== BEGIN MARK SCHEME ===(.*?)=== END MARK SCHEME ===", re.DOTALL)
SKELETON = (
    (r"^# \S", "an H1 title as the first cell"),
    (r"^\*\*What you'll do\*\*|^## What you'll do", "'What you'll do'"),
    (r"What you'll learn", "'What you'll learn'"),
    (r"What you'll need", "'What you'll need'"),
    (r"^## Setup\b", "a '## Setup' section"),
    (r"^## Configuration\b", "a '## Configuration' section"),
    (r"^## Key points\b", "a '## Key points' section"),
    (r"^## Further reading\b", "a '## Further reading' section"),
)
MAX_CODE_LINES = 25


@dataclass(frozen=True)
class Course:
    """Where the course lives: the repository root and its nbgrader folders."""

    root: Path

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def config_file(self) -> Path:
        return self.root / "autograder" / "nbgrader_config.py"

    def assignments(self) -> list[str]:
        """Assignment folder names (``NN_slug``) that have a source notebook."""
        return [p.parent.name for p in authoring.source_files(self.solutions)]

    def source_notebook(self, assignment: str) -> Path:
        return self.solutions / assignment / f"{assignment}.ipynb"

    def release_notebook(self, assignment: str) -> Path:
        return self.notebooks / assignment / f"{assignment}.ipynb"


def load_nbgrader_config(config_file: Path, root: Path):
    """Load the course's nbgrader config with its root pointed at ``root``."""
    from traitlets.config.loader import PyFileConfigLoader

    old = os.environ.get("MEDGANLAB_COURSE_ROOT")
    os.environ["MEDGANLAB_COURSE_ROOT"] = str(root)
    try:
        config = PyFileConfigLoader(str(config_file)).load_config()
    finally:
        if old is None:
            os.environ.pop("MEDGANLAB_COURSE_ROOT", None)
        else:
            os.environ["MEDGANLAB_COURSE_ROOT"] = old
    return config


def _api(config):
    # nbgrader's gradebook migrations call the `alembic` executable: it must be on PATH.
    import sys

    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def _check(result: dict, what: str) -> None:
    if not result.get("success"):
        raise RuntimeError(f"nbgrader {what} failed:\n{result.get('error') or result.get('log')}")


def release(course: Course, assignments: Iterable[str] | None = None) -> list[str]:
    """Regenerate the source notebooks from their jupytext files, then ``notebooks/``.

    The gradebook used for generation is a throw-away one, so releasing never touches the
    instructor's ``gradebook.db``. Returns the assignments released.
    """
    authoring.sync_sources(course.solutions)
    names = list(assignments or course.assignments())
    with tempfile.TemporaryDirectory(prefix="medganlab-release-") as tmp:
        config = load_nbgrader_config(course.config_file, course.root)
        config.CourseDirectory.db_url = f"sqlite:///{Path(tmp) / 'gradebook.db'}"
        api = _api(config)
        for name in names:
            target = course.notebooks / name
            if target.exists():
                shutil.rmtree(target)
            _check(api.generate_assignment(name, force=True), f"generate_assignment {name}")
    return names


def validate(notebook: Path, invert: bool = False, timeout: int = 300) -> dict:
    """Run a notebook's tests with nbgrader's Validator; ``{}`` means it passed.

    With ``invert=True`` success means every test cell *fails* (a released notebook).
    """
    from nbgrader.validator import Validator
    from traitlets.config import Config

    config = Config()
    config.Validator.invert = invert
    config.Execute.timeout = timeout
    return Validator(config=config).validate(str(notebook))


@dataclass
class GradeResult:
    """One submission's autograding outcome."""

    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    auto_max_score: float = 0.0
    cells: list[dict] = field(default_factory=list)
    error: str | None = None
    feedback: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _write_timestamp(folder: Path) -> None:
    # nbgrader's documented format; a malformed one crashes autograde, so always write ours.
    from datetime import datetime, timezone

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    (folder / "timestamp.txt").write_text(stamp)


def autograde_submission(
    course: Course,
    assignment: str,
    submission: Path,
    student: str = "pretend_student",
    feedback_dir: Path | None = None,
    timeout: int | None = None,
) -> GradeResult:
    """Autograde one submitted notebook in a private course folder and return its grades.

    Never raises for a bad submission: a crash, a kernel death or a malformed notebook gives
    a result with ``error`` set and the score of what could be graded (0 if nothing).
    """
    result = GradeResult(student=student, assignment=assignment)
    submission = Path(submission)
    try:
        nbformat.read(submission, as_version=4)
    except Exception as exc:  # malformed JSON, not a notebook, missing file
        result.error = f"{submission.name}: not a readable notebook ({exc})"
        return result
    with tempfile.TemporaryDirectory(prefix="medganlab-grade-") as tmp:
        root = Path(tmp)
        shutil.copytree(
            course.solutions / assignment,
            root / "solutions" / assignment,
            ignore=shutil.ignore_patterns("*.py", "__pycache__", ".ipynb_checkpoints"),
        )
        sub_dir = root / "submitted" / student / assignment
        sub_dir.mkdir(parents=True)
        shutil.copy(submission, sub_dir / f"{assignment}.ipynb")
        _write_timestamp(sub_dir)
        config = load_nbgrader_config(course.config_file, root)
        if timeout is not None:
            config.Execute.timeout = timeout
        api = _api(config)
        _check(api.generate_assignment(assignment, force=True), "generate_assignment")
        outcome = api.autograde(assignment, student, force=True)
        if not outcome.get("success"):
            result.error = (outcome.get("error") or outcome.get("log") or "autograde failed")[
                -2000:
            ]
        with api.gradebook as gradebook:
            try:
                sub = gradebook.find_submission(assignment, student)
            except Exception:
                sub = None
            for nb in sub.notebooks if sub else []:
                for grade in nb.grades:
                    result.cells.append(
                        {
                            "name": grade.name,
                            "score": float(grade.score or 0.0),
                            "auto_score": None
                            if grade.auto_score is None
                            else float(grade.auto_score),
                            "max_score": float(grade.max_score),
                            "needs_manual_grade": bool(grade.needs_manual_grade),
                        }
                    )
        result.max_score = sum(c["max_score"] for c in result.cells)
        result.score = sum(c["score"] for c in result.cells)
        result.auto_max_score = sum(
            c["max_score"] for c in result.cells if c["auto_score"] is not None
        )
        if feedback_dir is not None and not result.error:
            fb = api.generate_feedback(assignment, student, force=True)
            html = root / "feedback" / student / assignment / f"{assignment}.html"
            if fb.get("success") and html.is_file():
                feedback_dir.mkdir(parents=True, exist_ok=True)
                target = feedback_dir / f"{student}.html"
                shutil.copy(html, target)
                result.feedback = str(target)
    if not result.cells and result.error is None:
        result.error = "no graded cells found (kernel died or the notebook lost its grade cells)"
    return result


def _solution_lines(source_nb: nbformat.NotebookNode) -> set[str]:
    """Distinctive lines inside solution, hidden-test and mark-scheme regions."""
    lines: set[str] = set()
    for cell in source_nb.cells:
        for match in _REGION.finditer(cell.source):
            lines.update(match.group(2).splitlines())
        for match in _MARK_SCHEME.finditer(cell.source):
            lines.update(match.group(1).splitlines())
    return {line.strip() for line in lines if len(line.strip()) >= 12}


def find_leaks(release_dir: Path, source_notebooks: Iterable[Path]) -> list[str]:
    """What under ``release_dir`` gives answers away: markers, solution lines, outputs, sources.

    ``release_dir`` is one assignment's release folder (or a whole release tree) and
    ``source_notebooks`` the sources whose answers it must not contain. A later assignment
    may show an earlier one's answer on purpose (it is released after that deadline), so
    check each assignment against its own source.

    Returns human-readable problems (empty when the release is clean).
    """
    secret = set()
    for path in source_notebooks:
        secret |= _solution_lines(nbformat.read(path, as_version=4))
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


def lint_source_notebook(path: Path) -> tuple[list[str], dict]:
    """Check a source notebook against the course's rules.

    Returns (problems, stats) where stats has the code-cell sizes (median and max lines).
    """
    nb = nbformat.read(path, as_version=4)
    problems: list[str] = []
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        problems.append("kernelspec is not python3")
    ids: dict[str, int] = {}
    for index, cell in enumerate(nb.cells, start=1):
        meta = cell.metadata.get("nbgrader")
        if cell.cell_type == "code" and cell.get("outputs"):
            problems.append(f"cell {index}: has outputs")
        if not meta:
            continue
        gid = meta.get("grade_id")
        if not gid:
            problems.append(f"cell {index}: nbgrader cell without grade_id")
            continue
        if gid in ids:
            problems.append(f"cell {index}: grade_id {gid!r} repeats cell {ids[gid]}")
        ids[gid] = index
        is_test = meta.get("grade") and not meta.get("solution")
        if meta.get("grade") and not meta.get("points"):
            problems.append(f"cell {index} ({gid}): a graded cell without points")
        if is_test and not meta.get("locked"):
            problems.append(f"cell {index} ({gid}): a test cell that is not locked")
        if is_test and not cell.source.lstrip().startswith(('"""', "'''")):
            problems.append(f"cell {index} ({gid}): a test cell should start with a docstring")
        if (
            meta.get("solution")
            and cell.cell_type == "code"
            and "BEGIN SOLUTION" not in cell.source
        ):
            problems.append(f"cell {index} ({gid}): a solution cell without BEGIN/END SOLUTION")
        if "BEGIN HIDDEN TESTS" in cell.source:
            visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
            if not [ln for ln in visible.splitlines() if ln.strip().startswith("assert")]:
                problems.append(f"cell {index} ({gid}): hidden tests without a visible test")
    if not any(m.get("grade") for m in (c.metadata.get("nbgrader", {}) for c in nb.cells)):
        problems.append("no graded cells")
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    first = nb.cells[0].source if nb.cells else ""
    for pattern, what in SKELETON:
        text = first if what.startswith("an H1") else markdown
        if not re.search(pattern, text, flags=re.MULTILINE):
            problems.append(f"notebook skeleton: missing {what}")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    if "profile_for(" not in code:
        problems.append("no `cfg = medganlab.profile_for(...)` configuration cell")
    if re.search(r"^\s*[!%]pip\b", code, flags=re.MULTILINE) and "google.colab" not in code:
        problems.append("a pip install outside the Colab-guarded cell")
    sizes = [len(c.source.strip().splitlines()) for c in nb.cells if c.cell_type == "code"]
    for index, cell in enumerate(nb.cells, start=1):
        n = len(cell.source.strip().splitlines())
        if cell.cell_type == "code" and n > MAX_CODE_LINES:
            problems.append(f"cell {index}: {n} lines of code (at most {MAX_CODE_LINES})")
    stats = {
        "code_cells": len(sizes),
        "median_lines": statistics.median(sizes) if sizes else 0,
        "max_lines": max(sizes) if sizes else 0,
    }
    return problems, stats


def _grade_one(args: tuple) -> dict:
    course_root, assignment, submission, student, feedback_dir, timeout = args
    try:
        result = autograde_submission(
            Course(Path(course_root)),
            assignment,
            Path(submission),
            student,
            Path(feedback_dir) if feedback_dir else None,
            timeout,
        )
    except Exception as exc:  # one submission's crash never stops the batch
        result = GradeResult(student=student, assignment=assignment, error=repr(exc))
    return result.as_dict()


def find_submissions(submissions: Path, assignment: str) -> dict[str, Path]:
    """Map student → notebook for a folder of submissions.

    Accepts nbgrader's ``<student>/<assignment>/<assignment>.ipynb`` layout and a flat
    folder of ``<student>.ipynb`` (e.g. Colab downloads).
    """
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise FileNotFoundError(f"{submissions}: no such folder of submissions")
    found: dict[str, Path] = {}
    for path in sorted(submissions.glob(f"*/{assignment}/{assignment}.ipynb")):
        found[path.parent.parent.name] = path
    for path in sorted(submissions.glob("*.ipynb")):
        found.setdefault(path.stem, path)
    if not found:
        raise FileNotFoundError(
            f"{submissions}: no submissions of {assignment}; expected "
            f"<student>/{assignment}/{assignment}.ipynb or <student>.ipynb"
        )
    return found


def grade_cohort(
    course: Course,
    assignment: str,
    submissions: Path,
    out: Path,
    workers: int = 2,
    timeout: int | None = None,
) -> list[dict]:
    """Autograde every submission in parallel; write ``grades.csv``, ``grades.json``, feedback.

    Each submission is graded in its own private course folder, so a crash, a kernel death
    or a malformed notebook affects only that student (their row says why).
    """
    if assignment not in course.assignments():
        raise ValueError(
            f"unknown assignment {assignment!r}; expected one of: {', '.join(course.assignments())}"
        )
    found = find_submissions(submissions, assignment)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [
        (str(course.root), assignment, str(path), student, str(out / "feedback"), timeout)
        for student, path in found.items()
    ]
    env = dict(os.environ)
    os.environ["MEDGANLAB_PROFILE"] = "smoke"
    try:
        if workers <= 1:
            rows = [_grade_one(job) for job in jobs]
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                rows = list(pool.map(_grade_one, jobs))
    finally:
        os.environ.clear()
        os.environ.update(env)
    (out / "grades.json").write_text(json.dumps(rows, indent=1) + "\n")
    with open(out / "grades.csv", "w") as handle:
        handle.write("student,assignment,score,max_score,error\n")
        for row in rows:
            error = (row["error"] or "").splitlines()[-1:] or [""]
            handle.write(
                f"{row['student']},{assignment},{row['score']:g},{row['max_score']:g},"
                f'"{error[0].replace(chr(34), chr(39))}"\n'
            )
    return rows


def compare_release(course: Course) -> list[str]:
    """Generate a fresh release in a scratch copy and list how ``notebooks/`` differs from it.

    The scratch copy means checking never rewrites the committed notebooks.
    """
    with tempfile.TemporaryDirectory(prefix="medganlab-compare-") as tmp:
        scratch = Course(Path(tmp))
        shutil.copytree(
            course.solutions,
            scratch.solutions,
            ignore=shutil.ignore_patterns("*.ipynb", "__pycache__", ".ipynb_checkpoints"),
        )
        (scratch.root / "autograder").mkdir()
        shutil.copy(course.config_file, scratch.config_file)
        release(scratch)
        fresh = {
            p.relative_to(scratch.notebooks): p.read_bytes()
            for p in scratch.notebooks.rglob("*")
            if p.is_file()
        }
        committed = (
            {
                p.relative_to(course.notebooks): p.read_bytes()
                for p in course.notebooks.rglob("*")
                if p.is_file()
            }
            if course.notebooks.is_dir()
            else {}
        )
    problems = [f"missing from notebooks/: {p}" for p in sorted(set(fresh) - set(committed))]
    problems += [
        f"not produced by a release: notebooks/{p}" for p in sorted(set(committed) - set(fresh))
    ]
    problems += [
        f"differs from a fresh release: notebooks/{p}"
        for p in sorted(set(fresh) & set(committed))
        if fresh[p] != committed[p]
    ]
    return problems
