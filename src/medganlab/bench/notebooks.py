"""Notebook size table: code cells, median and largest cell (STYLE.md: median 3–6, max 25)."""

from __future__ import annotations

from pathlib import Path


def run(out_dir: Path) -> dict:
    from medganlab.grading import Course, lint_source_notebook
    from medganlab.paths import home

    course = Course(home())
    rows = {}
    print(f"{'assignment':<32}{'code cells':>11}{'median':>8}{'max':>6}{'problems':>10}")
    for name in course.assignments():
        problems, stats = lint_source_notebook(course.source_notebook(name))
        rows[name] = {**stats, "problems": problems}
        print(
            f"{name:<32}{stats['code_cells']:>11}{stats['median_lines']:>8}"
            f"{stats['max_lines']:>6}{len(problems):>10}"
        )
    return {"notebooks": rows}
