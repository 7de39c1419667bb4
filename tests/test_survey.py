"""The end-of-course survey: responses, their checks, the aggregation and its report."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from medganlab.cli import main
from medganlab.survey import aggregate, example, instrument, report
from medganlab.survey.form import SurveyForm, save
from medganlab.survey.responses import (
    FIELDS,
    new_pairing_code,
    new_response,
    validate_response,
    write_response,
)


def _post(rng, satisfaction=None, code=None, skill=0.5):
    return example.example_response(rng, "post", code, skill=skill, satisfaction=satisfaction)


def _write(folder, responses):
    return example.write_cohort(folder, responses)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


# --- instrument ------------------------------------------------------------------------


def test_instrument_has_the_seed_items_and_three_items_per_assignment():
    ids = {item.id for item in instrument.LIKERT_ITEMS}
    assert {"satisfaction", "comprehension"} <= ids
    for name in instrument.ASSIGNMENTS:
        nn = name[:2]
        assert {f"clarity_{nn}", f"difficulty_{nn}", f"time_{nn}"} <= ids, name
    assert len(ids) == len(instrument.LIKERT_ITEMS), "item ids repeat"


def test_knowledge_check_has_ten_questions_covering_00_to_08():
    assert len(instrument.KNOWLEDGE) == 10
    assert {q.assignment for q in instrument.KNOWLEDGE} == set(instrument.ASSIGNMENTS)
    for q in instrument.KNOWLEDGE:
        assert q.answer in dict(q.options), q.id
    perfect = {q.id: q.answer for q in instrument.KNOWLEDGE}
    assert instrument.score_knowledge(perfect) == 10
    assert instrument.score_knowledge({q: "?" for q in perfect}) == 0


# --- responses -------------------------------------------------------------------------


def test_a_new_response_is_anonymous_and_dated_to_the_day():
    response = new_response("post")
    assert set(response) == set(FIELDS)
    assert len(response["response_id"]) == 32 and response["date"].count("-") == 2
    assert "T" not in response["date"] and ":" not in response["date"]
    assert new_response()["response_id"] != response["response_id"]
    text = json.dumps(response).lower()
    for word in ("user", "name", "email", "colab", "metadata", "student"):
        assert word not in text, f"{word!r} in a response"


def test_an_empty_response_lists_every_required_item(rng):
    problems = validate_response(new_response("post"))
    joined = "\n".join(problems)
    assert "satisfaction: required; choose 1–5" in joined
    assert "comprehension: required" in joined and "k10: required" in joined
    assert "clarity_03" not in joined, "per-assignment items are optional"


@pytest.mark.parametrize("value", [0, 6, 7, -1, 3.5, "5", True])
def test_an_answer_outside_1_to_5_is_refused_with_a_clear_message(rng, value):
    response = _post(rng)
    response["likert"]["clarity_01"] = value
    problems = validate_response(response)
    assert problems == [f"clarity_01: {value!r} is not on the scale; choose a whole number 1–5"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda r: r.update(username="ada"), "unexpected field"),
        (lambda r: r.update(metadata={"colab": {}}), "unexpected field"),
        (lambda r: r.update(date="2026-12-01T10:14:23"), "date: expected a day"),
        (lambda r: r.update(response_id="ada"), "response_id"),
        (lambda r: r.update(phase="during"), "phase"),
        (lambda r: r.update(pairing_code="ada"), "pairing_code"),
        (lambda r: r["knowledge"].update(k01="z"), "k01"),
        (lambda r: r["free_text"].update(helped_most="x" * 5000), "characters"),
        (lambda r: r.pop("likert"), "missing field"),
    ],
)
def test_malformed_responses_are_refused(rng, tmp_path, edit, expected):
    response = _post(rng)
    edit(response)
    problems = validate_response(response)
    assert any(expected in p for p in problems), problems
    with pytest.raises(ValueError, match="not saved"):
        write_response(response, tmp_path)


def test_a_pre_response_holds_the_knowledge_check_only(rng):
    pre = example.example_response(rng, "pre", new_pairing_code())
    assert validate_response(pre) == []
    pre["likert"]["satisfaction"] = 5
    assert any("knowledge check only" in p for p in validate_response(pre))


def test_writing_again_replaces_the_file(tmp_path, rng):
    response = _post(rng)
    first = write_response(response, tmp_path)
    response["revision"] = 2
    assert write_response(response, tmp_path) == first
    assert len(list(tmp_path.iterdir())) == 1
    assert json.loads(first.read_text())["revision"] == 2


def test_the_form_saves_a_filled_response_and_explains_an_empty_one(tmp_path, rng, capsys):
    form = SurveyForm(phase="post")
    form.widget()  # renders without a front end
    assert save(form, tmp_path) is None
    assert "Not saved yet" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())
    form.fill(_post(rng))
    path = save(form, tmp_path)
    assert path is not None and validate_response(json.loads(path.read_text())) == []
    again = save(form, tmp_path)
    assert again == path and json.loads(path.read_text())["revision"] == 2


# --- aggregation -----------------------------------------------------------------------


def test_the_seed_studys_five_answers_give_92_percent(tmp_path, rng):
    _write(tmp_path, [_post(rng, s) for s in example.SEED_STUDY_SATISFACTION])
    result = aggregate.satisfaction(aggregate.read_responses(tmp_path))
    assert result["n"] == 5 and not result["suppressed"]
    assert result["percent"] == pytest.approx(92.0)
    assert result["percent_4_5"] == pytest.approx(100.0)


def test_an_item_with_four_answers_is_suppressed(tmp_path, rng):
    responses = [_post(rng, s) for s in (5, 5, 4, 4)]
    for r in responses:
        r["likert"]["clarity_02"] = 4
    _write(tmp_path, responses)
    collection = aggregate.read_responses(tmp_path)
    assert aggregate.satisfaction(collection) == {"n": 4, "suppressed": True}
    rows = {row["item"]: row for row in aggregate.likert_summary(collection)}
    assert rows["clarity_02"]["suppressed"] and "median" not in rows["clarity_02"]
    # one more answer makes it reportable
    _write(tmp_path, [_post(rng, 3)])
    rows = {r["item"]: r for r in aggregate.likert_summary(aggregate.read_responses(tmp_path))}
    assert not rows["satisfaction"]["suppressed"] and rows["satisfaction"]["n"] == 5


def test_duplicates_are_counted_without_file_names_in_the_report(tmp_path, rng):
    (first,) = _write(tmp_path / "in", [_post(rng)])
    shutil.copy(first, tmp_path / "in" / "alice-smith.json")
    page = report.write_report(tmp_path / "in", tmp_path / "out")["index"].read_text()
    assert "alice" not in page and "1 duplicate" in page


def test_median_and_iqr(tmp_path, rng):
    responses = [_post(rng, s) for s in (1, 2, 4, 4, 5)]
    _write(tmp_path, responses)
    rows = {r["item"]: r for r in aggregate.likert_summary(aggregate.read_responses(tmp_path))}
    row = rows["satisfaction"]
    assert (row["median"], row["q1"], row["q3"]) == (4.0, 2.0, 4.0)
    assert row["counts"] == [1, 1, 0, 2, 1] and row["percent_4_5"] == pytest.approx(60.0)


def test_malformed_and_duplicate_files_are_skipped_and_listed(tmp_path, rng):
    paths = _write(tmp_path, [_post(rng, 5) for _ in range(6)])
    (tmp_path / "broken.json").write_text("{ not json")
    (tmp_path / "notebook.ipynb").write_text("{}")
    bad = _post(rng)
    bad["likert"]["satisfaction"] = 9
    (tmp_path / "nine.json").write_text(json.dumps(bad))
    shutil.copy(paths[0], tmp_path / "copy-of-first.json")
    newer = json.loads(paths[1].read_text()) | {"revision": 3}
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "newer.json").write_text(json.dumps(newer))
    collection = aggregate.read_responses(tmp_path)
    assert len(collection.responses) == 6
    reasons = dict(collection.skipped)
    assert "not valid JSON" in reasons["broken.json"]
    assert "not a survey response" in reasons["notebook.ipynb"]
    assert "9 is not on the scale" in reasons["nine.json"]
    assert "identical copy" in " ".join(reasons.values())
    assert reasons[paths[1].name].startswith("duplicate of sub/newer.json")
    kept = {r["response_id"]: r["revision"] for r in collection.responses}
    assert kept[newer["response_id"]] == 3


def test_free_text_needs_ten_answers(tmp_path, rng):
    responses = [_post(rng) for _ in range(9)]
    for i, r in enumerate(responses):
        r["free_text"]["helped_most"] = f"answer {i}"
    _write(tmp_path, responses)
    texts = aggregate.free_text(aggregate.read_responses(tmp_path))
    assert texts["helped_most"]["suppressed"] and texts["helped_most"]["answers"] == []
    extra = _post(rng)
    extra["free_text"]["helped_most"] = "answer 9"
    _write(tmp_path, [extra])
    texts = aggregate.free_text(aggregate.read_responses(tmp_path))
    assert texts["helped_most"]["answers"] == sorted(f"answer {i}" for i in range(10))


def test_knowledge_change_is_paired_and_tested(tmp_path, rng):
    responses = []
    for skill_pre in (0.0, 0.1, 0.1, 0.2, 0.2, 0.3, 0.0, 0.1):
        code = new_pairing_code()
        responses.append(example.example_response(rng, "pre", code, skill=skill_pre))
        responses.append(_post(rng, code=code, skill=1.0))
    responses.append(_post(rng, skill=1.0))  # unpaired: not in the test
    _write(tmp_path, responses)
    change = aggregate.knowledge_change(aggregate.read_responses(tmp_path))
    assert change["n_pairs"] == 8 and change["n_post"] == 9 and not change["suppressed"]
    assert change["mean_post"] == 10.0 and change["mean_change"] > 5
    assert change["p_value"] < 0.05


def test_knowledge_change_with_four_pairs_is_suppressed(tmp_path, rng):
    responses = []
    for _ in range(4):
        code = new_pairing_code()
        responses += [example.example_response(rng, "pre", code), _post(rng, code=code)]
    _write(tmp_path, responses)
    change = aggregate.knowledge_change(aggregate.read_responses(tmp_path))
    assert change["suppressed"] and "p_value" not in change
    assert all(q["correct_pre"] is None for q in change["questions"])


# --- report and command line -----------------------------------------------------------


def test_report_writes_html_pngs_and_csv(tmp_path):
    inbox = tmp_path / "inbox"
    _write(inbox, example.example_cohort(n=12, paired=8, seed=3))
    (inbox / "broken.json").write_text("nope")
    result = report.write_report(inbox, tmp_path / "out")
    page = result["index"].read_text()
    assert "satisfaction" in page and "Wilcoxon" in page and "suppressed" in page
    assert "broken.json" not in page, "file names stay out of the shared report"
    assert "1 not valid JSON" in page
    assert "broken.json" in (tmp_path / "out" / "skipped.txt").read_text()
    for png in result["figures"]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    lines = result["csv"].read_text().splitlines()
    assert lines[0].startswith("item,group,assignment,text,n,n_1")
    assert len(lines) == 1 + len(instrument.LIKERT_ITEMS)


def test_csv_and_html_of_a_small_cohort_show_suppressed(tmp_path, rng):
    _write(tmp_path / "in", [_post(rng, s) for s in (5, 5, 4, 4)])
    result = report.write_report(tmp_path / "in", tmp_path / "out")
    rows = result["csv"].read_text().splitlines()[1:]
    assert all(row.endswith(",suppressed") for row in rows)
    assert "Satisfaction: suppressed" in result["index"].read_text()


def test_cli_survey_example_then_aggregate(tmp_path, capsys):
    assert main(["survey", "example", str(tmp_path / "in"), "--n", "6", "--paired", "5"]) == 0
    (tmp_path / "in" / "junk.json").write_text("[]")
    assert main(["survey", "aggregate", str(tmp_path / "in"), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "skipped junk.json" in out and "11 responses read, 1 files skipped" in out
    assert (tmp_path / "o" / "index.html").is_file()
    assert main(["survey", "aggregate", str(tmp_path / "missing")]) == 2


def test_the_pre_course_form_asks_only_the_knowledge_check(tmp_path, rng):
    form = SurveyForm(phase="pre")
    titles = [form.widget().children[1].get_title(i) for i in range(1)]
    assert titles == ["Knowledge check (10 questions, not graded)"]
    form.fill(example.example_response(rng, "pre"))
    saved = json.loads(save(form, tmp_path).read_text())
    assert saved["phase"] == "pre" and saved["pairing_code"] == form.pairing_code
    assert all(v is None for v in saved["likert"].values())
