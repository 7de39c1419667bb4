"""Release and grading tools around nbgrader (what ``make release|test`` and
``medganlab release|grade`` run), one module per job:

- :mod:`~medganlab.grading.course`: where the course lives, its nbgrader configuration;
- :mod:`~medganlab.grading.release`: generate, compare and validate the student notebooks;
- :mod:`~medganlab.grading.leaks`: what gives answers away;
- :mod:`~medganlab.grading.lint`: the course's notebook rules;
- :mod:`~medganlab.grading.sandbox`: where a submission's kernel runs (bubblewrap);
- :mod:`~medganlab.grading.merge`: the student's answers in the source's structure;
- :mod:`~medganlab.grading.execute`: run a notebook cell by cell with time limits;
- :mod:`~medganlab.grading.feedback`: feedback without hidden tests;
- :mod:`~medganlab.grading.autograde`: one submission, start to end;
- :mod:`~medganlab.grading.cohort`: a whole class in parallel, ``grades.csv``/``json``;
- :mod:`~medganlab.grading.kubernetes`: the same, as Kubernetes Jobs.

nbgrader's command line exits 0 when tests fail, so releases go through its Python API and
check results explicitly. Submissions are *not* run by nbgrader: the grader runs them in a
sandbox and scores them itself (see ``autograder/README.md``).
"""

from medganlab.grading.autograde import GradeResult, autograde_submission
from medganlab.grading.cohort import find_submissions, grade_cohort
from medganlab.grading.course import Course, graded_assignments, load_nbgrader_config, ungraded
from medganlab.grading.leaks import LEAK_MARKERS, find_leaks
from medganlab.grading.lint import lint_release_notebook, lint_source_notebook
from medganlab.grading.release import compare_release, release, validate

__all__ = [
    "Course",
    "GradeResult",
    "LEAK_MARKERS",
    "autograde_submission",
    "compare_release",
    "find_leaks",
    "find_submissions",
    "grade_cohort",
    "graded_assignments",
    "lint_release_notebook",
    "lint_source_notebook",
    "load_nbgrader_config",
    "release",
    "ungraded",
    "validate",
]
