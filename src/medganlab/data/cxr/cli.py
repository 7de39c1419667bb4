"""The ``medganlab data cxr`` command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from medganlab.data.cxr.labels import _check_names
from medganlab.data.cxr.writer import generate_dataset

__all__ = ["add_arguments", "run_cli"]


def _parse_prevalence(text: str) -> str | dict[str, float]:
    text = text.strip()
    if text.startswith("{"):
        try:
            counts = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"--prevalence JSON counts could not be parsed: {error}") from None
        if not isinstance(counts, dict):
            raise ValueError(f"--prevalence JSON must be an object of counts, got {text!r}")
        _check_names(list(counts))
        return {str(k): float(v) for k, v in counts.items()}
    if text.lower() not in ("nih", "balanced", "normal-abnormal"):
        raise ValueError(
            f"--prevalence must be nih, balanced, normal-abnormal or JSON counts, got {text!r}"
        )
    return text.lower()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``medganlab data cxr`` options to ``parser``."""
    parser.add_argument("--n", type=int, default=200, help="number of images (default 200)")
    parser.add_argument("--size", type=int, default=256, help="image size in pixels, 64-1024")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--prevalence",
        default="nih",
        help="nih (imbalanced, multi-label), balanced, normal-abnormal, or JSON counts "
        'such as \'{"No Finding": 50, "Mass": 50}\'',
    )
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    parser.add_argument(
        "--single-finding", action="store_true", help="one finding per abnormal image"
    )
    parser.add_argument("--dicom", action="store_true", help="also write DICOM DX files")
    parser.add_argument("--masks", action="store_true", help="also write lung/heart/lesion masks")
    parser.add_argument("--workers", type=int, default=None, help="worker processes")
    parser.add_argument(
        "--gallery",
        nargs="?",
        const="",
        default=None,
        metavar="PNG",
        help="instead of a data set, draw a normal phantom and one of each finding, the "
        "sign written with each, to PNG (default <build>/cxr_gallery.png); --seed and --size apply",
    )
    parser.add_argument(
        "--real",
        type=Path,
        default=None,
        metavar="FILM",
        help="with --gallery: a real PA radiograph (PNG/JPEG) shown beside the phantoms "
        "(only read)",
    )


def run_cli(args: argparse.Namespace) -> int:
    """Run ``medganlab data cxr`` with parsed ``args``; return the exit code."""
    from medganlab import paths

    if args.gallery is not None:
        return _run_gallery(args)
    if args.real is not None:
        print("error: --real FILM is only used with --gallery")
        return 2
    try:
        prevalence = _parse_prevalence(args.prevalence)
        out = args.out if args.out is not None else paths.data_dir() / "cxr_phantom"
        folder = generate_dataset(
            out,
            n=args.n,
            size=args.size,
            seed=args.seed,
            prevalence=prevalence,
            single_finding=args.single_finding,
            dicom=args.dicom,
            masks=args.masks,
            workers=args.workers,
        )
    except ValueError as error:
        print(f"error: {error}")
        return 2
    from medganlab.data.manifest import read_manifest

    manifest = read_manifest(folder) or {}
    counts = manifest.get("counts", {})
    summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    print(f"{folder}: {manifest.get('images', '?')} images at {args.size}px ({summary})")
    return 0


def _run_gallery(args: argparse.Namespace) -> int:
    """``--gallery``: write the finding gallery (beside ``--real``) and print its path."""
    from medganlab import paths
    from medganlab.data.cxr.gallery import write_gallery

    out = Path(args.gallery) if args.gallery else paths.build_dir() / "cxr_gallery.png"
    if out.suffix.lower() != ".png":
        print(f"error: --gallery expects a .png path, got {out}")
        return 2
    try:
        write_gallery(out, real=args.real, seed=args.seed, size=args.size)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}")
        return 2
    print(
        f"{out}: gallery of a normal film and the 8 findings at {args.size}px"
        + (f" beside {args.real}" if args.real is not None else "")
    )
    return 0
