"""Hostile submissions: right score or a flag with the reason, nothing written outside the
scratch folder, no solution or hidden-test text in any output, no change to grading files.

One cohort of 25+ hand-ins (tests/hostile/cases.py) is graded once, in parallel, in the
sandbox; each test below checks one promise for every case. The slow case (a kernel that
ignores interrupts until the submission's time limit) runs only with ``MEDGANLAB_SLOW=1``
(``make bench`` runs the same cases on the real assignment 00).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from hostile import assignment as fixture
from hostile.cases import cases, write_file_cases

from medganlab.grading import Course, grade_cohort, release
from medganlab.grading.sandbox import detect
from medganlab.paths import data_dir

from conftest import REPO, make_course

SLOW = os.environ.get("MEDGANLAB_SLOW") == "1"
CANARIES = ("SOLUTION-CANARY", "HIDDEN-CANARY", "SCHEME-CANARY", "BEGIN HIDDEN", "BEGIN SOLUTION")
TAG = f"{os.getpid()}"


def _require_sandbox():
    box = detect()
    if box.mode != "bwrap":
        message = f"no sandbox on this machine: {box.reason}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must install bubblewrap: make setup-sandbox)")
        pytest.skip(message)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    _require_sandbox()
    tmp = tmp_path_factory.mktemp("hostile")
    root = make_course(tmp / "course", {fixture.NAME: fixture.SOURCE})
    course = Course(root)
    release(course)
    (root / "gradebook.db").write_bytes(b"instructor gradebook")
    out = tmp / "out"
    ctx = {"root": root, "repo": REPO, "out": out, "data": data_dir(), "tag": TAG}
    rel = nbformat.read(course.release_notebook(fixture.NAME), as_version=4)
    subs = tmp / "subs"
    subs.mkdir()
    chosen = [c for c in cases(ctx) if SLOW or not c.slow]
    for case in chosen:
        nbformat.write(case.build(rel), subs / f"{case.name}.ipynb")
    files = write_file_cases(subs, rel, fixture.NAME)
    before = hashlib.sha256((root / "gradebook.db").read_bytes()).hexdigest()
    start = time.monotonic()
    rows = grade_cohort(
        course, fixture.NAME, subs, out, workers=2, timeout=5, wall_timeout=30,
        env={"MEDGANLAB_PROFILE": "smoke"},
    )  # fmt: skip
    seconds = time.monotonic() - start
    time.sleep(5)  # let a detached process try its late writes
    return {
        "rows": {r["student"]: r for r in rows},
        "cases": {c.name: c for c in chosen},
        "files": files,
        "out": out,
        "root": root,
        "ctx": ctx,
        "gradebook": before,
        "seconds": seconds,
    }


def _case_names():
    return [c.name for c in cases({"root": "", "repo": "", "out": "", "data": "", "tag": ""})]


@pytest.mark.parametrize("name", _case_names())
def test_each_case_gets_the_right_score_or_a_flag(graded, name):
    if name not in graded["cases"]:
        pytest.skip("slow case: set MEDGANLAB_SLOW=1")
    case, row = graded["cases"][name], graded["rows"][name]
    if case.score is not None:
        assert row["auto_score"] == case.score, row
    assert row["status"] == case.status, row
    assert case.reason in row["reason"], row
    assert row["max_score"] == sum(fixture.POINTS.values()), row
    assert row["manual_pending"] == fixture.POINTS["explain"], row
    assert row["isolation"] == "bwrap"


def test_file_level_hand_ins_are_graded_or_listed(graded):
    for student, want in graded["files"].items():
        row = graded["rows"][student]
        assert (row["auto_score"], row["status"]) == (want["score"], want["status"]), row
        assert want["reason"] in row["reason"], row
    assert graded["rows"]["corrupt"]["max_score"] == 5, "a corrupt file still shows the max"
    assert "notes.txt" in (graded["out"] / "not_graded.txt").read_text()


def test_nothing_is_written_outside_the_scratch_folder(graded):
    ctx = graded["ctx"]
    for path in [
        Path("/tmp/medganlab-hostile-tmp"),
        Path("/tmp/medganlab-hostile-late"),
        ctx["root"] / "build",
        Path(ctx["data"]) / "pwned.txt",
        REPO / "build" / f"pwned-{TAG}.txt",
        Path("/root/pwned.txt"),
    ]:
        assert not path.exists(), f"a submission wrote {path}"
    row = graded["rows"]["writes_everywhere"]
    executed = nbformat.read(graded["out"] / "autograded" / "writes_everywhere.ipynb", 4)
    text = json.dumps([c.get("outputs", []) for c in executed.cells])
    assert "written []" in text, f"the sandbox let a write through: {text[:500]}"
    assert row["auto_score"] == 4


def test_the_gradebook_and_grade_sheets_are_the_graders(graded):
    root, out = graded["root"], graded["out"]
    assert hashlib.sha256((root / "gradebook.db").read_bytes()).hexdigest() == graded["gradebook"]
    rows = json.loads((out / "grades.json").read_text())
    assert len(rows) == len(graded["rows"])
    lines = (out / "grades.csv").read_text().splitlines()
    assert lines[0].startswith("student,assignment,score,max_score,auto_score")
    assert "status" in lines[0] and "manual_pending" in lines[0] and "feedback_written" in lines[0]
    left = subprocess.run(["pgrep", "-f", "medganlab-hostile-late"], capture_output=True)
    assert left.returncode == 1, "a detached process outlived its kernel"


def test_no_solution_or_hidden_test_text_reaches_any_output(graded):
    out = graded["out"]
    feedback = sorted((out / "feedback").glob("*.html"))
    assert len(feedback) >= len(graded["cases"]) - 1
    for path in [*feedback, out / "grades.json", out / "grades.csv"]:
        text = path.read_text()
        for canary in CANARIES:
            assert canary not in text, f"{path.name} shows {canary}"
    for path in (out / "autograded").glob("*.ipynb"):  # instructor copies: outputs only
        nb = nbformat.read(path, 4)
        outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
        assert "SOLUTION-CANARY" not in outputs and "SCHEME-CANARY" not in outputs, path.name
    snoop = nbformat.read(out / "autograded" / "reads_solutions.ipynb", 4)
    assert "snooped 0" in json.dumps([c.get("outputs", []) for c in snoop.cells])


def test_feedback_keeps_the_hidden_message_not_the_hidden_code(graded):
    row = graded["rows"]["visible_only"]
    assert row["feedback_written"], row
    html = Path(row["feedback"]).read_text()
    assert "negative numbers double too" in html, "the failing hidden test's message teaches"
    assert "double(-3.5)" not in html and "HIDDEN-CANARY" not in html
    assert (
        "double(2) should be 4" not in html
        or "AssertionError" not in html.split("double(2)")[0][-50:]
    )


def test_grading_is_fast_enough(graded):
    print(f"hostile cohort: {len(graded['rows'])} hand-ins in {graded['seconds']:.0f} s")
    assert graded["seconds"] < 150
