"""The medganlab command line: doctor, bad input, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from medganlab.cli import main


def _run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "medganlab.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_doctor_prints_the_runtime_and_passes():
    result = _run("doctor", env={"MEDGANLAB_PROFILE": "smoke"})
    assert result.returncode == 0, result.stderr
    assert "Profile: smoke" in result.stdout and "TensorFlow 2." in result.stdout


def test_doctor_fails_clearly_on_a_wrong_profile():
    result = _run("doctor", env={"MEDGANLAB_PROFILE": "turbo"})
    assert result.returncode == 1
    assert "turbo" in result.stderr and "smoke, cpu, gpu" in result.stderr


def test_data_info_on_a_missing_folder(tmp_path, capsys):
    assert main(["data", "info", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_grade_unknown_assignment_is_a_clear_error(tmp_path, capsys):
    assert main(["grade", "42_nothing", "--submissions", str(tmp_path)]) == 2
    assert "00_setup_and_data" in capsys.readouterr().err


def test_unknown_command_exits_nonzero():
    with pytest.raises(SystemExit) as info:
        main(["fly"])
    assert info.value.code == 2
