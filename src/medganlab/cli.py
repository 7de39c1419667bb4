"""The ``medganlab`` command line: data, dicom, release, grade, reproduce, survey, bench, doctor."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path

from medganlab import __version__

__all__ = ["main", "build_parser"]

# What `doctor` checks: import name -> why the course needs it.
REQUIRED = {
    "tensorflow": "every model (install the 'cpu' or 'gpu' extra, or use Colab's)",
    "keras": "every model",
    "numpy": "everything",
    "scipy": "phantoms and the Fréchet distance",
    "matplotlib": "figures",
    "sklearn": "ROC/AUC and splits",
    "pydicom": "DICOM reading and writing",
    "nibabel": "KiTS19 NIfTI files",
    "PIL": "PNG images",
    "tqdm": "progress bars",
    "jupytext": "the notebooks' source format",
    "nbclient": "headless notebook runs (make reproduce)",
}
COURSE_TOOLS = {"nbgrader": "release and grading", "jupyterlab": "make lab"}


def _course():
    from medganlab.grading import Course
    from medganlab.paths import home

    root = home()
    if not (root / "solutions").is_dir():
        raise FileNotFoundError(
            f"{root}: no solutions/ folder; run this inside the course repository "
            "(or set MEDGANLAB_HOME to it)"
        )
    return Course(root)


def cmd_artifacts_pack(args: argparse.Namespace) -> int:
    from medganlab.paths import build_dir
    from medganlab.training.artifacts import pack_reference_artifacts

    out = pack_reference_artifacts(args.out or build_dir() / "reference_artifacts.zip", args.source)
    print(f"packed the reference artifacts into {out}: publish it on the course page for Colab")
    return 0


def cmd_artifacts_install(args: argparse.Namespace) -> int:
    from medganlab.paths import reference_artifacts_dir
    from medganlab.training.artifacts import install_reference_artifacts

    names = install_reference_artifacts(args.source)
    print(f"installed {', '.join(names)} into {reference_artifacts_dir()}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    missing = [
        f"{name} ({why})"
        for name, why in REQUIRED.items()
        if importlib.util.find_spec(name) is None
    ]
    optional = [
        f"{name} ({why})"
        for name, why in COURSE_TOOLS.items()
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        print("medganlab doctor: missing packages: " + "; ".join(missing), file=sys.stderr)
        print("Run `make setup` (or `pip install -e '.[cpu,course,dev]'`).", file=sys.stderr)
        return 1
    from medganlab.runtime import describe_runtime

    try:
        info = describe_runtime()
    except ValueError as exc:  # a wrong MEDGANLAB_PROFILE or MEDGANLAB_PRECISION
        print(f"medganlab doctor: {exc}", file=sys.stderr)
        return 1
    print("\n".join(info.lines()))
    from medganlab.paths import build_dir, data_dir

    print(f"Data: {data_dir()} | Build: {build_dir()}")
    if optional:
        print("Instructor tools not installed: " + "; ".join(optional))
    print("OK: the environment has everything the course needs.")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from medganlab.grading import release

    course = _course()
    names = release(course, args.assignments or None)
    print(f"released: {', '.join(names)}")
    from medganlab.course_info import load_settings

    settings = load_settings(course.root)
    print(f"public address: {settings.repository} @ {settings.ref} (from {settings.source})")
    if settings.is_placeholder:
        print(
            "note: that address is a placeholder; set [public] in course/settings.toml "
            "before a course release (a release build refuses it)",
            file=sys.stderr,
        )
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    from medganlab.grading import grade_cohort
    from medganlab.grading.cohort import scan_submissions

    course = _course()
    if args.kubernetes:
        from medganlab.grading.kubernetes import write_manifest

        found, _ = scan_submissions(Path(args.submissions), args.assignment)
        path = write_manifest(Path(args.kubernetes), args.assignment, [f.student for f in found])
        print(f"wrote {path}: one Kubernetes pod per submission ({len(found)})")
        return 0
    rows = grade_cohort(
        course,
        args.assignment,
        Path(args.submissions),
        Path(args.out),
        workers=args.workers,
        timeout=args.timeout,
        wall_timeout=args.wall_timeout,
        only=args.only,
        reference=not args.no_reference,
    )
    width = max([len(r["student"]) for r in rows] + [7])
    for row in rows:
        note = f"  {row['status'].upper()}: {row['reason']}" if row["reason"] else ""
        pending = f" (+{row['manual_pending']:g} manual)" if row["manual_pending"] else ""
        print(
            f"{row['student']:<{width}}  {row['score']:5.1f} / {row['max_score']:.1f}{pending}{note}"
        )
    counts = {s: sum(r["status"] == s for r in rows) for s in ("ok", "flagged", "failed")}
    print(", ".join(f"{n} {s}" for s, n in counts.items()) + f"; isolation: {rows[0]['isolation']}")
    print(f"grades: {Path(args.out) / 'grades.csv'}")
    return 1 if counts["failed"] else 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from medganlab.paths import build_dir
    from medganlab.reproduce import reproduce

    index, runs = reproduce(
        _course().solutions,
        build_dir(),
        args.only or None,
        start_from=args.start_from,
        force=args.force,
    )
    print(f"report: {index}")
    return 1 if any(r.error for r in runs) else 0


def cmd_bench(args: argparse.Namespace) -> int:
    from medganlab.bench.runner import main as bench_main

    return bench_main(args.names)


def cmd_survey_aggregate(args: argparse.Namespace) -> int:
    from medganlab.paths import build_dir
    from medganlab.survey.report import write_report

    out = Path(args.out) if args.out else build_dir() / "survey" / "report"
    result = write_report(Path(args.folder), out)
    for name, reason in result["skipped"]:
        print(f"skipped {name}: {reason}")
    print(f"{result['responses']} responses read, {len(result['skipped'])} files skipped")
    print(f"report: {result['index']}\ntable: {result['csv']}")
    return 0


def cmd_survey_example(args: argparse.Namespace) -> int:
    from medganlab.survey.example import example_cohort, write_cohort

    paths = write_cohort(Path(args.folder), example_cohort(args.n, args.paired, args.seed))
    print(f"wrote {len(paths)} generated responses to {args.folder}")
    return 0


def _add_generator(sub, name: str, module: str, help_text: str) -> None:
    """Wire `medganlab data <name>` to a generator module's add_arguments/run_cli."""
    parser = sub.add_parser(name, help=help_text)
    try:
        mod = importlib.import_module(module)
        mod.add_arguments(parser)
    except Exception as exc:  # a broken generator must not break every other command
        parser.set_defaults(func=lambda a, exc=exc: _unavailable(name, exc))
        return
    parser.set_defaults(func=mod.run_cli)


def _unavailable(name: str, exc: Exception) -> int:
    print(f"medganlab data {name} is unavailable: {exc}", file=sys.stderr)
    return 1


def cmd_data_info(args: argparse.Namespace) -> int:
    root = Path(args.folder)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such folder")
    from medganlab.data import kits, nih

    if nih.is_nih_layout(root):
        print(nih.describe(root))
    elif kits.is_kits_layout(root):
        print(kits.describe(root))
    else:
        raise ValueError(
            f"{root}: neither an NIH ChestX-ray14 layout (Data_Entry_2017.csv + images) nor a "
            "KiTS19 / kidney-CT layout (case_XXXXX folders)"
        )
    return 0


def cmd_dicom_show(args: argparse.Namespace) -> int:
    from medganlab.data import dicom

    dicom.render_png(Path(args.file), Path(args.png), center=args.center, width=args.width)
    print(f"wrote {args.png}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medganlab", description=__doc__)
    parser.add_argument("--version", action="version", version=f"medganlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("doctor", help="check the environment").set_defaults(func=cmd_doctor)

    data = sub.add_parser("data", help="generate or inspect data sets")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    _add_generator(data_sub, "cxr", "medganlab.data.cxr.cli", "chest X-ray phantom (NIH layout)")
    _add_generator(data_sub, "ct", "medganlab.data.ct.cli", "kidney CT phantom (DICOM / KiTS19)")
    info = data_sub.add_parser("info", help="describe an NIH or KiTS19 folder")
    info.add_argument("folder")
    info.set_defaults(func=cmd_data_info)

    dicom = sub.add_parser("dicom", help="DICOM tools")
    dicom_sub = dicom.add_subparsers(dest="dicom_command", required=True)
    show = dicom_sub.add_parser("show", help="render a DICOM image (or a series' middle slice)")
    show.add_argument("file")
    show.add_argument("--png", required=True, help="output PNG")
    show.add_argument("--center", type=float, default=None, help="window level (HU)")
    show.add_argument("--width", type=float, default=None, help="window width (HU)")
    show.set_defaults(func=cmd_dicom_show)

    rel = sub.add_parser("release", help="regenerate notebooks/ from solutions/")
    rel.add_argument("assignments", nargs="*")
    rel.set_defaults(func=cmd_release)

    grade = sub.add_parser("grade", help="autograde a cohort's submissions in parallel")
    grade.add_argument("assignment", help="assignment folder name, e.g. 00_setup_and_data")
    grade.add_argument(
        "--submissions",
        required=True,
        help="<student>/<assignment>/<assignment>.ipynb or <student>.ipynb files",
    )
    grade.add_argument("--out", default="build/grades", help="grades.csv, grades.json, feedback/")
    grade.add_argument("--workers", type=int, default=2)
    grade.add_argument("--timeout", type=int, default=None, help="seconds per cell")
    grade.add_argument(
        "--wall-timeout", type=int, default=None, help="seconds per submission (default 900)"
    )
    grade.add_argument("--only", nargs="*", help="grade only these students")
    grade.add_argument(
        "--no-reference", action="store_true", help="skip the solution's check run (data cached)"
    )
    grade.add_argument(
        "--kubernetes", metavar="FILE", help="write a Kubernetes Job manifest instead of grading"
    )
    grade.set_defaults(func=cmd_grade)

    rep = sub.add_parser("reproduce", help="run every solution notebook; write build/report/")
    rep.add_argument("--only", nargs="*", help="assignment folder names")
    rep.add_argument("--from", dest="start_from", help="start at this assignment")
    rep.add_argument(
        "--force", action="store_true", help="rerun notebooks that already ran at this source"
    )
    rep.set_defaults(func=cmd_reproduce)

    survey = sub.add_parser("survey", help="the end-of-course survey (assignment 09)")
    survey_sub = survey.add_subparsers(dest="survey_command", required=True)
    agg = survey_sub.add_parser(
        "aggregate", help="turn a folder of responses into an HTML report, PNGs and a CSV"
    )
    agg.add_argument("folder", help="folder of survey-*.json responses (searched recursively)")
    agg.add_argument("--out", default=None, help="report folder (default <build>/survey/report)")
    agg.set_defaults(func=cmd_survey_aggregate)
    ex = survey_sub.add_parser("example", help="write generated (fake) responses to try it")
    ex.add_argument("folder")
    ex.add_argument("--n", type=int, default=24, help="post-course responses")
    ex.add_argument("--paired", type=int, default=18, help="of which also took the pre-check")
    ex.add_argument("--seed", type=int, default=0)
    ex.set_defaults(func=cmd_survey_example)

    art = sub.add_parser("artifacts", help="pack or install the reference artifacts (01-03)")
    art_sub = art.add_subparsers(dest="artifacts_command", required=True)
    pack = art_sub.add_parser("pack", help="zip the exported generators for Colab students")
    pack.add_argument(
        "--out", type=Path, default=None, help="zip (default build/reference_artifacts.zip)"
    )
    pack.add_argument("--source", type=Path, default=None, help="artifacts folder to pack")
    pack.set_defaults(func=cmd_artifacts_pack)
    inst = art_sub.add_parser("install", help="unpack a reference zip (a path or https address)")
    inst.add_argument("source", help="the zip made by `medganlab artifacts pack`")
    inst.set_defaults(func=cmd_artifacts_install)

    bench = sub.add_parser("bench", help="run benchmarks; results in build/bench/")
    bench.add_argument("names", nargs="*")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as exc:
        print(f"medganlab {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
