"""Each notebook's "What you'll do (about N minutes)" equals the sum of its section rows.

The per-section table (Section | Teaching | Exercises) is what an instructor plans a lab
with; course/schedule.md repeats the two column sums per notebook.
"""

from __future__ import annotations

import re

import pytest

from medganlab.course_info import UNGRADED

from conftest import REPO

SOURCES = sorted(p for p in (REPO / "solutions").glob("*/*.py") if p.stem == p.parent.name)
HEADER = re.compile(r"\*\*What you'll do\*\* \(about (\d+) minutes\)")
ROW = re.compile(r"^# \| (?P<section>[^|]+?) \| (?P<teach>[^|]+?) \| (?P<ex>[^|]+?) \|\s*$")


def minutes(cell: str) -> int:
    cell = cell.strip()
    if cell in {"—", "-", ""}:
        return 0
    found = re.fullmatch(r"(\d+) min", cell)
    if not found:
        raise ValueError(f"expected '<N> min' or '—' in the time table, got {cell!r}")
    return int(found.group(1))


def budget(source) -> tuple[int, int, int]:
    """(announced total, teaching sum, exercises sum) of one source's time table."""
    lines = source.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if HEADER.search(line))
    total = int(HEADER.search(lines[start]).group(1))
    teaching = exercises = 0
    for line in lines[start + 1 :]:
        if not line.startswith("# |") and teaching + exercises:
            break
        row = ROW.match(line)
        if row and row["section"] not in {"Section", "---"} and not row["teach"].startswith("-"):
            teaching += minutes(row["teach"])
            exercises += minutes(row["ex"])
    return total, teaching, exercises


TIMED = [p for p in SOURCES if HEADER.search(p.read_text())]


@pytest.mark.parametrize("source", TIMED, ids=lambda p: p.stem)
def test_announced_time_is_the_sum_of_the_sections(source):
    total, teaching, exercises = budget(source)
    assert teaching + exercises > 0, f"{source.name}: no section rows under the time header"
    assert total == teaching + exercises, (
        f"{source.name}: 'about {total} minutes' but the sections add up to "
        f"{teaching} (teaching) + {exercises} (exercises) = {teaching + exercises}"
    )


def schedule_rows() -> dict[str, tuple[int, int]]:
    """Notebook number -> (teaching, exercises) from course/schedule.md."""
    rows = {}
    for line in (REPO / "course" / "schedule.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.match(r"\d\d ", cells[1]):
            try:
                rows[cells[1][:2]] = (minutes(cells[2]), minutes(cells[3]))
            except ValueError:
                continue  # planned notebooks, or split figures such as "10 / 20 min"
    return rows


# 09 is taken twice (before and after the course): its schedule row splits the exercises.
SCHEDULED = [p for p in TIMED if p.stem not in UNGRADED]


@pytest.mark.parametrize("source", SCHEDULED, ids=lambda p: p.stem)
def test_schedule_matches_the_notebook(source):
    _, teaching, exercises = budget(source)
    row = schedule_rows().get(source.stem[:2])
    assert row is not None, f"course/schedule.md has no row for {source.stem}"
    assert row == (teaching, exercises), (
        f"course/schedule.md says {row[0]} min teaching / {row[1]} min exercises for "
        f"{source.stem}; the notebook's sections add up to {teaching} / {exercises}"
    )
