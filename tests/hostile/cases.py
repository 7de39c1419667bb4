"""Hostile submissions of ``98_hostile``: each case builds one student's hand-in.

A case is ``Case(name, build, expect)``: ``build(release_nb, ctx)`` returns the notebook
(or writes files itself and returns None); ``expect`` says the right score and status and a
phrase its reason must contain. ``ctx`` has the paths a hostile cell aims at.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

GOOD = {
    "double": "def double(x):\n    return x * 2",
    "ratio": "def ratio(a, b):\n    return float(a) / float(b)",
    "explain": "A positive factor keeps the sign.",
}


@dataclass
class Case:
    name: str
    build: Callable
    score: float | None  # None: do not check
    status: str = "ok"
    reason: str = ""
    slow: bool = False
    extra: dict = field(default_factory=dict)


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def answered(release, answers=None, after=None):
    """The release with the given answers (default: all correct), plus extra code cells."""
    nb = copy.deepcopy(release)
    answers = {**GOOD, **(answers or {})}
    for cell in nb.cells:
        if _gid(cell) in answers:
            cell.source = answers[_gid(cell)]
    for gid, code in (after or {}).items():
        index = next(i for i, c in enumerate(nb.cells) if _gid(c) == gid)
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(code))
    return nb


def _snoop(ctx):
    return (
        "import glob, medganlab.paths, os\n"
        "found = glob.glob('../../../solutions/*/*.ipynb') + glob.glob('../../solutions/*/*')\n"
        "found += glob.glob(str(medganlab.paths.home() / 'solutions/*/*.ipynb'))\n"
        f"found += glob.glob('{ctx['root']}/solutions/*/*') + glob.glob('{ctx['repo']}/solutions/*/*')\n"
        f"found += glob.glob('{ctx['root']}/*')\n"
        "for path in found:\n"
        "    print(path, open(path).read()[:20000])\n"
        "print('snooped', len(found))"
    )


def _writes(ctx):
    targets = [
        "/tmp/medganlab-hostile-tmp",
        f"{ctx['root']}/build/pwned.txt",
        f"{ctx['root']}/gradebook.db",
        f"{ctx['out']}/grades.json",
        f"{ctx['data']}/pwned.txt",
        f"{ctx['repo']}/build/pwned-{ctx['tag']}.txt",
        "/root/pwned.txt",
    ]
    return (
        "import os\n"
        "written = []\n"
        "targets = [os.path.join(os.environ.get('MEDGANLAB_DATA', '/nonexistent'), 'pwned.txt')]\n"
        f"for target in targets + {targets!r}:\n"
        "    try:\n"
        "        open(target, 'w').write('pwned')\n"
        "        written.append(target)\n"
        "    except OSError as exc:\n"
        "        pass\n"
        "print('written', written)"
    )


def _detached(ctx):
    script = (
        f"sleep 4; echo pwned > {ctx['out']}/grades.json; echo pwned > {ctx['root']}/gradebook.db;"
        f" echo pwned > /tmp/medganlab-hostile-late"
    )
    return (
        "import subprocess\n"
        f"subprocess.Popen(['sh', '-c', {script!r}], start_new_session=True,\n"
        "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)"
    )


FLOAT_CHEAT = (
    "class AlwaysClose(float):\n"
    "    def __eq__(self, other): return True\n"
    "    def __sub__(self, other): return AlwaysClose(0)\n"
    "    def __abs__(self): return AlwaysClose(0)\n"
    "    def __lt__(self, other): return True\n"
    "def ratio(a, b):\n"
    "    return AlwaysClose(0)"
)


def _duplicate(release):
    nb = answered(release)
    index = next(i for i, c in enumerate(nb.cells) if _gid(c) == "double")
    nb.cells.insert(index + 1, copy.deepcopy(nb.cells[index]))
    test = next(i for i, c in enumerate(nb.cells) if _gid(c) == "test_double")
    nb.cells.insert(test + 1, copy.deepcopy(nb.cells[test]))
    return nb


def _renamed(release):
    nb = answered(release)
    for cell in nb.cells:
        if _gid(cell) in ("double", "test_ratio"):
            cell.metadata["nbgrader"]["grade_id"] = "renamed_" + _gid(cell)
            cell["id"] = "renamed-cell"
    return nb


def _points(release):
    nb = answered(release, {"double": "def double(x):\n    return 0"})
    for cell in nb.cells:
        if _gid(cell) == "test_double":
            cell.metadata["nbgrader"]["points"] = 100
    return nb


def _deleted_test(release):
    nb = answered(release, {"double": "def double(x):\n    return x + 2"})
    nb.cells = [c for c in nb.cells if _gid(c) != "test_double"]
    return nb


def _weakened_test(release):
    nb = answered(release, {"double": "def double(x):\n    return x + 2"})
    for cell in nb.cells:
        if _gid(cell) == "test_double":
            cell.source = '"""double doubles."""\nassert True'
    return nb


def _ungraded_metadata(release):
    nb = answered(release)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)  # e.g. a notebook re-saved by another tool
    return nb


def cases(ctx) -> list[Case]:
    """Every hostile (and honest) case, built against ``ctx`` (see the module docstring)."""
    hook = (
        "def _swallow(shell, etype, value, tb, tb_offset=None):\n"
        "    return None\n"
        "get_ipython().set_custom_exc((AssertionError,), _swallow)"
    )
    return [
        Case("correct", lambda r: answered(r), 4),
        Case("untouched", lambda r: copy.deepcopy(r), 0),
        Case(
            "visible_only",
            lambda r: answered(r, {"double": "def double(x):\n    return x + 2"}),
            2,
        ),
        Case(
            "reads_solutions",
            lambda r: answered(r, after={"double": _snoop(ctx)}),
            4,
            "flagged",
            "grading files",
        ),
        Case(
            "writes_everywhere",
            lambda r: answered(r, after={"ratio": _writes(ctx)}),
            4,
            "flagged",
            "grading files",
        ),
        Case(
            "detached_process",
            lambda r: answered(r, after={"ratio": _detached(ctx)}),
            4,
            "flagged",
            "detaches",
        ),
        Case(
            "patches_allclose",
            lambda r: answered(
                r,
                {"ratio": "def ratio(a, b):\n    return 0.0"},
                after={
                    "double": "import numpy\nnumpy.allclose = numpy.isclose = lambda *a, **k: True"
                },
            ),
            2,
            "flagged",
            "numpy.allclose",
        ),
        Case(
            "float_subclass",
            lambda r: answered(r, {"ratio": FLOAT_CHEAT}),
            2,
            "flagged",
            "subclasses",
        ),
        Case(
            "swallows_asserts",
            lambda r: answered(
                r, {"double": "def double(x):\n    return 0"}, after={"double": hook}
            ),
            None,
            "flagged",
            "hooks IPython",
        ),
        Case(
            "prints_history",
            lambda r: answered(r, after={"test_ratio": "print(In)\nprint(_ih[-2])"}),
            4,
            "flagged",
            "reads the cells",
        ),
        Case("renamed_grade_ids", _renamed, 4, "ok", "renamed"),
        Case("duplicated_cells", _duplicate, 4, "ok", "duplicated"),
        Case("changed_points", _points, 2, "flagged", "points of 'test_double' changed"),
        Case("deleted_test", _deleted_test, 2, "ok", "was missing"),
        Case("weakened_test", _weakened_test, 2, "ok", "was edited"),
        Case("metadata_stripped", _ungraded_metadata, 4, "ok", ""),
        Case(
            "kernel_exit",
            lambda r: answered(r, after={"test_double": "import os\nos._exit(3)"}),
            2,
            "flagged",
            "kernel died in cell",
        ),
        Case(
            "kill_all",
            lambda r: answered(
                r, after={"test_double": "import os, signal\nos.kill(-1, signal.SIGKILL)"}
            ),
            4,
            "flagged",
            "ends the kernel",
        ),
        Case("infinite_loop", lambda r: answered(r, after={"double": "while True:\n    pass"}), 4),
        Case(
            "ignores_interrupts",
            lambda r: answered(
                r,
                after={
                    "test_double": "import time\nwhile True:\n    try:\n        time.sleep(1)\n    except KeyboardInterrupt:\n        pass"
                },
            ),
            2,
            "flagged",
            "time limit",
            slow=True,
        ),
        Case(
            "network",
            lambda r: answered(
                r,
                after={
                    "double": "import socket\ntry:\n    socket.create_connection(('pypi.org', 443), timeout=3)\n    print('ONLINE')\nexcept OSError as exc:\n    print('offline', exc)"
                },
            ),
            4,
        ),
        Case(
            "raises_in_answer", lambda r: answered(r, {"double": "raise RuntimeError('oops')"}), 2
        ),
    ]


def write_file_cases(folder: Path, release, name: str) -> dict[str, dict]:
    """Hand-ins that are about files, not code: what each student's row must say."""
    good = answered(release)
    (folder / "corrupt.ipynb").write_text("{ not json")
    copy_of = folder / "copy_of" / name
    copy_of.mkdir(parents=True)
    nbformat.write(good, copy_of / f"Copy of {name}.ipynb")
    two = folder / "two_notebooks"
    two.mkdir()
    nbformat.write(good, two / f"{name}.ipynb")
    nbformat.write(copy.deepcopy(release), two / "scratch.ipynb")
    (folder / "empty_folder").mkdir()
    (folder / "notes.txt").write_text("not a submission")
    return {
        "corrupt": {"score": 0, "status": "failed", "reason": "not a readable notebook"},
        "copy_of": {"score": 4, "status": "ok", "reason": "named differently"},
        "two_notebooks": {
            "score": 4,
            "status": "ok",
            "reason": "(extra notebooks): two_notebooks/scratch.ipynb",
        },
        "empty_folder": {"score": 0, "status": "failed", "reason": "no notebook"},
    }
