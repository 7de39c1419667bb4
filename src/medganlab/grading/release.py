"""Generate the student notebooks from the sources, compare them, validate a notebook."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from medganlab import authoring
from medganlab.grading.course import Course, check_result, load_nbgrader_config, nbgrader_api

__all__ = ["release", "compare_release", "validate"]


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
        api = nbgrader_api(config)
        for name in names:
            target = course.notebooks / name
            if target.exists():
                shutil.rmtree(target)
            check_result(api.generate_assignment(name, force=True), f"generate_assignment {name}")
    return names


def validate(notebook: Path, invert: bool = False, timeout: int = 300) -> dict:
    """Run a notebook's tests with nbgrader's Validator; ``{}`` means it passed.

    With ``invert=True`` success means every test cell *fails* (a released notebook). Only
    for the course's own notebooks: it runs them unsandboxed, as the current user.
    """
    from nbgrader.validator import Validator
    from traitlets.config import Config

    config = Config()
    config.Validator.invert = invert
    config.Execute.timeout = timeout
    return Validator(config=config).validate(str(notebook))


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
        fresh = _files(scratch.notebooks)
        committed = _files(course.notebooks)
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


def _files(folder: Path) -> dict[Path, bytes]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
