"""Cohort grading throughput and the sandbox's cost (issue 17).

Grades ``MEDGANLAB_BENCH_SUBMISSIONS`` (default 100) copies of assignment 00's solution,
plus hostile variants, with ``medganlab grade``'s code on 2 workers in the bubblewrap
sandbox, and reports submissions per minute. Then it grades a few copies without the
sandbox (``MEDGANLAB_SANDBOX=none``, same code) to measure what isolation costs, and times
one kernel start and the notebook's imports in the sandbox: what bounds throughput.
"""

from __future__ import annotations

import copy
import os
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


def _kernel_start_seconds() -> dict:
    """Seconds to start a Python in the sandbox, and to import what notebook 00 imports."""
    from medganlab.grading.sandbox import detect

    box = detect()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        scratch, run = Path(tmp) / "w", Path(tmp) / "r"
        box.prepare(scratch, run)
        for label, code in [("python", "pass"), ("imports", "import keras, medganlab, pydicom")]:
            cmd = box.wrap([sys.executable, "-c", code], {"PATH": "/usr/bin"}, scratch, run, {})
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            out[f"sandboxed_{label}_s"] = round(time.perf_counter() - start, 2)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
            out[f"plain_{label}_s"] = round(time.perf_counter() - start, 2)
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
        start = time.perf_counter()
        rows = grade_cohort(course, ASSIGNMENT, subs, Path(tmp) / "out", workers=2)
        seconds = time.perf_counter() - start
        result["load_average_1min"] = os.getloadavg()[0]  # other work on the machine
        by = {r["student"]: r for r in rows}
        copies = [by[f"student{i:03d}"] for i in range(n)]
        result.update(
            {
                "seconds": round(seconds, 1),
                "submissions_per_minute": round(60 * len(rows) / seconds, 1),
                "per_submission_s_median": statistics.median(r["seconds"] for r in rows),
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
            grade_cohort(course, ASSIGNMENT, few, Path(tmp) / f"out-{mode}", workers=2,
                         reference=False)  # fmt: skip
            timings[mode] = round(time.perf_counter() - start, 1)
        os.environ.pop("MEDGANLAB_SANDBOX", None)
        detect.cache_clear()
        result["four_copies_s"] = timings
    shutil.rmtree(snapshot, ignore_errors=True)
    print(
        f"{result['submissions_per_minute']} submissions/min ({len(rows)} in {result['seconds']} s);"
        f" sandbox vs none on 4 copies: {timings}; kernel start in sandbox "
        f"{result['sandboxed_python_s']} s vs {result['plain_python_s']} s"
    )
    for name, row in result["hostile"].items():
        print(f"  {name:<24} {row['auto_score']:>5} {row['status']:<8} {row['reason'][:90]}")
    return result
