"""The survey form of notebook 09 (ipywidgets): fill it in, then check and save in a cell.

The form never blocks: it renders, the student clicks, and a later cell reads
:meth:`SurveyForm.response`. Nothing here asks for or records who the student is.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from medganlab.survey.instrument import DONT_KNOW, FREE_TEXT, KNOWLEDGE, LIKERT_ITEMS, PHASES
from medganlab.survey.responses import (
    deliver,
    new_pairing_code,
    new_response,
    validate_response,
    write_response,
)

__all__ = ["SurveyForm", "save"]

_LAYOUT = widgets.Layout(width="auto")
_GROUP_TITLES = {
    "general": "The course overall (the first three are required)",
    "clarity": "Clarity of each notebook (skip those you did not do)",
    "difficulty": "Difficulty of each notebook",
    "time": "Time spent, compared with each notebook's estimate",
}


def _scale(item) -> widgets.ToggleButtons:
    mid = f", 3 = {item.mid}" if item.mid else ""
    return widgets.ToggleButtons(
        options=[("1", 1), ("2", 2), ("3", 3), ("4", 4), ("5", 5)],
        value=None,
        tooltips=[item.low, "", item.mid or "", "", item.high],
        description="",
        style={"button_width": "3em"},
        layout=_LAYOUT,
    ), f"{'* ' if item.required else ''}{item.text} (1 = {item.low}{mid}, 5 = {item.high})"


@dataclass
class SurveyForm:
    """Widgets for one response. ``phase`` is ``"pre"`` (knowledge check only) or ``"post"``."""

    phase: str = "post"
    pairing_code: str = field(default_factory=new_pairing_code)
    _response: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {self.phase!r}")
        self._response = new_response(self.phase, self.pairing_code)
        self.code = widgets.Text(value=self.pairing_code, description="Pairing code")
        self.likert = {item.id: _scale(item) for item in LIKERT_ITEMS}
        self.texts = {
            q.id: widgets.Textarea(placeholder="optional", layout=widgets.Layout(width="95%"))
            for q in FREE_TEXT
        }
        self.knowledge = {
            q.id: widgets.RadioButtons(
                options=[(f"{k}) {text}", k) for k, text in q.options]
                + [("I don't know yet", DONT_KNOW)],
                value=None,
                layout=_LAYOUT,
            )
            for q in KNOWLEDGE
        }

    def _likert_section(self, group: str) -> widgets.VBox:
        rows = []
        for item in LIKERT_ITEMS:
            if item.group == group:
                buttons, label = self.likert[item.id]
                rows += [widgets.HTML(f"<b>{html.escape(label)}</b>"), buttons]
        return widgets.VBox(rows)

    def widget(self) -> widgets.Widget:
        """The form: an accordion of sections, ready to display."""
        sections = []
        if self.phase == "post":
            sections += [(t, self._likert_section(g)) for g, t in _GROUP_TITLES.items()]
            texts = [w for q in FREE_TEXT for w in (widgets.HTML(q.text), self.texts[q.id])]
            sections.append(("In your own words (optional)", widgets.VBox(texts)))
        check = [
            w
            for q in KNOWLEDGE
            for w in (
                widgets.HTML(f"<b>{q.id[1:]}. {html.escape(q.text)}</b>"),
                self.knowledge[q.id],
            )
        ]
        sections.append(("Knowledge check (10 questions, not graded)", widgets.VBox(check)))
        accordion = widgets.Accordion(children=[box for _, box in sections])
        for index, (title, _) in enumerate(sections):
            accordion.set_title(index, title)
        return widgets.VBox([self.code, accordion])

    def response(self) -> dict[str, Any]:
        """The answers as a response dict (same id every time: saving again replaces it)."""
        response = dict(self._response)
        code = self.code.value.strip().upper()
        response["pairing_code"] = code or None
        if self.phase == "post":
            response["likert"] = {k: buttons.value for k, (buttons, _) in self.likert.items()}
            response["free_text"] = {k: w.value for k, w in self.texts.items()}
        response["knowledge"] = {k: w.value for k, w in self.knowledge.items()}
        return response

    def fill(self, example: dict[str, Any]) -> None:
        """Set the widgets from a response (an example, or a draft)."""
        for key, value in example.get("likert", {}).items():
            self.likert[key][0].value = value
        for key, value in example.get("free_text", {}).items():
            self.texts[key].value = value
        for key, value in example.get("knowledge", {}).items():
            self.knowledge[key].value = value


def save(form: SurveyForm, folder: Path) -> Path | None:
    """Check the form; print what to fix, or write the response and say what to do next.

    Never raises for a wrong answer (the notebook shows the message instead of a traceback).
    """
    response = form.response()
    problems = validate_response(response)
    if problems:
        print("Not saved yet. Please fix:\n- " + "\n- ".join(problems))
        return None
    form._response["revision"] += 1  # a later save of the same form replaces this file
    path = write_response(response, folder)
    print(deliver(path))
    return path
