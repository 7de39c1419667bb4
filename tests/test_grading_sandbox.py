"""The sandbox's command, its loud fallback, and the tamper-resistant test helpers."""

from __future__ import annotations

import numpy as np
import pytest

from medganlab import testing
from medganlab.grading.sandbox import Sandbox, detect


def test_without_a_sandbox_grading_warns_loudly():
    detect.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="NOT sandboxed"):
            box = detect("none")
    finally:
        detect.cache_clear()
    assert not box.isolated and "NOT SANDBOXED" in box.describe()


def test_the_sandbox_mounts_only_what_the_kernel_needs(tmp_path):
    box = Sandbox("bwrap", as_nobody=True, read_only=("/opt/venv",))
    scratch, run = tmp_path / "work", tmp_path / "run"
    cmd = box.wrap(["python", "-m", "ipykernel_launcher"], {"A": "1"}, scratch, run,
                   {"data": tmp_path})  # fmt: skip
    text = " ".join(cmd)
    writable = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--bind"]
    assert writable == [str(scratch), str(run)], "only the scratch and socket folders are writable"
    assert "--unshare-net" in cmd and "--unshare-pid" in cmd and "--die-with-parent" in cmd
    assert "--clearenv" in cmd and "--setenv A 1" in text
    assert f"--ro-bind {tmp_path} /srv/medganlab/data" in text
    assert "solutions" not in text and "gradebook" not in text
    setpriv = next(i for i, arg in enumerate(cmd) if arg.endswith("setpriv"))
    assert cmd[setpriv + 1] == "--reuid=65534" and cmd[-3:] == [
        "python",
        "-m",
        "ipykernel_launcher",
    ]


def test_helpers_reject_a_float_subclass_and_say_why():
    class AlwaysEqual(float):
        def __eq__(self, other):
            return True

    with pytest.raises(AssertionError, match="plain float.*got AlwaysEqual"):
        testing.check_close(AlwaysEqual(0.1), 0.4, what="ratio")
    with pytest.raises(AssertionError, match="numpy array, got list"):
        testing.check_array([1.0], what="hu")
    with pytest.raises(AssertionError, match=r"expected \[0.4\], got \[0.1\]"):
        testing.check_close(np.array([0.1]), [0.4])
    testing.check_close(np.float32(0.25), 0.25)
    testing.check_array(np.zeros((2, 2), np.float32), shape=(2, 2), dtype="float32")


def test_helpers_ignore_and_report_a_patched_numpy(monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "isclose", lambda *a, **k: True)
    with pytest.raises(AssertionError):
        testing.check_close(np.array([1.0, 2.0]), [1.0, 3.0])
    report = testing.tamper_report()
    assert "numpy.allclose" in report and "numpy.isclose" in report
