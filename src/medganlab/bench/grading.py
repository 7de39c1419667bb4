"""Cohort grading throughput and the sandbox's cost (issue 17).

Grades ``MEDGANLAB_BENCH_SUBMISSIONS`` (default 100) copies of assignment 00's solution,
plus hostile variants, with ``medganlab grade``'s code on 2 workers in the bubblewrap
sandbox, and reports submissions per minute (wall clock: depends on what else the machine
runs, so the load average is recorded) and CPU-seconds per submission, split into the
kernel's process tree and the grader's (the machine-independent number: on ``c`` idle cores
throughput is at most ``60 * c / cpu_s_per_submission`` per minute). Then it grades a few
copies without the sandbox (``MEDGANLAB_SANDBOX=none``, same code) to measure what
isolation costs, and times one kernel start and the notebook's imports in the sandbox: what
bounds throughput.
"""

from __future__ import annotations

import copy
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ASSIGNMENT = "00_setup_and_data"


def _snapshot(course, root: Path):
    """A private copy of the assignment (sources, fresh release, config): the benchmark must
    not see the working tree change under it."""
    from medganlab.grading import Course, release

    shutil.copytree(course.solutions / ASSIGNMENT, root / "solutions" / ASSIGNMENT)
    (root / "autograder").mkdir(parents=True)
    shutil.copy(course.config_file, root / "autograder")
    scratch = Course(root)
    release(scratch, [ASSIGNMENT])
    return scratch


GRADED_IMPORTS = (  # what a graded 00 kernel imports (its Keras cells are skipped)
    "import ipywidgets, matplotlib.pyplot, numpy, pydicom, medganlab\n"
    "from medganlab.data import catalog, cxr_phantom, dicom, kits, nih\n"
    "from medganlab.plotting import plot_history, show_images\n"
    "from medganlab.report import show_metrics"
)


_REPORT_CPU = (
    "\nimport resource as r\nu = r.getrusage(r.RUSAGE_SELF)\nprint(u.ru_utime + u.ru_stime)"
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _kernel_start_seconds() -> dict:
    """CPU-seconds to start a Python in the sandbox and to import what notebook 00's graded
    kernel imports (and Keras, which its skipped warm-up cells import), sandboxed and not."""
    from medganlab.grading.sandbox import detect

    box = detect()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        scratch, run = Path(tmp) / "w", Path(tmp) / "r"
        box.prepare(scratch, run)
        env = {"PATH": "/usr/bin", "MPLBACKEND": "agg", "HOME": str(scratch)}
        env.update({"MPLCONFIGDIR": str(scratch), "TF_CPP_MIN_LOG_LEVEL": "2"})
        for label, code in [("python", "pass"), ("imports", GRADED_IMPORTS),
                            ("keras", "import keras")]:  # fmt: skip
            for where in ("sandboxed", "plain"):
                # The process reports its own CPU: a sandbox's is not passed up to us.
                cmd = [sys.executable, "-c", code + _REPORT_CPU]
                if where == "sandboxed":
                    cmd = box.wrap(cmd, env, scratch, run, {})
                done = subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=scratch)
                out[f"{where}_{label}_cpu_s"] = round(float(done.stdout.split()[-1]), 2)
    return out


def _hostile(release: nbformat.NotebookNode, solution: nbformat.NotebookNode) -> dict:
    """Hostile variants of 00 (the issue's cases) built from the solution's answers."""

    def answered(extra: str | None = None, after: str = "stored_to_hu", answers=None):
        nb = copy.deepcopy(release)
        good = {
            c.metadata["nbgrader"]["grade_id"]: c.source
            for c in solution.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
        }
        good.update(answers or {})
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in good:
                cell.source = good[gid]
        if extra:
            at = next(
                i
                for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == after
            )
            nb.cells.insert(at + 1, nbformat.v4.new_code_cell(extra))
        return nb

    snoop = (
        "import glob, medganlab.paths\n"
        "found = glob.glob('../../../solutions/*/*.ipynb')\n"
        "found += glob.glob(str(medganlab.paths.home() / 'solutions/*/*.ipynb'))\n"
        f"found += glob.glob('{Path(__file__).resolve().parents[3]}/solutions/*/*.ipynb')\n"
        "print('snooped', len(found))"
    )
    cheat = (
        "class Always(float):\n"
        "    def __eq__(self, o): return True\n"
        "    def __lt__(self, o): return True\n"
        "    def __gt__(self, o): return True\n"
        "    def __sub__(self, o): return Always(0)\n"
        "    def __abs__(self): return Always(0)\n"
        "def cardiothoracic_ratio(heart_mask, lung_mask):\n"
        "    return Always(0.4)"
    )
    return {
        "hostile_snoop": answered(snoop),
        "hostile_allclose": answered(
            "import numpy as np\nnp.allclose = np.isclose = lambda *a, **k: True",
            answers={"stored_to_hu": "def stored_to_hu(s, a, b):\n    return s"},
        ),
        "hostile_float_subclass": answered(answers={"cardiothoracic_ratio": cheat}),
        "hostile_exit": answered("import os\nos._exit(1)", after="test_window_to_unit"),
        "hostile_untouched": copy.deepcopy(release),
    }


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(out_dir: Path) -> dict:
    from medganlab.grading import Course, grade_cohort
    from medganlab.grading.sandbox import detect
    from medganlab.paths import home

    n = int(os.environ.get("MEDGANLAB_BENCH_SUBMISSIONS", "100"))
    snapshot = Path(tempfile.mkdtemp(prefix="medganlab-bench-course-"))
    course = _snapshot(Course(home()), snapshot)
    solution = nbformat.read(course.source_notebook(ASSIGNMENT), as_version=4)
    release = nbformat.read(course.release_notebook(ASSIGNMENT), as_version=4)
    result: dict = {"sandbox": detect().describe(), "submissions": n}
    result.update(_kernel_start_seconds())
    with tempfile.TemporaryDirectory(prefix="medganlab-bench-grading-") as tmp:
        subs = Path(tmp) / "subs"
        subs.mkdir()
        for i in range(n):
            shutil.copy(course.source_notebook(ASSIGNMENT), subs / f"student{i:03d}.ipynb")
        hostile = _hostile(release, solution)
        for name, nb in hostile.items():
            nbformat.write(nb, subs / f"{name}.ipynb")
        load_before = os.getloadavg()[0]
        start, cpu_before = time.perf_counter(), _own_cpu() + _children_cpu()
        rows = grade_cohort(course, ASSIGNMENT, subs, Path(tmp) / "out", workers=2)
        seconds = time.perf_counter() - start
        # Workers are waited for (their CPU is in RUSAGE_CHILDREN); a kernel is killed in its
        # sandbox, so its tree's CPU is read from /proc by the grader (kernel_cpu_seconds).
        kernels = sum(r["kernel_cpu_seconds"] for r in rows)
        total_cpu = _own_cpu() + _children_cpu() - cpu_before + kernels
        result["load_average_1min"] = [load_before, os.getloadavg()[0]]  # before, after
        by = {r["student"]: r for r in rows}
        copies = [by[f"student{i:03d}"] for i in range(n)]
        per_sub = total_cpu / len(rows)
        result.update(
            {
                "seconds": round(seconds, 1),
                "submissions_per_minute": round(60 * len(rows) / seconds, 1),
                "per_submission_s_median": statistics.median(r["seconds"] for r in rows),
                "cpu_s_total": round(total_cpu, 1),
                "cpu_s_per_submission": round(per_sub, 2),
                "kernel_cpu_s_median": statistics.median(r["kernel_cpu_seconds"] for r in copies),
                "grader_cpu_s_median": statistics.median(r["grader_cpu_seconds"] for r in copies),
                "cpu_bound_submissions_per_minute_2_idle_cores": round(120 / per_sub, 1),
                "copies_full_marks": sum(r["auto_score"] == r["auto_max_score"] for r in copies),
                "hostile": {
                    k: {x: by[k][x] for x in ("auto_score", "status", "reason")} for k in hostile
                },
            }
        )
        # The same few copies without the sandbox: what isolation costs.
        few = Path(tmp) / "few"
        few.mkdir()
        for i in range(4):
            shutil.copy(course.source_notebook(ASSIGNMENT), few / f"s{i}.ipynb")
        timings = {}
        for mode in ("bwrap", "none"):
            detect.cache_clear()
            os.environ["MEDGANLAB_SANDBOX"] = mode
            start = time.perf_counter()
            done = grade_cohort(course, ASSIGNMENT, few, Path(tmp) / f"out-{mode}", workers=2,
                                reference=False)  # fmt: skip
            timings[mode] = {
                "wall_s": round(time.perf_counter() - start, 1),
                "kernel_cpu_s_median": statistics.median(r["kernel_cpu_seconds"] for r in done),
            }
        os.environ.pop("MEDGANLAB_SANDBOX", None)
        detect.cache_clear()
        result["four_copies_s"] = timings
    shutil.rmtree(snapshot, ignore_errors=True)
    print(
        f"{result['submissions_per_minute']} submissions/min ({len(rows)} in {result['seconds']} s,"
        f" load {result['load_average_1min']}); {result['cpu_s_per_submission']} CPU-s per"
        f" submission (kernel {result['kernel_cpu_s_median']}, grader"
        f" {result['grader_cpu_s_median']}): at most"
        f" {result['cpu_bound_submissions_per_minute_2_idle_cores']}/min on 2 idle cores;"
        f" sandbox vs none on 4 copies: {timings}; kernel start in sandbox"
        f" {result['sandboxed_python_cpu_s']} CPU-s vs {result['plain_python_cpu_s']},"
        f" graded imports {result['sandboxed_imports_cpu_s']}, import keras"
        f" {result['sandboxed_keras_cpu_s']}"
    )
    for name, row in result["hostile"].items():
        print(f"  {name:<24} {row['auto_score']:>5} {row['status']:<8} {row['reason'][:90]}")
    return result
