"""Knobs of notebook 09 per run profile (``cfg = survey.profile_for("09_course_survey")``).

The configuration is registered with every other assignment's in :mod:`medganlab.profiles`
(one source of truth); this module keeps the survey's own entry point.
"""

from __future__ import annotations

from medganlab.profiles import SurveyConfig
from medganlab.profiles import profile_for as _profile_for

__all__ = ["SurveyConfig", "profile_for", "ASSIGNMENT"]

ASSIGNMENT = "09_course_survey"


def profile_for(assignment: str = ASSIGNMENT, profile: str | None = None) -> SurveyConfig:
    """The survey notebook's configuration in the active (or given) profile.

    Raises:
        ValueError: another assignment, or an unknown profile name.
    """
    if assignment != ASSIGNMENT:
        raise ValueError(f"the survey's configuration is {ASSIGNMENT!r}, not {assignment!r}")
    return _profile_for(assignment, profile)  # type: ignore[return-value]
