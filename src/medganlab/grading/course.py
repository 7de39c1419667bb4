"""Where the course lives, its nbgrader configuration and which assignments are graded."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from medganlab import authoring

__all__ = [
    "Course",
    "graded_assignments",
    "load_nbgrader_config",
    "nbgrader_api",
    "check_result",
    "ungraded",
]


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


def ungraded() -> frozenset[str]:
    """Assignments without graded cells (``medganlab.course_info.UNGRADED``; empty if absent).

    They are exempt from "has graded cells", "the solution scores full marks" and "the
    release scores zero".
    """
    try:
        from medganlab.course_info import UNGRADED
    except ImportError:
        return frozenset()
    return frozenset(UNGRADED)


def graded_assignments(course: Course) -> list[str]:
    """The course's assignments minus the ungraded ones (see :func:`ungraded`)."""
    skip = ungraded()
    return [name for name in course.assignments() if name not in skip]


def load_nbgrader_config(config_file: Path, root: Path):
    """Load the course's nbgrader config with its root (and gradebook) pointed at ``root``.

    The environment is left alone: the root is set on the loaded config.
    """
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(str(config_file)).load_config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{Path(root) / 'gradebook.db'}"
    return config


def nbgrader_api(config):
    """nbgrader's API on ``config``; its gradebook migrations need ``alembic`` on PATH."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def check_result(result: dict, what: str) -> None:
    """Raise when an nbgrader API action reports failure (it never raises itself)."""
    if not result.get("success"):
        raise RuntimeError(f"nbgrader {what} failed:\n{result.get('error') or result.get('log')}")
