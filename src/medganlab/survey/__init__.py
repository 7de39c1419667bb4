"""The end-of-course survey (assignment 09) and its aggregation.

- :mod:`~medganlab.survey.instrument`: the questions (Likert 1–5, free text, knowledge check);
- :mod:`~medganlab.survey.responses`: anonymous responses, their checks and how they are saved;
- :mod:`~medganlab.survey.form`: the notebook's form (ipywidgets);
- :mod:`~medganlab.survey.aggregate` and :mod:`~medganlab.survey.report`: what
  ``medganlab survey aggregate DIR`` computes and writes (HTML, PNGs, CSV).
"""

from medganlab.survey.config import SurveyConfig, profile_for
from medganlab.survey.instrument import (
    FREE_TEXT,
    INSTRUMENT_VERSION,
    KNOWLEDGE,
    LIKERT_ITEMS,
    score_knowledge,
)
from medganlab.survey.responses import (
    default_inbox,
    deliver,
    new_pairing_code,
    new_response,
    validate_response,
    write_response,
)

__all__ = [
    "FREE_TEXT",
    "INSTRUMENT_VERSION",
    "KNOWLEDGE",
    "LIKERT_ITEMS",
    "SurveyConfig",
    "default_inbox",
    "deliver",
    "new_pairing_code",
    "new_response",
    "profile_for",
    "score_knowledge",
    "validate_response",
    "write_response",
]
