"""The `cpu` profile's own branches of notebooks 01, 02 and 03 run, at smoke sizes.

nbval runs every notebook in `smoke`, which follows the `gpu` profile's code path. The `cpu`
profile switches on code that neither of them reaches: 01's own rate for D
(`d_learning_rate`), 02's comparison run with the
auxiliary classifier (`compare_discriminators`, `auxiliary_weight`) and 02's class-balanced
batches (`balance`); 03's projection term in
the paper's conditional heads (`projection`) with a moving average of G (`ema_decay`), and
03's class head (`auxiliary_weight`, a knob the notebook offers). Here each solution notebook
runs whole, with the settings that only `cpu` sets laid over `smoke`, and the run's own log
and model must show that the branch trained.
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

# (assignment, settings beyond the cpu-only ones, the run folder's prefix, whether a class
# head trains); a folder is <prefix>_smoke_<random>
CASES = [
    # 01's rates: G faster than D
    ("01_dcgan", {}, "01_dcgan", False),
    # an epoch of the balanced (endless) stream: one pass's worth of steps, as in cpu
    ("02_conditional_gan", {"steps_per_epoch": None}, "02_conditional_gan_projection_ac1", True),
    # two epochs with tau rising after the first: the average must get tau as it is set
    ("03_multiscale_attention_gan", {"epochs": 2, "tau_every_epochs": 1},
     "03_multiscale_attention_gan_projall_ema0.999", False),
    ("03_multiscale_attention_gan", {"auxiliary_weight": 1.0},
     "03_multiscale_attention_gan_projall_ac1_ema0.999", True),
]  # fmt: skip
# appended to 03: what the notebook trained and what it drew from, as one JSON line
FACTS = "CPU-BRANCH-FACTS"
FACTS_CELL = f"""import json
print("{FACTS} " + json.dumps({{
    "projection": [w.path for w in gan.discriminator.weights if "projection_embedding" in w.path],
    "averaged": generator is not gan.generator and samples.source is generator,
    "ema_file": (run / "ema" / "ema.weights.h5").is_file(),
    "tau": [float(g.get_layer("self_attention").tau.numpy()) for g in (gan.generator, generator)],
}}))"""


# appended to 02: which findings its training batches carried, against the data's own counts
FACTS_02_CELL = f"""import collections, json
seen = collections.Counter(int(k) for _, y in train_ds.take(40) for k in np.argmax(y.numpy(), -1))
own = collections.Counter(FINDINGS.index(r["labels"][0]) for r in index)
print("{FACTS} " + json.dumps({{"seen": seen, "own": own, "steps_per_epoch": steps_per_epoch}}))"""


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


@pytest.mark.parametrize(("assignment", "more", "prefix", "head"), CASES)
def test_cpu_only_branch_trains(assignment, more, prefix, head, scratch, monkeypatch):
    from nbclient import NotebookClient

    settings = {**cpu_only_settings(assignment), **more}
    if assignment == "01_dcgan":
        assert settings.get("d_learning_rate"), "01: cpu no longer sets D's own rate"
    elif assignment == "02_conditional_gan":
        assert settings.get("auxiliary_weight"), "02: cpu no longer sets the head"
    else:
        assert settings.get("projection") and settings.get("ema_decay"), (
            "03: cpu no longer sets the projection term and the average"
        )
    monkeypatch.setenv("MEDGANLAB_PROFILE", "smoke")
    monkeypatch.setenv("TMPDIR", str(scratch))  # smoke runs go to <TMPDIR>/medganlab-runs
    for name, folder in (("BUILD", "build"), ("ARTIFACTS", "artifacts")):
        monkeypatch.setenv(f"MEDGANLAB_{name}", str(scratch / folder))
    monkeypatch.setenv("MEDGANLAB_REFERENCE_ARTIFACTS", str(scratch / "reference"))
    nb = with_settings(assignment, settings)
    facts_cell = {"02_conditional_gan": FACTS_02_CELL, "03_multiscale_attention_gan": FACTS_CELL}
    if assignment in facts_cell:
        nb.cells.append(nbformat.v4.new_code_cell(facts_cell[assignment]))
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(scratch)}}
    ).execute()

    runs = sorted((scratch / "medganlab-runs").glob(prefix + "_smoke_*"))
    assert len(runs) == 1, f"expected one run folder {prefix}_smoke_*, found {runs}"
    history = json.loads((Path(runs[0]) / "history.json").read_text())
    keys = ("d_loss", "g_loss") + (("class_loss", "class_accuracy") if head else ())
    for key in keys:
        values = history.get(key)
        assert values and all(math.isfinite(v) for v in values), (key, sorted(history))
    if not head:
        assert "class_loss" not in history, "expected no class head without auxiliary_weight"
    printed = "".join(out.get("text", "") for cell in nb.cells for out in cell.get("outputs", []))
    # 03 compares its tree with the generator 02 exported into the same scratch folder
    assert "Skipping the comparison" not in printed
    if assignment == "01_dcgan":  # the optimisers' rates the run's checkpoint recorded
        stored = json.loads((Path(runs[0]) / "checkpoints" / "settings.json").read_text())
        rates = [stored[f"{n}_optimizer"]["learning_rate"] for n in ("g", "d")]
        assert rates == pytest.approx([settings["learning_rate"], settings["d_learning_rate"]]), (
            f"expected G at {settings['learning_rate']} and D at its own rate: {stored}"
        )
        return
    line = next(x for x in printed.splitlines() if x.startswith(FACTS))
    facts = json.loads(line.removeprefix(FACTS))
    if assignment == "02_conditional_gan":
        # cpu samples the findings evenly: the rarest comes up about as often as any other
        # (640 labels: a share's spread is about 0.014), the commonest less than its own share
        own, seen = facts["own"], facts["seen"]
        fair, n_own, n_seen = 1 / len(own), sum(own.values()), sum(seen.values())
        for pick, more in ((min(own, key=own.get), True), (max(own, key=own.get), False)):
            mine, got = own[pick] / n_own, seen.get(pick, 0) / n_seen
            assert abs(mine - fair) > fair / 4, f"expected an imbalanced set: {own}"
            halfway = (mine + fair) / 2
            assert (got > halfway) if more else (got < halfway), (
                f"expected balanced batches: finding {pick} in {got:.3f} of them, "
                f"{mine:.3f} of the images: {facts}"
            )
        assert set(seen) <= set(own), f"expected only findings with images: {facts}"
        batch = profiles.profile_for(assignment, "smoke").batch_size
        assert facts["steps_per_epoch"] == n_own // batch, f"expected one pass an epoch: {facts}"
    if assignment == "03_multiscale_attention_gan":
        scales = {path.split("/")[0] for path in facts["projection"]}
        assert len(scales) == 3, f"expected a projection per scale: {facts}"
        assert facts["averaged"] and facts["ema_file"], (
            f"expected the grid from the average: {facts}"
        )
        # the average copies tau from G; an averaged tau would lag at about 0.09
        expected = 0.1 if more.get("epochs") == 2 else 0.0
        assert facts["tau"] == pytest.approx([expected] * 2, abs=1e-6), (
            f"expected tau {expected} set in G and its average, not averaged: {facts}"
        )
