"""The pins live in pyproject.toml; environment.yml must carry exactly the same ones."""

from __future__ import annotations

import re

import tomllib


def _pyproject_pins(repo) -> dict[str, str]:
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in ("cpu", "course", "dev"):
        specs += project["optional-dependencies"][extra]
    pins = {}
    for spec in specs:
        name, version = spec.split("==")
        pins[name.lower()] = version
    return pins


def _environment_pins(repo) -> dict[str, str]:
    text = (repo / "environment.yml").read_text()
    return {
        m.group(1).lower(): m.group(2)
        for m in re.finditer(r"^\s*-\s*([A-Za-z0-9_.\-\[\]]+)==(\S+)\s*$", text, re.M)
    }


def test_every_dependency_is_pinned_exactly(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    loose = [s for s in specs if "==" not in s]
    assert not loose, f"unpinned dependencies in pyproject.toml: {loose}"


def test_environment_yml_matches_pyproject(repo):
    ours, theirs = _pyproject_pins(repo), _environment_pins(repo)
    assert ours == theirs, (
        "environment.yml and pyproject.toml disagree: "
        f"only in pyproject {sorted(set(ours.items()) - set(theirs.items()))}, "
        f"only in environment.yml {sorted(set(theirs.items()) - set(ours.items()))}"
    )


def test_installed_versions_match_the_pins(repo):
    from importlib.metadata import PackageNotFoundError, version

    wrong = []
    for name, pinned in _pyproject_pins(repo).items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            continue  # e.g. the gpu extra on a cpu machine
        if installed != pinned:
            wrong.append(f"{name} {installed} (pinned {pinned})")
    assert not wrong, f"installed versions differ from pyproject.toml: {wrong}; run make setup"
