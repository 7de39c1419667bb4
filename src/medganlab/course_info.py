"""Facts about the course as a whole: its public address and its ungraded assignments.

The public address (repository URL and tag) lives in ``course/settings.toml``; the notebook
generator (:mod:`medganlab.authoring`) substitutes it for these tokens in the sources::

    {{ repository_url }}   https://github.com/<owner>/<name>
    {{ course_ref }}       the tag or branch students get, e.g. 2027-spring
    {{ colab_url }}        https://colab.research.google.com/github/<owner>/<name>/blob/<ref>/notebooks/<NN_slug>/<NN_slug>.ipynb

``MEDGANLAB_COURSE_SETTINGS`` points at another settings file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = [
    "UNGRADED",
    "CourseSettings",
    "load_settings",
    "settings_file",
    "has_tokens",
    "substitute",
    "PLACEHOLDER",
]

# Assignments without nbgrader graded cells (the grading checks skip "has graded cells",
# "full marks" and "release scores zero" for these; leak and sync checks still apply).
UNGRADED = frozenset({"09_course_survey"})

# An address still holding this is not a real one (a release build refuses it).
PLACEHOLDER = re.compile(r"OWNER|example\.(com|org)|placeholder|your[-_]?(org|name)", re.I)
_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)(?:\.git)?/?$")
_TOKEN = re.compile(r"\{\{\s*(repository_url|course_ref|colab_url)\s*\}\}")


@dataclass(frozen=True)
class CourseSettings:
    """The public address; ``source`` is the file it came from."""

    repository: str
    ref: str
    source: Path | None = None

    def __post_init__(self) -> None:
        if not _GITHUB.match(self.repository):
            raise ValueError(
                f"{self.source or 'course settings'}: repository must look like "
                f"https://github.com/<owner>/<name> (Colab opens notebooks from GitHub), "
                f"got {self.repository!r}"
            )
        if not self.ref or any(c.isspace() for c in self.ref):
            raise ValueError(f"{self.source or 'course settings'}: ref must be a tag or branch")

    @property
    def owner_and_name(self) -> str:
        owner, name = _GITHUB.match(self.repository).groups()  # type: ignore[union-attr]
        return f"{owner}/{name}"

    @property
    def is_placeholder(self) -> bool:
        return bool(PLACEHOLDER.search(self.repository))

    def colab_url(self, assignment: str) -> str:
        return (
            f"https://colab.research.google.com/github/{self.owner_and_name}/blob/{self.ref}/"
            f"notebooks/{assignment}/{assignment}.ipynb"
        )


def settings_file(course_root: Path | None = None) -> Path:
    """``MEDGANLAB_COURSE_SETTINGS``, else ``<course_root>/course/settings.toml`` if it exists,
    else the repository's (``<home>/course/settings.toml``)."""
    env = os.environ.get("MEDGANLAB_COURSE_SETTINGS")
    if env:
        return Path(env).expanduser()
    if course_root is not None and (Path(course_root) / "course" / "settings.toml").is_file():
        return Path(course_root) / "course" / "settings.toml"
    from medganlab.paths import home

    return home() / "course" / "settings.toml"


def load_settings(course_root: Path | None = None) -> CourseSettings:
    """Read the course settings (see :func:`settings_file`).

    Raises:
        FileNotFoundError: no settings file.
        ValueError: a missing or malformed key.
    """
    path = settings_file(course_root)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no course settings file (copy course/settings.toml)")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    public = data.get("public", {})
    missing = [k for k in ("repository", "ref") if not public.get(k)]
    if missing:
        raise ValueError(f"{path}: [public] needs {', '.join(missing)}")
    return CourseSettings(
        repository=public["repository"].rstrip("/"),
        ref=str(public["ref"]),
        source=path,
    )


def has_tokens(text: str) -> bool:
    """True when ``text`` holds an address token to substitute."""
    return bool(_TOKEN.search(text))


def substitute(text: str, assignment: str, settings: CourseSettings) -> str:
    """Replace the ``{{ ... }}`` address tokens in ``text`` (other text is left alone)."""
    values = {
        "repository_url": settings.repository,
        "course_ref": settings.ref,
        "colab_url": settings.colab_url(assignment),
    }
    return _TOKEN.sub(lambda m: values[m.group(1)], text)
