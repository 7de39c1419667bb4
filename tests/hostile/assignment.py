"""A tiny assignment (no TensorFlow) for hostile-submission tests: 2 + 2 auto points, 1 manual.

Canary strings mark what must never reach a student or a kernel: ``SOLUTION-CANARY`` sits in
the solution, ``HIDDEN-CANARY`` in a hidden test's *code*, ``SCHEME-CANARY`` in the mark scheme.
"""

NAME = "98_hostile"
POINTS = {"test_double": 2, "test_ratio": 2, "explain": 1}
SOURCE = '''# %% [markdown]
# # Double a number and take a ratio
#
# **What you'll do**: write two functions. **What you'll learn**: nbgrader.
# **What you'll need**: Python.

# %% [markdown]
# ## Setup

# %%
import numpy as np

import medganlab
from medganlab.testing import check_close, check_scalar

# %% [markdown]
# ## Configuration

# %%
cfg = medganlab.profile_for("00_setup_and_data")

# %% solution grade_id="double"
def double(x):
    """Return twice x."""
    ### BEGIN SOLUTION
    return x * 2  # SOLUTION-CANARY doubling
    ### END SOLUTION

# %% tests grade_id="test_double" points=2
"""double doubles."""
assert double(2) == 4, "double(2) should be 4"
### BEGIN HIDDEN TESTS
HIDDEN_CANARY = "HIDDEN-CANARY-1"
assert double(-3.5) == -7.0, "negative numbers double too"
### END HIDDEN TESTS

# %% solution grade_id="ratio"
def ratio(a, b):
    """Return a / b as a float."""
    ### BEGIN SOLUTION
    return float(a) / float(b)  # SOLUTION-CANARY ratio
    ### END SOLUTION

# %% tests grade_id="test_ratio" points=2
"""ratio divides, and returns a plain float."""
check_close(check_scalar(ratio(1, 4), "ratio(1, 4)"), 0.25, what="ratio(1, 4)")
### BEGIN HIDDEN TESTS
hidden_value_canary = ratio(3, 8)  # HIDDEN-CANARY-2
check_close(check_scalar(hidden_value_canary, "ratio(3, 8)"), 0.375, what="a second ratio")
### END HIDDEN TESTS

# %% [markdown] readonly grade_id="q_explain"
# ### Exercise 3 (written)
#
# Why is twice a negative number negative?

# %% [markdown] manual grade_id="explain" points=1
# === BEGIN MARK SCHEME ===
# SCHEME-CANARY: a positive factor keeps the sign.
# === END MARK SCHEME ===
#
# YOUR ANSWER HERE

# %% [markdown]
# ## Key points
#
# - Functions.
#
# ## Further reading
#
# - nbgrader docs.
'''
