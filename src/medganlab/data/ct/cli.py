"""The ``medganlab data ct`` command line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from medganlab.data.ct.writer import DATASET_KIND, generate_dataset

__all__ = ["add_arguments", "run_cli"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``medganlab data ct`` options to ``parser``."""
    parser.add_argument("--cases", type=int, default=20, help="number of patients (default 20)")
    parser.add_argument(
        "--size", type=int, default=512, help="in-plane pixels (64-512, default 512)"
    )
    parser.add_argument("--seed", type=int, default=0, help="data set seed (default 0)")
    parser.add_argument(
        "--slice-thickness", type=float, default=3.0, help="slice thickness in mm (1-5, default 3)"
    )
    parser.add_argument(
        "--tumour-fraction",
        type=float,
        default=0.8,
        help="fraction of patients with a tumour (default 0.8)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default <data>/kidney_ct_phantom)"
    )
    parser.add_argument(
        "--kits-layout",
        action="store_true",
        help="also write case_XXXXX/imaging.nii.gz + segmentation.nii.gz",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: all cores)"
    )


def run_cli(args: argparse.Namespace, echo: Callable[[str], None] = print) -> int:
    """Run ``medganlab data ct`` with parsed ``args``; return the exit code."""
    from medganlab.paths import data_dir

    out = args.out if args.out is not None else data_dir() / DATASET_KIND
    folder = generate_dataset(
        out,
        cases=args.cases,
        size=args.size,
        seed=args.seed,
        slice_thickness_mm=args.slice_thickness,
        tumour_fraction=args.tumour_fraction,
        kits_layout=args.kits_layout,
        workers=args.workers,
    )
    echo(
        f"kidney CT phantom: {args.cases} cases at {args.size}x{args.size}, {args.slice_thickness} mm -> {folder}"
    )
    return 0
