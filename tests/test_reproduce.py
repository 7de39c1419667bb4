"""`make reproduce` machinery: executes notebooks, survives failures, writes the report."""

from __future__ import annotations

import json

import nbformat
import pytest

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
