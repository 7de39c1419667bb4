"""The `cpu` profile's own branches of notebooks 02 and 03 run, at smoke sizes.

nbval runs every notebook in `smoke`, which follows the `gpu` profile's code path. The `cpu`
profile switches on code that neither of them reaches: 02's comparison run with the
auxiliary classifier (`compare_discriminators`, `auxiliary_weight`), 03's auxiliary
classifier on the top scale (`auxiliary_weight`). Here each solution notebook runs whole,
with the settings that only `cpu` sets laid over `smoke`, and the run's own log must show
that the classifier head trained.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import nbformat
import pytest

from medganlab import profiles

from conftest import REPO

pytestmark = pytest.mark.slow

# assignment -> the run that trains the head: its folder is <run>_ac<weight>_smoke_<random>
BRANCHES = {
    "02_conditional_gan": "02_conditional_gan_projection",
    "03_multiscale_attention_gan": "03_multiscale_attention_gan",
}


def cpu_only_settings(assignment: str) -> dict:
    """What the `cpu` profile sets and `smoke` leaves at the default: its recipe branches."""
    smoke = profiles.profile_overrides(assignment, "smoke")
    return {
        k: v for k, v in profiles.profile_overrides(assignment, "cpu").items() if k not in smoke
    }


def with_settings(assignment: str, settings: dict) -> nbformat.NotebookNode:
    """The solution notebook with ``cfg = cfg.replace(**settings)`` right after ``cfg``."""
    nb = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    at = next(
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and re.search(r"^cfg = medganlab\.profile_for\(", c.source, re.M)
    )
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(f"cfg = cfg.replace(**{settings!r})"))
    return nb


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """One folder for both notebooks: 03 compares itself with the generator 02 exports."""
    return tmp_path_factory.mktemp("cpu_branches")


@pytest.mark.parametrize("assignment", list(BRANCHES))
def test_cpu_only_branch_trains_its_classifier_head(assignment, scratch, monkeypatch):
    from nbclient import NotebookClient

    settings = cpu_only_settings(assignment)
    assert settings.get("auxiliary_weight"), f"{assignment}: cpu no longer sets the head"
    monkeypatch.setenv("MEDGANLAB_PROFILE", "smoke")
    monkeypatch.setenv("TMPDIR", str(scratch))  # smoke runs go to <TMPDIR>/medganlab-runs
    for name, folder in (("BUILD", "build"), ("ARTIFACTS", "artifacts")):
        monkeypatch.setenv(f"MEDGANLAB_{name}", str(scratch / folder))
    monkeypatch.setenv("MEDGANLAB_REFERENCE_ARTIFACTS", str(scratch / "reference"))
    nb = with_settings(assignment, settings)
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(scratch)}}
    ).execute()

    prefix = f"{BRANCHES[assignment]}_ac{settings['auxiliary_weight']:g}_smoke_"
    runs = sorted((scratch / "medganlab-runs").glob(prefix + "*"))
    assert len(runs) == 1, f"expected one run folder {prefix}*, found {runs}"
    history = json.loads((Path(runs[0]) / "history.json").read_text())
    for key in ("class_loss", "class_accuracy", "d_loss", "g_loss"):
        values = history.get(key)
        assert values and all(math.isfinite(v) for v in values), (key, sorted(history))
    printed = "".join(out.get("text", "") for cell in nb.cells for out in cell.get("outputs", []))
    # 03 compares its tree with the generator 02 exported into the same scratch folder
    assert "Skipping the comparison" not in printed
