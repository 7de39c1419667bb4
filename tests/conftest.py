"""Shared fixtures. The whole suite runs in the smoke profile (see test_profiles.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture
def smoke_env(monkeypatch):
    """Run the code under test in the smoke profile."""
    monkeypatch.setenv("MEDGANLAB_PROFILE", "smoke")
    return os.environ


def make_course(root: Path, sources: dict[str, str]) -> Path:
    """A throw-away course: the real nbgrader config plus the given jupytext sources."""
    (root / "autograder").mkdir(parents=True)
    shutil.copy(REPO / "autograder" / "nbgrader_config.py", root / "autograder")
    for name, text in sources.items():
        folder = root / "solutions" / name
        folder.mkdir(parents=True)
        (folder / f"{name}.py").write_text(text)
    return root
