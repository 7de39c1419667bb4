"""Reference Fréchet distance and the data catalog."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from medganlab.data import catalog
from medganlab.evaluation.frechet import (
    feature_statistics,
    frechet_distance,
    frechet_distance_features,
)


def test_distance_of_a_set_to_itself_is_zero():
    x = np.random.default_rng(0).normal(size=(200, 6))
    assert frechet_distance_features(x, x) == pytest.approx(0.0, abs=1e-9)


def test_symmetry_and_pure_mean_shift():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(300, 4)), rng.normal(size=(300, 4)) * 1.5
    assert frechet_distance_features(x, y) == pytest.approx(frechet_distance_features(y, x))
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    mu, sigma = feature_statistics(x)
    assert frechet_distance(mu, sigma, mu + shift, sigma) == pytest.approx(shift @ shift)


def test_one_dimensional_case_by_hand():
    # d² = (m1 − m2)² + s1 + s2 − 2 √(s1 s2) = (1 − 4)² + 4 + 9 − 2·6 = 10
    assert frechet_distance([1.0], [[4.0]], [4.0], [[9.0]]) == pytest.approx(10.0)


def test_agrees_with_scipy_sqrtm():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(500, 8)), rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8))
    (m1, s1), (m2, s2) = feature_statistics(a), feature_statistics(b)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
    assert frechet_distance(m1, s1, m2, s2) == pytest.approx(expected, rel=1e-6)


def test_bad_shapes_are_clear_errors():
    with pytest.raises(ValueError, match="shapes disagree"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="n >= 2"):
        feature_statistics(np.zeros((1, 3)))


def test_catalog_reuses_a_plugged_in_folder_and_rejects_a_missing_one(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDGANLAB_CXR_ROOT", str(tmp_path))
    assert catalog.cxr_dataset(n=10, size=64) == tmp_path
    monkeypatch.setenv("MEDGANLAB_CT_ROOT", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="MEDGANLAB_CT_ROOT"):
        catalog.ct_dataset(cases=1, size=64)


def test_catalog_names_generated_sets_by_their_parameters(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDGANLAB_DATA", str(tmp_path))
    monkeypatch.delenv("MEDGANLAB_CXR_ROOT", raising=False)
    first = catalog.cxr_dataset(n=6, size=64, seed=3, progress=False)
    other = catalog.cxr_dataset(n=6, size=64, seed=4, progress=False)
    assert first.parent == tmp_path and first != other
    stamp = (first / "manifest.json").stat().st_mtime_ns
    assert catalog.cxr_dataset(n=6, size=64, seed=3, progress=False) == first
    assert (first / "manifest.json").stat().st_mtime_ns == stamp, "a second call must reuse the set"


def test_run_dir_resumes_real_runs_and_isolates_smoke_and_grading(tmp_path, monkeypatch):
    from medganlab.paths import run_dir

    monkeypatch.setenv("MEDGANLAB_BUILD", str(tmp_path))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert (
        run_dir("01_dcgan", "cpu")
        == run_dir("01_dcgan", "cpu")
        == tmp_path / "runs" / "01_dcgan_cpu"
    )
    first, second = run_dir("01_dcgan", "smoke"), run_dir("01_dcgan", "smoke")
    assert first != second and tmp_path not in first.parents, "smoke runs never resume"
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert run_dir("01_dcgan", "cpu") != tmp_path / "runs" / "01_dcgan_cpu"


class _BrightnessJudge:
    """Stands in for the reference classifier: class = round(10 * mean pixel), 8x8 input."""

    input_shape = (None, 8, 8, 1)

    def predict(self, images, batch_size=None, verbose=0):
        k = np.clip(np.round(10 * images.mean(axis=(1, 2, 3))).astype(int), 0, 3)
        return np.eye(4)[k] * 5.0


def test_conditional_confusion_counts_where_each_request_lands():
    """Row = class asked for, column = class judged; accuracy is its diagonal over n."""
    from medganlab.evaluation.classifier import conditional_accuracy, conditional_confusion

    drawn = {0: 0, 1: 1, 2: 1, 3: 3}  # asked for 2, the generator draws 1

    def generate(k, n):  # 16x16 images: the judge's 8x8 input forces the area resize
        images = np.full((n, 16, 16, 1), drawn[k] / 10, dtype="float32")
        images[: n // 4] = 0.0  # a quarter of every request is read as class 0
        return images

    counts = conditional_confusion(generate, _BrightnessJudge(), 4, per_class=8)
    assert counts.tolist() == [[8, 0, 0, 0], [2, 6, 0, 0], [2, 6, 0, 0], [2, 0, 0, 6]]
    accuracy = conditional_accuracy(generate, _BrightnessJudge(), 4, per_class=8)
    assert accuracy.tolist() == [1.0, 0.75, 0.0, 0.75]
    with pytest.raises(ValueError, match="expected 8"):
        conditional_confusion(lambda k, n: generate(k, n)[:3], _BrightnessJudge(), 4, 8)
