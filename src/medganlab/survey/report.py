"""The survey report: diverging stacked Likert bars (matplotlib), a CSV and one HTML page."""

from __future__ import annotations

import csv
import html
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from medganlab.survey import aggregate
from medganlab.survey.instrument import KNOWLEDGE, LIKERT_ITEMS, SCALE

__all__ = ["diverging_bars", "knowledge_figure", "write_csv", "write_report"]

GROUPS = {
    "general": "The course overall",
    "clarity": "Clarity of each notebook's instructions",
    "difficulty": "Difficulty of each notebook",
    "time": "Time spent, compared with each notebook's estimate",
}
_ITEMS = {item.id: item for item in LIKERT_ITEMS}
_SKIP_KINDS = ("duplicate", "malformed", "not valid JSON", "not a survey response")


def _labels(row: dict) -> str:
    item = _ITEMS[row["item"]]
    if item.group == "general":
        return textwrap.fill(item.text, 48)
    return item.text.split(":")[0]  # "03 Multi-scale self-attention conditional GAN"


def diverging_bars(rows: list[dict[str, Any]], title: str, path: Path) -> Path:
    """Draw one diverging stacked bar per item, centred on the scale's midpoint (3).

    Answers 1–2 extend left, 4–5 right and 3 straddles the centre; each bar is in percent
    of that item's answers. Suppressed items get an empty row that says so.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    item = _ITEMS[rows[0]["item"]]
    bipolar = item.mid is not None
    colors = plt.get_cmap("PuOr" if bipolar else "RdBu")(np.linspace(0.12, 0.88, 5))
    colors[2] = (0.82, 0.82, 0.82, 1.0)
    fig, ax = plt.subplots(figsize=(10, 0.48 * len(rows) + 1.9))
    for y, row in enumerate(rows):
        if row["suppressed"]:
            ax.text(
                0,
                y,
                f"suppressed (n = {row['n']} < {aggregate.MIN_N})",
                ha="center",
                va="center",
                color="0.35",
                fontsize=9,
                style="italic",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
            )
            continue
        share = 100.0 * np.array(row["counts"], dtype=float) / row["n"]
        left = -(share[0] + share[1] + share[2] / 2)
        for k, value in enumerate(share):
            ax.barh(y, value, left=left, color=colors[k], edgecolor="white", height=0.7)
            if value >= 7:
                ax.text(
                    left + value / 2,
                    y,
                    f"{value:.0f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if k in (0, 4) else "black",
                )
            left += value
        ax.text(101, y, f"n={row['n']}  median {row['median']:g}", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [_labels(r) for r in rows], fontsize=9)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # top to bottom, suppressed rows included
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.set_xlim(-100, 100)
    ax.set_xticks(range(-100, 101, 50), [f"{abs(t)} %" for t in range(-100, 101, 50)])
    mid = item.mid or "neutral"
    names = [f"1 {item.low}", "2", f"3 {mid}", "4", f"5 {item.high}"]
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colors]
    ax.legend(
        handles,
        names,
        ncol=5,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.9 / len(rows)),
        frameon=False,
        fontsize=8,
    )
    ax.set_title(title, loc="left", fontsize=11)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def knowledge_figure(change: dict[str, Any], path: Path) -> Path | None:
    """Box plots of the paired pre/post scores and the share correct per question."""
    if change["suppressed"]:
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), width_ratios=[1, 2.4])
    left.boxplot([change["pre_scores"], change["post_scores"]], widths=0.5)
    left.set_xticks([1, 2], ["before", "after"])
    left.set_ylim(-0.5, len(KNOWLEDGE) + 0.5)
    left.set_ylabel("correct answers (of 10)")
    left.set_title(f"Paired scores (n = {change['n_pairs']})", fontsize=10)
    x = np.arange(len(change["questions"]))
    for offset, phase, color in ((-0.2, "pre", "0.65"), (0.2, "post", "C0")):
        values = [q[f"correct_{phase}"] for q in change["questions"]]
        heights = [np.nan if v is None else v for v in values]
        right.bar(
            x + offset,
            heights,
            width=0.4,
            color=color,
            label="before" if phase == "pre" else "after",
        )
    right.set_xticks(
        x, [f"{q['question']}\n{q['assignment'][:2]}" for q in change["questions"]], fontsize=8
    )
    right.set_ylim(0, 100)
    right.set_ylabel("% correct")
    right.set_title("Share correct per question (question / notebook)", fontsize=10)
    right.legend(frameon=False, fontsize=8)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    """One line per 1–5 item: n, counts 1–5, median, quartiles, % 4–5, or 'suppressed'."""
    columns = [
        "item",
        "group",
        "assignment",
        "text",
        "n",
        "n_1",
        "n_2",
        "n_3",
        "n_4",
        "n_5",
        "median",
        "q1",
        "q3",
        "mean",
        "percent_4_5",
        "status",
    ]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            base = [row["item"], row["group"], row["assignment"], row["text"], row["n"]]
            if row["suppressed"]:
                writer.writerow(base + [""] * 10 + ["suppressed"])
            else:
                stats = [
                    row["median"],
                    row["q1"],
                    row["q3"],
                    round(row["mean"], 3),
                    round(row["percent_4_5"], 1),
                ]
                writer.writerow(base + list(row["counts"]) + stats + ["ok"])
    return path


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["<table><tr><th>Item</th><th>n</th><th>Median</th><th>IQR</th><th>Share 4–5</th></tr>"]
    for row in rows:
        text = html.escape(row["text"])
        if row["suppressed"]:
            lines.append(
                f"<tr><td>{text}</td><td>{row['n']}</td>"
                "<td colspan=3 class=sup>suppressed (n &lt; 5)</td></tr>"
            )
        else:
            lines.append(
                f"<tr><td>{text}</td><td>{row['n']}</td><td>{row['median']:g}</td>"
                f"<td>{row['q1']:g}–{row['q3']:g}</td><td>{row['percent_4_5']:.0f} %</td></tr>"
            )
    return "\n".join(lines + ["</table>"])


_CSS = """body{font-family:system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;
color:#222}h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6rem 0}td,th{padding:.25rem .6rem;border-bottom:1px
solid #eee;text-align:left}td+td{white-space:nowrap}.big{font-size:2.4rem;font-weight:600}.sup{color:#777;
font-style:italic}.note{color:#555;font-size:.9rem}img{max-width:100%}li{margin:.2rem 0}"""


def _headline(sat: dict[str, Any]) -> str:
    if sat["suppressed"]:
        return f"<p class=sup>Satisfaction: suppressed (n = {sat['n']} &lt; {aggregate.MIN_N}).</p>"
    return (
        f"<p><span class=big>{sat['percent']:.0f} %</span> satisfaction (n = {sat['n']}): the "
        f"mean answer to “Overall, I am satisfied with this course” ({sat['mean']:.2f}) divided "
        f"by 5, as Lee et al. (2021) define it. {sat['percent_4_5']:.0f} % answered 4 or 5.</p>"
        "<p class=note>By this definition a cohort answering only 1s scores 20 %, not 0 %; read "
        "it with the distribution below.</p>"
    )


def _knowledge_html(change: dict[str, Any], figure: Path | None) -> str:
    head = (
        f"<p>Responses: {change['n_pre']} before the course, {change['n_post']} after; "
        f"{change['n_pairs']} paired by their pairing code"
    )
    head += (
        f" ({change['ambiguous_codes']} codes used twice in one phase were left out)."
        if change["ambiguous_codes"]
        else "."
    )
    if change["suppressed"]:
        return (
            head + f"</p><p class=sup>Before/after comparison: suppressed (fewer than "
            f"{aggregate.MIN_N} pairs).</p>"
        )
    return head + (
        f"</p><p>Mean score {change['mean_pre']:.1f} → {change['mean_post']:.1f} of 10 "
        f"(mean change {change['mean_change']:+.1f}, median {change['median_change']:+g}); "
        f"Wilcoxon signed-rank test on the pairs: W = {change['wilcoxon_statistic']:g}, "
        f"p = {change['p_value']:.3g}.</p><img src='{figure.name}' alt='knowledge check'>"
    )


def _free_text_html(texts: dict[str, dict[str, Any]]) -> str:
    parts = []
    for block in texts.values():
        parts.append(f"<h3>{html.escape(block['text'])}</h3>")
        if block["suppressed"]:
            parts.append(
                f"<p class=sup>suppressed ({block['n']} answers; shown from "
                f"{aggregate.MIN_N_TEXT})</p>"
            )
        else:
            items = "".join(f"<li>{html.escape(a)}</li>" for a in block["answers"])
            parts.append(
                f"<p class=note>{block['n']} answers, sorted alphabetically</p><ul>{items}</ul>"
            )
    return "\n".join(parts)


def write_report(folder: Path, out: Path) -> dict[str, Any]:
    """Aggregate ``folder`` into ``out``: index.html, likert_*.png, knowledge.png, CSVs.

    Returns what was written and the skipped files (for the command line to list).
    """
    collection = aggregate.read_responses(folder)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = aggregate.likert_summary(collection)
    sat = aggregate.satisfaction(collection)
    change = aggregate.knowledge_change(collection)
    texts = aggregate.free_text(collection)
    figures = {
        group: diverging_bars(
            [r for r in rows if r["group"] == group], title, out / f"likert_{group}.png"
        )
        for group, title in GROUPS.items()
    }
    knowledge_png = knowledge_figure(change, out / "knowledge.png")
    csv_path = write_csv(rows, out / "likert_summary.csv")
    (out / "skipped.txt").write_text(
        "".join(f"{name}\t{reason}\n" for name, reason in collection.skipped), encoding="utf-8"
    )
    reasons: dict[str, int] = {}
    for _, reason in collection.skipped:  # categories only: file names may name people
        key = next((k for k in _SKIP_KINDS if reason.startswith(k)), "other")
        reasons[key] = reasons.get(key, 0) + 1
    skipped = "; ".join(f"{n} {k}" for k, n in sorted(reasons.items())) or "none"
    sections = [
        f"<h1>End-of-course survey</h1><p>{len(collection.phase('post'))} responses after the "
        f"course, {len(collection.phase('pre'))} before. Files skipped: {skipped}"
        + (" (their names are in <code>skipped.txt</code>)" if collection.skipped else "")
        + ".</p>",
        "<h2>Satisfaction</h2>" + _headline(sat),
    ]
    for group, title in GROUPS.items():
        group_rows = [r for r in rows if r["group"] == group]
        sections.append(
            f"<h2>{title}</h2><img src='{figures[group].name}' alt='{title}'>" + _table(group_rows)
        )
    sections.append(
        "<h2>Knowledge check, before and after</h2>" + _knowledge_html(change, knowledge_png)
    )
    sections.append("<h2>Free text</h2>" + _free_text_html(texts))
    sections.append(
        "<h2>How this report protects respondents</h2><ul class=note>"
        f"<li>An item answered by fewer than {aggregate.MIN_N} people shows “suppressed”.</li>"
        f"<li>Free text is shown from {aggregate.MIN_N_TEXT} answers on, sorted, never next to "
        "other answers.</li><li>No item is broken down by another answer, date or group.</li>"
        "<li>Responses carry no name, only the day, and a random id.</li></ul>"
        f"<p class=note>Scale {SCALE[0]}–{SCALE[-1]}; the median averages the two middle answers "
        "when n is even; quartiles are answers on the scale (NumPy's inverted-CDF method). Table: <a href='likert_summary.csv'>likert_summary.csv</a>.</p>"
    )
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Survey report</title>"
        f"<style>{_CSS}</style><body>" + "\n".join(sections) + "</body></html>\n"
    )
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return {
        "index": index,
        "csv": csv_path,
        "figures": [*figures.values(), *([knowledge_png] if knowledge_png else [])],
        "responses": len(collection.responses),
        "skipped": collection.skipped,
    }
