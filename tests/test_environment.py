"""Exact versions live in constraints.txt; pyproject.toml declares ranges that admit both
those pins and Colab's preinstalled versions; environment.yml mirrors constraints.txt."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import tomllib
from packaging.requirements import Requirement


def _pins(path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def _requirements(repo, extras=("cpu", "course", "dev")) -> list[Requirement]:
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in extras:
        specs += project["optional-dependencies"][extra]
    return [Requirement(s) for s in specs]


def _environment_pins(repo) -> dict[str, str]:
    text = (repo / "environment.yml").read_text()
    return {
        m.group(1).lower(): m.group(2)
        for m in re.finditer(r"^\s*-\s*([A-Za-z0-9_.\-\[\]]+)==(\S+)\s*$", text, re.M)
    }


def test_pyproject_declares_ranges_and_constraints_pin_every_dependency(repo):
    pins = _pins(repo / "constraints.txt")
    problems = []
    for req in _requirements(repo, extras=("cpu", "gpu", "course", "dev")):
        if any(spec.operator == "==" for spec in req.specifier):
            problems.append(f"{req}: an exact pin in pyproject.toml (put it in constraints.txt)")
        if req.name.lower() not in pins:
            problems.append(f"{req.name}: no exact version in constraints.txt")
        elif pins[req.name.lower()] not in req.specifier:
            problems.append(f"{req.name}=={pins[req.name.lower()]} is outside {req.specifier}")
    assert not problems, "; ".join(problems)


def test_no_tensorflow_in_the_plain_dependencies(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    tf = [s for s in project["dependencies"] if s.lower().startswith("tensorflow")]
    assert not tf, f"Colab ships TensorFlow: keep it in the cpu/gpu extras, found {tf}"


def test_environment_yml_mirrors_constraints(repo):
    pins, env = _pins(repo / "constraints.txt"), _environment_pins(repo)
    expected = {k: v for k, v in pins.items() if k != "tensorflow"}  # the gpu image swaps it in
    assert env == expected, (
        "environment.yml and constraints.txt disagree: "
        f"only in constraints {sorted(set(expected.items()) - set(env.items()))}, "
        f"only in environment.yml {sorted(set(env.items()) - set(expected.items()))}"
    )


def test_colab_versions_fall_inside_the_ranges(repo):
    """Installing the package on Colab keeps Colab's own TensorFlow, Keras, NumPy ... ."""
    colab = _pins(repo / "tests" / "data" / "colab_constraints.txt")
    ranges = {r.name.lower(): r.specifier for r in _requirements(repo, extras=())}
    outside = [
        f"{n}=={v} not in {ranges[n]}"
        for n, v in colab.items()
        if n in ranges and v not in ranges[n]
    ]
    assert not outside, f"pip would replace Colab's packages: {outside}"
    assert {"keras", "numpy"} <= set(colab) & set(ranges)


@pytest.mark.slow
def test_pip_dry_run_on_colab_versions_changes_none_of_them(repo, tmp_path):
    """pip resolves the package against Colab's versions held fixed, and adds no TensorFlow."""
    report = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--no-build-isolation",
            "--report",
            str(report),
            "-c",
            str(repo / "tests" / "data" / "colab_constraints.txt"),
            str(repo),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 and re.search(
        r"(?i)connection|network|resolve host|timed out", done.stderr
    ):
        pytest.skip(f"package index unreachable: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, (
        f"pip cannot install the package beside Colab's versions:\n{done.stderr[-2000:]}"
    )
    chosen = {
        i["metadata"]["name"].lower(): i["metadata"]["version"]
        for i in json.loads(report.read_text())["install"]
    }
    colab = _pins(repo / "tests" / "data" / "colab_constraints.txt")
    changed = {n: chosen[n] for n in colab if n in chosen and chosen[n] != colab[n]}
    assert not changed, f"would change Colab's versions: {changed}"
    assert not [n for n in chosen if n.startswith("tensorflow")], (
        "the package must not install TensorFlow"
    )


def test_installed_versions_match_the_constraints(repo):
    from importlib.metadata import PackageNotFoundError, version

    wrong = []
    for name, pinned in _pins(repo / "constraints.txt").items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            continue  # e.g. the gpu extra on a cpu machine
        if installed != pinned:
            wrong.append(f"{name} {installed} (pinned {pinned})")
    assert not wrong, f"installed versions differ from constraints.txt: {wrong}; run make setup"
