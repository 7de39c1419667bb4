"""Atomic, checksummed data set folders shared by every generator.

A generator writes into a temporary sibling folder, writes ``manifest.json`` last (the
parameters it was made with and a SHA-256 per file), then renames the folder into place.
An interrupted run therefore never leaves a half data set at the destination, and a second
run with the same parameters finds a matching manifest and does nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "MANIFEST_NAME",
    "sha256_file",
    "read_manifest",
    "manifest_matches",
    "dataset_identity",
    "write_manifest",
    "atomic_dataset_dir",
    "verify_manifest",
]

MANIFEST_NAME = "manifest.json"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """Return the manifest of ``folder``, or ``None`` when it has none (or an unreadable one)."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def manifest_matches(folder: Path, kind: str, params: Mapping[str, Any]) -> bool:
    """True when ``folder`` holds a complete data set of ``kind`` made with ``params``."""
    manifest = read_manifest(folder)
    return bool(
        manifest
        and manifest.get("kind") == kind
        and manifest.get("params") == json.loads(json.dumps(dict(params)))
    )


def dataset_identity(folder: Path) -> dict[str, Any]:
    """What makes ``folder``'s data set this one: its manifest's kind and parameters (for a
    phantom, the generator version too), or its resolved path when it has no manifest (a
    plugged-in real data set)."""
    manifest = read_manifest(folder)
    if manifest is None or "kind" not in manifest:
        return {"folder": str(Path(folder).expanduser().resolve())}
    return {"kind": manifest["kind"], "params": manifest.get("params", {})}


def write_manifest(
    folder: Path, kind: str, params: Mapping[str, Any], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Checksum every file under ``folder`` and write ``manifest.json`` (sorted, stable)."""
    folder = Path(folder)
    files = {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME
    }
    manifest = {"kind": kind, "params": dict(params), "files": files, **dict(extra or {})}
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def verify_manifest(folder: Path) -> list[str]:
    """Return the files whose checksum differs from the manifest (or that are missing)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        raise FileNotFoundError(
            f"{folder}: no readable {MANIFEST_NAME}; expected a generated data set"
        )
    bad = []
    for name, digest in manifest["files"].items():
        path = folder / name
        if not path.is_file() or sha256_file(path) != digest:
            bad.append(name)
    return bad


@contextlib.contextmanager
def atomic_dataset_dir(out: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success replace ``out`` with it.

    On any exception (including KeyboardInterrupt) the temporary folder is removed and
    ``out`` is left exactly as it was.
    """
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
