"""Atomic, checksummed data set folders."""

from __future__ import annotations

import pytest

from medganlab.data.manifest import (
    atomic_dataset_dir,
    manifest_matches,
    verify_manifest,
    write_manifest,
)


def test_success_moves_the_folder_into_place_with_a_manifest(tmp_path):
    out = tmp_path / "set"
    with atomic_dataset_dir(out) as work:
        (work / "a.txt").write_text("a")
        write_manifest(work, "demo", {"n": 1})
    assert (out / "a.txt").read_text() == "a"
    assert manifest_matches(out, "demo", {"n": 1})
    assert not manifest_matches(out, "demo", {"n": 2})
    assert verify_manifest(out) == []
    (out / "a.txt").write_text("tampered")
    assert verify_manifest(out) == ["a.txt"]


def test_an_interrupted_run_leaves_nothing_and_keeps_the_old_set(tmp_path):
    out = tmp_path / "set"
    with pytest.raises(KeyboardInterrupt):
        with atomic_dataset_dir(out) as work:
            (work / "half.txt").write_text("x")
            raise KeyboardInterrupt
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [], "the partial folder must be removed"
    with atomic_dataset_dir(out) as work:
        (work / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dataset_dir(out) as work:
            (work / "new.txt").write_text("new")
            raise RuntimeError("disk full")
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]


def test_verify_without_manifest_says_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        verify_manifest(tmp_path)
