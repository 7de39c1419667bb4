"""``make reproduce``: run every solution notebook headless and write an HTML report.

Each notebook is executed with nbclient (its own folder as working directory, as nbgrader
does) and saved under ``build/reproduce/``; the report ``build/report/index.html`` starts
with the papers' claims scorecard (:mod:`medganlab.claims`, from ``build/tables/``), then the
tables beside the papers' values, the environment and revision, and per notebook its run
time, status, the metrics it recorded with :func:`medganlab.report.show_metrics` and every
figure it drew.

Resumable: a notebook that already ran without error in this profile, from the same source,
is not run again (``force=True`` reruns it); ``only`` / ``start_from`` select notebooks; a
failing notebook is reported and the others still run.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import platform
import subprocess
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
    _collect(nb, run)
    return run


def _collect(nb: nbformat.NotebookNode, run: NotebookRun) -> NotebookRun:
    """Add the figures and recorded metrics of an executed notebook to ``run``."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                run.figures.append(data["image/png"].replace("\n", ""))
            if METRICS_MIME in data:
                run.metrics.append(data[METRICS_MIME])
    return run


def _revision(folder: Path) -> str:
    """The git revision of the course (``unknown`` outside a git checkout)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if done.returncode != 0:
        return "unknown"
    return done.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def _environment() -> dict[str, str]:
    from medganlab import __version__

    env = {"medganlab": __version__, "python": platform.python_version()}
    for name in ("tensorflow", "keras", "numpy"):
        try:
            from importlib.metadata import version

            env[name] = version(name if name != "tensorflow" else _tf_distribution())
        except Exception:  # not installed
            env[name] = "not installed"
    env["precision"] = os.environ.get("MEDGANLAB_PRECISION", "auto")
    env["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
    return env


def _tf_distribution() -> str:
    from importlib.metadata import PackageNotFoundError, version

    for name in ("tensorflow", "tensorflow-cpu"):
        try:
            version(name)
            return name
        except PackageNotFoundError:
            continue
    return "tensorflow"


def _table_html(path: Path) -> str:
    """A table of ``build/tables/`` as HTML, the paper's columns marked."""
    from medganlab.claims import load_table

    rows, _ = load_table(path)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(
        f"<th class='{'paper' if c.startswith('paper_') else ''}'>{html.escape(c)}</th>"
        for c in columns
    )
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(row.get(c)))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"<table class='data'><caption>{html.escape(path.name)}</caption><tr>{head}</tr>{body}</table>"


def _cell(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_report(
    runs: list[NotebookRun],
    out: Path,
    profile: str,
    tables: Path | None = None,
    revision: str = "unknown",
) -> Path:
    """Write ``index.html`` (self-contained: figures inlined, no external files) and
    ``summary.json``; with ``tables`` (``build/tables``) the claims scorecard comes first."""
    from medganlab.claims import scorecard

    out.mkdir(parents=True, exist_ok=True)
    environment = _environment()
    card = scorecard(tables, profile) if tables is not None else []
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>MedGAN Lab reproduction</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}img{max-width:520px;"
        "margin:4px;border:1px solid #ccc}table{border-collapse:collapse;margin:8px 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px}.fail{color:#b00}.ok{color:#070}"
        ".holds{background:#e5f5e5}.does-not-hold{background:#fbe3e3}th.paper{background:#eef}"
        "</style>",
        f"</head><body><h1>MedGAN Lab: course reproduction</h1><p>Profile: <b>{profile}</b>. "
        f"Revision <code>{html.escape(revision)}</code>. {len(runs)} notebook(s); "
        f"{sum(r.seconds for r in runs):.0f} s in all.</p>",
    ]
    if card:
        parts.append("<h2 id='scorecard'>The papers' claims</h2><table class='scorecard'>")
        parts.append(
            "<tr><th>paper</th><th>claim</th><th class='paper'>paper</th><th>ours</th>"
            "<th>profile</th><th>verdict</th></tr>"
        )
        for row in card:
            css = row["verdict"].replace(" ", "-")
            parts.append(
                f"<tr class='{css}'><td>{html.escape(row['paper'])}</td>"
                f"<td>{html.escape(row['claim'])}</td><td>{html.escape(row['paper_value'])}</td>"
                f"<td>{html.escape(row['ours'])}</td><td>{html.escape(row['profile'])}</td>"
                f"<td>{html.escape(row['verdict'])}</td></tr>"
            )
        parts.append("</table>")
    table_files = sorted(tables.glob(f"*_{profile}.json")) if tables is not None else []
    if table_files:
        parts.append("<h2 id='tables'>The papers' tables, rebuilt</h2>")
        parts.extend(_table_html(path) for path in table_files)
    parts.append("<h2 id='environment'>Environment</h2><table>")
    parts.extend(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
        for k, v in environment.items()
    )
    parts.append("</table><h2 id='notebooks'>Notebooks</h2>")
    parts.append("<table><tr><th>notebook</th><th>status</th><th>seconds</th><th>figures</th></tr>")
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
        parts.extend(
            f"<img alt='{html.escape(run.name)} figure {i + 1}' src='data:image/png;base64,{fig}'>"
            for i, fig in enumerate(run.figures)
        )
    # Marks the page once loaded: how many figures failed to decode (a browser test reads it).
    parts.append(
        "<script>window.addEventListener('load',function(){var b=0;"
        "for(var i=0;i<document.images.length;i++){var im=document.images[i];"
        "if(!im.complete||im.naturalWidth===0){b++;}}"
        "document.body.setAttribute('data-figures',document.images.length);"
        "document.body.setAttribute('data-broken-figures',b);});</script>"
    )
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
    (out / "summary.json").write_text(
        json.dumps(
            {
                "profile": profile,
                "revision": revision,
                "environment": environment,
                "scorecard": card,
                "runs": summary,
            },
            indent=1,
        )
    )
    return index


def _fingerprint(source: Path) -> str:
    return hashlib.sha256(source.read_bytes()).hexdigest()[:16]


def reproduce(
    solutions: Path,
    build: Path,
    only: list[str] | None = None,
    start_from: str | None = None,
    force: bool = False,
) -> tuple[Path, list[NotebookRun]]:
    """Execute the solution notebooks (all, ``only`` some, or from ``start_from`` on) and
    write the report; notebooks already run without error in this profile from the same
    source are reused unless ``force``.

    Raises:
        ValueError: ``only`` or ``start_from`` names no assignment.
    """
    from medganlab import authoring
    from medganlab.profiles import active_profile

    authoring.sync_sources(solutions)
    profile = active_profile()
    os.environ.setdefault("MEDGANLAB_PROFILE", profile)  # kernels inherit the same choice
    os.environ.setdefault("MEDGANLAB_QUIET", "1")  # one line per epoch, no live progress bars
    os.environ.setdefault("MEDGANLAB_BUILD", str(build))  # the notebooks' tables land here
    sources = authoring.source_files(solutions)
    names = [s.parent.name for s in sources]
    for asked in [*(only or []), *([start_from] if start_from else [])]:
        if asked not in names:
            raise ValueError(f"unknown notebook {asked!r}; expected one of: {', '.join(names)}")
    if start_from:
        sources = sources[names.index(start_from) :]
    if only:
        sources = [s for s in sources if s.parent.name in only]
    state_path = build / "reproduce" / "state.json"
    state = json.loads(state_path.read_text()) if state_path.is_file() else {}
    runs = []
    for number, source in enumerate(sources, start=1):
        name = source.parent.name
        executed = build / "reproduce" / f"{name}.ipynb"
        key = f"{name}:{profile}"
        previous = state.get(key, {})
        left = sum(
            state.get(f"{s.parent.name}:{profile}", {}).get("seconds", 0)
            for s in sources[number - 1 :]
        )
        if (
            not force
            and previous.get("source") == _fingerprint(source)
            and previous.get("error") is None
            and executed.is_file()
        ):
            run = _collect(
                nbformat.read(executed, as_version=4),
                NotebookRun(name=name, seconds=previous["seconds"]),
            )
            print(
                f"[reproduce] {number}/{len(sources)} {name}: unchanged since its last run "
                "in this profile, reused (force to rerun)",
                flush=True,
            )
            runs.append(run)
            continue
        estimate = f", about {previous['seconds'] / 60:.1f} min last time" if previous else ""
        print(
            f"[reproduce] {number}/{len(sources)} {name} (profile {profile}{estimate}; "
            f"~{left / 60:.0f} min left by earlier runs) ...",
            flush=True,
        )
        run = run_notebook(source.with_suffix(".ipynb"), executed)
        print(
            f"[reproduce] {name}: {'ok' if run.error is None else 'FAILED: ' + run.error} "
            f"in {run.seconds:.1f} s, {len(run.figures)} figures",
            flush=True,
        )
        state[key] = {
            "source": _fingerprint(source),
            "seconds": round(run.seconds, 1),
            "error": run.error,
        }
        state_path.parent.mkdir(parents=True, exist_ok=True)
        state_path.write_text(json.dumps(state, indent=1))
        runs.append(run)
    return (
        write_report(
            runs, build / "report", profile, tables=build / "tables", revision=_revision(solutions)
        ),
        runs,
    )
