"""The reproduction report read in a real browser (headless Chromium, Debian's package).

`make test` installs Chromium where it is missing and it may be (root, apt); elsewhere this
test is skipped with the reason.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess

import pytest

from medganlab.reproduce import NotebookRun, write_report

pytestmark = pytest.mark.slow

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


def _png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _render(index) -> tuple[str, str]:
    done = subprocess.run(
        [
            BROWSER,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            index.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


@pytest.mark.skipif(
    BROWSER is None, reason="Chromium not installed (make test installs it as root)"
)
def test_report_loads_every_figure_shows_paper_columns_and_logs_no_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDGANLAB_BUILD", str(tmp_path))
    from medganlab.evaluation.fdd import write_table

    write_table(
        [{"run": "3x3 ELU", "auc": 0.99, "auc_low": 0.98, "auc_high": 1.0, "paper_auc": 0.996}],
        "05_vgg16_cpu",
        {"profile": "cpu"},
    )
    runs = [
        NotebookRun(
            "05_vgg16_kernels_activations",
            12.0,
            figures=[_png(), _png()],
            metrics=[{"title": "05", "metrics": {"auc": 0.99, "missing": None}}],
        )
    ]
    index = write_report(
        runs, tmp_path / "report", "cpu", tables=tmp_path / "tables", revision="abc1234"
    )
    html = index.read_text()
    assert not re.search(r"(src|href)=['\"]https?://", html), (
        "the report must work offline (no CDN)"
    )
    dom, log = _render(index)
    assert 'data-figures="2"' in dom and 'data-broken-figures="0"' in dom, dom[-500:]
    assert '<th class="paper">paper_auc</th>' in dom, "the table shows the paper's column"
    assert "scorecard" in dom and "abc1234" in dom
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert not console, f"console messages: {console}"


@pytest.mark.skipif(
    BROWSER is None, reason="Chromium not installed (make test installs it as root)"
)
def test_a_broken_figure_is_detected(tmp_path):
    runs = [NotebookRun("x", 1.0, figures=[base64.b64encode(b"not a png").decode()])]
    dom, _ = _render(write_report(runs, tmp_path / "report", "smoke"))
    assert 'data-broken-figures="1"' in dom
