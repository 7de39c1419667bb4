"""show_metrics: what a notebook records for the reproduction report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medganlab import report


@pytest.fixture
def shown(monkeypatch):
    captured = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: captured.append(obj))
    return captured


def test_nan_and_infinity_are_recorded_as_missing_and_shown_as_na(shown):
    report.show_metrics(
        "t",
        {"auc": float("nan"), "fid": np.float32(np.inf), "acc": np.float64(0.5), "n": np.int64(3)},
    )
    (message,) = shown
    recorded = message[report.METRICS_MIME]["metrics"]
    assert recorded == {"auc": None, "fid": None, "acc": 0.5, "n": 3}
    json.dumps(message[report.METRICS_MIME], allow_nan=False)  # valid JSON for Jupyter
    assert "auc: n/a" in message["text/plain"] and "fid: n/a" in message["text/plain"]
    assert "nan" not in message["text/html"].lower()


def test_nested_values_and_text_pass_through(shown):
    report.show_metrics(
        "t", {"per finding": {"Mass": np.float32(0.25), "Nodule": np.nan}, "note": "x"}
    )
    recorded = shown[0][report.METRICS_MIME]["metrics"]
    assert recorded == {"per finding": {"Mass": 0.25, "Nodule": None}, "note": "x"}
