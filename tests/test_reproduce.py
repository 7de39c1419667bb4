"""`make reproduce` machinery: executes notebooks, survives failures, writes the report."""

from __future__ import annotations

import json

import nbformat
import pytest

from medganlab.claims import CLAIMS, NOT_RUN
from medganlab.reproduce import reproduce

GOOD = """# %% [markdown]
# # Draw a line

# %%
import matplotlib
matplotlib.use("module://matplotlib_inline.backend_inline")
import matplotlib.pyplot as plt
from medganlab.report import show_metrics
plt.plot([0, 1], [0, 1])
plt.show()

# %%
show_metrics("line", {"slope": 1.0, "points": 2})
"""

BAD = """# %% [markdown]
# # Fail

# %%
raise RuntimeError("broken on purpose")
"""

pytestmark = pytest.mark.slow


def test_reproduce_collects_figures_metrics_and_failures(tmp_path, smoke_env):
    for name, text in {"01_good": GOOD, "02_bad": BAD}.items():
        folder = tmp_path / "solutions" / name
        folder.mkdir(parents=True)
        (folder / f"{name}.py").write_text(text)
    index, runs = reproduce(tmp_path / "solutions", tmp_path / "build")
    by_name = {r.name: r for r in runs}
    assert by_name["01_good"].error is None and len(by_name["01_good"].figures) == 1
    assert by_name["01_good"].metrics == [{"title": "line", "metrics": {"slope": 1.0, "points": 2}}]
    assert "broken on purpose" in by_name["02_bad"].error
    html = index.read_text()
    assert "data:image/png;base64," in html and "slope" in html and "failed" in html
    summary = json.loads((tmp_path / "build" / "report" / "summary.json").read_text())
    assert summary["profile"] == "smoke" and len(summary["runs"]) == 2
    executed = nbformat.read(tmp_path / "build" / "reproduce" / "01_good.ipynb", as_version=4)
    assert any(cell.get("outputs") for cell in executed.cells)


def _course(tmp_path, sources):
    for name, text in sources.items():
        folder = tmp_path / "solutions" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.py").write_text(text)
    return tmp_path / "solutions", tmp_path / "build"


def test_reproduce_reuses_unchanged_notebooks_and_reruns_changed_or_forced(
    tmp_path, smoke_env, capsys
):
    solutions, build = _course(tmp_path, {"01_good": GOOD, "02_bad": BAD})
    reproduce(solutions, build)
    capsys.readouterr()
    _, runs = reproduce(solutions, build)
    out = capsys.readouterr().out
    assert "01_good: unchanged" in out and "reused" in out, out
    assert "02_bad (profile smoke" in out, "a failed notebook runs again"
    assert {r.name: len(r.figures) for r in runs}["01_good"] == 1, "reused runs keep figures"
    (solutions / "01_good" / "01_good.py").write_text(GOOD + "\n# %%\nprint('changed')\n")
    reproduce(solutions, build, only=["01_good"])
    assert "01_good (profile smoke" in capsys.readouterr().out, "a changed source reruns"
    reproduce(solutions, build, only=["01_good"], force=True)
    assert "01_good (profile smoke" in capsys.readouterr().out, "force reruns"
    _, runs = reproduce(solutions, build, start_from="02_bad")
    assert [r.name for r in runs] == ["02_bad"]
    with pytest.raises(ValueError, match="01_good"):
        reproduce(solutions, build, only=["03_missing"])


def test_report_starts_with_the_claims_scorecard(tmp_path, smoke_env):
    solutions, build = _course(tmp_path, {"01_good": GOOD})
    index, _ = reproduce(solutions, build)
    page = index.read_text()
    summary = json.loads((build / "report" / "summary.json").read_text())
    assert [row["key"] for row in summary["scorecard"]] == [c.key for c in CLAIMS]
    assert all(row["verdict"] == NOT_RUN for row in summary["scorecard"]), "no tables yet"
    assert page.index("scorecard") < page.index("id='notebooks'")
    assert summary["revision"] and summary["environment"]["python"]
