"""Metrics that ``make reproduce`` collects from executed notebooks into the course report.

A notebook calls :func:`show_metrics`; the student sees a small table, and the executed
notebook carries the same numbers as JSON under :data:`METRICS_MIME` for the report.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping

__all__ = ["METRICS_MIME", "show_metrics", "metrics_table_html"]

METRICS_MIME = "application/vnd.medganlab.metrics+json"


def _fmt(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _clean(value: object) -> object:
    """JSON-safe: NumPy scalars to Python, NaN and infinities to ``None`` (shown as n/a).

    A NaN in a display message makes Jupyter drop it ("Out of range float values are not
    JSON compliant"), and the report would read it as a number.
    """
    import math

    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        value = item()
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


def metrics_table_html(title: str, metrics: Mapping[str, object]) -> str:
    """An HTML table of ``metrics`` with a caption."""
    rows = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_fmt(v))}</td></tr>"
        for k, v in metrics.items()
    )
    return (
        f"<table><caption>{html.escape(title)}</caption>"
        f"<tr><th>metric</th><th>value</th></tr>{rows}</table>"
    )


def show_metrics(title: str, metrics: Mapping[str, object]) -> None:
    """Display ``metrics`` as a table and record them for the reproduction report.

    Values that are not finite numbers (NaN, infinity) are recorded as ``null`` and shown as
    "n/a", never as a number.
    """
    from IPython.display import display

    clean = json.loads(json.dumps(_clean(dict(metrics)), allow_nan=False))
    text = "\n".join(f"{k}: {_fmt(v)}" for k, v in clean.items())
    display(
        {
            "text/plain": f"{title}\n{text}",
            "text/html": metrics_table_html(title, clean),
            METRICS_MIME: {"title": title, "metrics": clean},
        },
        raw=True,
    )
