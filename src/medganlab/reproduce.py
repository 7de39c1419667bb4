"""``make reproduce``: run every solution notebook headless and write an HTML report.

Each notebook is executed with nbclient (its own folder as working directory, as nbgrader
does) and saved under ``build/reproduce/``; the report ``build/report/index.html`` shows,
per notebook, its run time, status, the metrics it recorded with
:func:`medganlab.report.show_metrics` and every figure it drew.
"""

from __future__ import annotations

import html
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from medganlab.report import METRICS_MIME, metrics_table_html

__all__ = ["NotebookRun", "run_notebook", "write_report", "reproduce"]


@dataclass
class NotebookRun:
    """What one executed notebook produced."""

    name: str
    seconds: float
    error: str | None = None
    figures: list[str] = field(default_factory=list)  # base64 PNGs
    metrics: list[dict] = field(default_factory=list)


def run_notebook(source: Path, executed: Path, timeout: int = 3600) -> NotebookRun:
    """Execute ``source`` and save it to ``executed``; never raises for a failing cell."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(source, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(source.parent)}},
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
    except Exception as exc:  # kernel death, timeout
        error = f"{type(exc).__name__}: {exc}"
    run = NotebookRun(name=source.stem, seconds=time.perf_counter() - start, error=error)
    executed.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, executed)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                run.figures.append(data["image/png"].replace("\n", ""))
            if METRICS_MIME in data:
                run.metrics.append(data[METRICS_MIME])
    return run


def write_report(runs: list[NotebookRun], out: Path, profile: str) -> Path:
    """Write ``index.html`` (self-contained: figures inlined) and ``summary.json``."""
    out.mkdir(parents=True, exist_ok=True)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>MedGAN Lab reproduction</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}img{max-width:520px;"
        "margin:4px;border:1px solid #ccc}table{border-collapse:collapse;margin:8px 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px}.fail{color:#b00}.ok{color:#070}</style>",
        f"</head><body><h1>MedGAN Lab: course reproduction</h1><p>Profile: <b>{profile}</b>. "
        f"{len(runs)} notebook(s); {sum(r.seconds for r in runs):.0f} s in all.</p>",
        "<table><tr><th>notebook</th><th>status</th><th>seconds</th><th>figures</th></tr>",
    ]
    for run in runs:
        status = (
            "<span class='ok'>ok</span>"
            if run.error is None
            else f"<span class='fail'>failed: {html.escape(run.error)}</span>"
        )
        parts.append(
            f"<tr><td><a href='#{run.name}'>{run.name}</a></td><td>{status}</td>"
            f"<td>{run.seconds:.1f}</td><td>{len(run.figures)}</td></tr>"
        )
    parts.append("</table>")
    for run in runs:
        parts.append(f"<h2 id='{run.name}'>{html.escape(run.name)}</h2>")
        for metric in run.metrics:
            parts.append(metrics_table_html(metric["title"], metric["metrics"]))
        parts.extend(f"<img src='data:image/png;base64,{fig}'>" for fig in run.figures)
    parts.append("</body></html>")
    index = out / "index.html"
    index.write_text("\n".join(parts))
    summary = [
        {
            "name": r.name,
            "seconds": round(r.seconds, 2),
            "error": r.error,
            "figures": len(r.figures),
            "metrics": r.metrics,
        }
        for r in runs
    ]
    (out / "summary.json").write_text(json.dumps({"profile": profile, "runs": summary}, indent=1))
    return index


def reproduce(
    solutions: Path, build: Path, only: list[str] | None = None
) -> tuple[Path, list[NotebookRun]]:
    """Execute every solution notebook (or ``only`` those) and write the report."""
    from medganlab import authoring
    from medganlab.profiles import active_profile

    authoring.sync_sources(solutions)
    profile = active_profile()
    os.environ.setdefault("MEDGANLAB_PROFILE", profile)  # kernels inherit the same choice
    os.environ.setdefault("MEDGANLAB_QUIET", "1")  # one line per epoch, no live progress bars
    runs = []
    for source in authoring.source_files(solutions):
        name = source.parent.name
        if only and name not in only:
            continue
        notebook = source.with_suffix(".ipynb")
        print(f"[reproduce] {name} (profile {profile}) ...", flush=True)
        run = run_notebook(notebook, build / "reproduce" / f"{name}.ipynb")
        print(
            f"[reproduce] {name}: {'ok' if run.error is None else 'FAILED: ' + run.error} "
            f"in {run.seconds:.1f} s, {len(run.figures)} figures",
            flush=True,
        )
        runs.append(run)
    return write_report(runs, build / "report", profile), runs
