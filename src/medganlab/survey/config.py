"""Knobs of notebook 09 per run profile (``cfg = survey.profile_for("09_course_survey")``).

Until ``09_course_survey`` is registered in :mod:`medganlab.profiles`, this module builds
its configuration itself; once registered, it returns ``medganlab.profile_for``'s.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from medganlab.profiles import ASSIGNMENTS, PROFILES, active_profile

__all__ = ["SurveyConfig", "SURVEY_PROFILES", "profile_for"]

ASSIGNMENT = "09_course_survey"


@dataclass(frozen=True)
class SurveyConfig:
    """09_course_survey: nothing to train; where answers go and whether to prefill them."""

    assignment: str
    profile: str
    seed: int = 42
    # smoke (CI, nbval): fill the form with an example and save into a throw-away folder,
    # so every cell runs without anyone clicking; never the course's inbox.
    example_answers: bool = False
    scratch_inbox: bool = False

    def inbox(self) -> Path:
        """Folder the response is written to (see ``medganlab.survey.responses``)."""
        if self.scratch_inbox:
            return Path(tempfile.mkdtemp(prefix="medganlab-survey-"))
        from medganlab.survey.responses import default_inbox

        return default_inbox()


SURVEY_PROFILES = {
    "smoke": dict(example_answers=True, scratch_inbox=True),
    "cpu": dict(),
    "gpu": dict(),
}


def profile_for(assignment: str = ASSIGNMENT, profile: str | None = None) -> SurveyConfig:
    """The survey notebook's configuration in the active (or given) profile."""
    if assignment in ASSIGNMENTS:  # registered centrally: one source of truth
        from medganlab.profiles import profile_for as central

        return central(assignment, profile)  # type: ignore[return-value]
    if assignment != ASSIGNMENT:
        raise ValueError(f"the survey's configuration is {ASSIGNMENT!r}, not {assignment!r}")
    name = active_profile() if profile is None else profile
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; expected one of: {', '.join(PROFILES)}")
    return SurveyConfig(assignment=assignment, profile=name, **SURVEY_PROFILES[name])
