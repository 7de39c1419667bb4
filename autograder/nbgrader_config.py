"""nbgrader configuration for MedGAN Lab.

Run nbgrader from this folder (``cd autograder && nbgrader ...``) or pass
``--config autograder/nbgrader_config.py``; the course root is the repository either way.
The package's grading tools (``medganlab release|grade``) load this same file.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

root = Path(os.environ.get("MEDGANLAB_COURSE_ROOT", Path(__file__).resolve().parent.parent))

c.CourseDirectory.course_id = "medganlab"
c.CourseDirectory.root = str(root)
c.CourseDirectory.source_directory = "solutions"  # the single source of truth
c.CourseDirectory.release_directory = "notebooks"  # generated: never edit by hand
c.CourseDirectory.submitted_directory = "submitted"  # git-ignored
c.CourseDirectory.autograded_directory = "autograded"  # git-ignored
c.CourseDirectory.feedback_directory = "feedback"  # git-ignored
c.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"  # git-ignored
# Jupytext sources (*.py) are the authoring format of solutions/: never release them.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py"]
c.CourseDirectory.max_file_size = 100_000  # kB; keep data out of assignment folders

# Graded runs are always the smoke profile; each cell gets this many seconds.
c.Execute.timeout = 180
c.Execute.interrupt_on_timeout = True
c.Execute.kernel_name = "python3"
# Colab ignores `deletable: false`: restore any graded cell a student deleted.
c.OverwriteCells.add_missing_cells = True
# Keep progress bars from flooding the stored output.
c.LimitOutput.max_lines = 1000
# Feedback shows that a hidden test failed, not its source.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
