"""The grading loop under mixed_bfloat16: whether main lands must not depend on whether the
CI machine's CPU has native bf16 (a separate file so pytest-xdist runs it beside the default
precision's loop)."""

from __future__ import annotations

import pytest
from test_release_solutions import GRADED, assert_full_marks

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", GRADED)
def test_solution_autogrades_to_full_marks_in_bf16(assignment, smoke_env, monkeypatch):
    """Layers compute in bfloat16: tests must use tolerances of the compute dtype."""
    monkeypatch.setenv("MEDGANLAB_PRECISION", "mixed_bfloat16")
    assert_full_marks(assignment)
