"""The three papers' claims, checked against the tables the notebooks write.

**The table schema** (one for every notebook; :func:`medganlab.evaluation.fdd.write_table`
writes it): ``build/tables/<NN>_<name>_<profile>.csv`` plus a ``.json`` twin
``{"meta": {...}, "rows": [...]}``, where

- each row is one compared item (a finding, a run, a model x scenario ...) and its first
  column names it (``finding``, ``run`` ...);
- ``X_low`` / ``X_high`` are the 95 % confidence bounds of a column ``X``;
- ``paper_X`` is the paper's value of ``X`` for that row, where the paper gives one;
- ``meta`` holds ``profile`` (or every row has a ``profile`` column) and whatever a claim
  needs besides the rows (for 04 the real-vs-real spread ``bias_sizes`` /
  ``bias_real_vs_real``).

:func:`scorecard` turns the tables of one profile into one verdict per claim: ``holds``,
``does not hold``, ``not measurable at this size`` (the ``smoke`` profile proves the code
runs, not the science) or ``not run`` (the notebook has not written its table, or has not
been built yet).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CLAIMS",
    "Claim",
    "Verdict",
    "HOLDS",
    "FAILS",
    "NOT_MEASURABLE",
    "NOT_RUN",
    "load_table",
    "validate_table",
    "scorecard",
]

HOLDS, FAILS = "holds", "does not hold"
NOT_MEASURABLE, NOT_RUN = "not measurable at this size", "not run"


@dataclass(frozen=True)
class Verdict:
    """One claim's outcome in one profile."""

    status: str
    ours: str  # our numbers, with CIs where the table has them


@dataclass(frozen=True)
class Claim:
    """A claim of a paper and how to check it on a table."""

    key: str
    paper: str
    text: str
    paper_value: str
    table: str  # the table stem without the profile, e.g. "04_fdd"
    check: Callable[[list[dict], dict], Verdict] | None  # None: the notebook is not built yet


def load_table(path: Path) -> tuple[list[dict], dict]:
    """The rows and meta of a table's JSON twin (``.csv`` or ``.json`` path)."""
    data = json.loads(Path(path).with_suffix(".json").read_text())
    return data["rows"], data.get("meta", {})


def validate_table(path: Path) -> list[str]:
    """Problems with a table against the schema above (empty list: it conforms)."""
    path = Path(path)
    problems = []
    twin = path.with_suffix(".json")
    if not twin.is_file():
        return [f"{path.name}: no JSON twin {twin.name}"]
    try:
        rows, meta = load_table(path)
    except (ValueError, KeyError) as error:
        return [f"{twin.name}: not {{'meta', 'rows'}} JSON ({error})"]
    if not rows:
        problems.append(f"{twin.name}: no rows")
    profiles = {meta["profile"]} if "profile" in meta else {row.get("profile") for row in rows}
    if not profiles or None in profiles or len(profiles) != 1:
        problems.append(f"{twin.name}: no single 'profile' in meta (or in every row)")
    elif not path.stem.endswith(f"_{next(iter(profiles))}"):
        problems.append(f"{path.name}: name does not end in its profile {next(iter(profiles))!r}")
    columns = set().union(*(row.keys() for row in rows)) if rows else set()
    for column in columns:
        for suffix in ("_low", "_high"):
            if column.endswith(suffix) and column.removesuffix(suffix) not in columns:
                problems.append(f"{path.name}: {column} without its estimate column")
    return problems


def _num(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def _ci(row: Mapping, column: str) -> str:
    low, high = _num(row.get(f"{column}_low")), _num(row.get(f"{column}_high"))
    text = f"{_num(row.get(column)):.3g}"
    return text + (f" [{low:.3g}, {high:.3g}]" if math.isfinite(low + high) else "")


def _fdd_wins(rows: list[dict], meta: dict) -> Verdict:
    a, b = "fdd_cDCGAN", "fdd_multi-scale GAN"
    paired = [r for r in rows if math.isfinite(_num(r.get(a)) + _num(r.get(b)))]
    if len(paired) < len(rows) or not rows:
        return Verdict(NOT_RUN, "one of the two generators is missing")
    wins = [r["finding"] for r in paired if _num(r[b]) < _num(r[a])]
    spread = [_num(v) for v in meta.get("bias_real_vs_real", {}).get("axes", [])]
    clear = spread and [
        r["finding"] for r in paired if _num(r[a]) - _num(r[b]) > max(spread[-1], 0.0)
    ]
    ours = f"multi-scale wins {len(wins)} of {len(paired)} ({', '.join(wins) or 'none'})"
    if spread:
        ours += f"; {len(clear)} by more than the real-vs-real spread ({spread[-1]:.3g})"
    return Verdict(HOLDS if len(wins) >= 6 else FAILS, ours)


def _by_run(rows: list[dict]) -> dict[str, dict]:
    return {str(r.get("run")): r for r in rows}


CHANCE_AUC = 0.55  # a run whose AUC interval reaches no higher never left chance


def _at_chance(row: Mapping) -> bool:
    high = _num(row.get("auc_high", row.get("auc")))
    return math.isfinite(high) and high <= CHANCE_AUC


def _vgg_claim(first: str, second: str, column: str, smaller: bool, what: str, learned: bool):
    """``first`` beats ``second`` on ``column``; ``learned``: only readable if both learned."""

    def check(rows: list[dict], meta: dict) -> Verdict:
        runs = _by_run(rows)
        if first not in runs or second not in runs:
            return Verdict(NOT_RUN, f"runs {first!r} and {second!r} expected")
        x, y = _num(runs[first].get(column)), _num(runs[second].get(column))
        ours = (
            f"{first} {_ci(runs[first], column)} vs {second} {_ci(runs[second], column)} ({what})"
        )
        stuck = [n for n in (first, second) if _at_chance(runs[n])]
        if learned and stuck:
            return Verdict(NOT_MEASURABLE, ours + f"; {', '.join(stuck)} never left chance")
        holds = x < y if smaller else x > y
        return Verdict(HOLDS if holds else FAILS, ours)

    return check


def _auc_order(rows: list[dict], meta: dict) -> Verdict:
    runs = _by_run(rows)
    names = ["3x3 ELU", "3x3 Tanh", "3x3 Sigmoid"]
    if any(n not in runs for n in names):
        return Verdict(NOT_RUN, f"runs {names} expected")
    aucs = [_num(runs[n].get("auc")) for n in names]
    ours = ", ".join(f"{n.split()[1]} {_ci(runs[n], 'auc')}" for n in names)
    return Verdict(HOLDS if aucs[0] > aucs[1] > aucs[2] else FAILS, ours)


def _smallest_gap(rows: list[dict], meta: dict) -> Verdict:
    runs = _by_run(rows)
    names = [n for n in ("3x3 ELU", "3x3 Tanh", "3x3 Sigmoid") if n in runs]
    if "3x3 ELU" not in names or len(names) < 3:
        return Verdict(NOT_RUN, "the three activation runs are expected")
    gaps = {n: _num(runs[n].get("gap")) for n in names}
    ours = ", ".join(f"{n.split()[1]} {gaps[n]:.3g}" for n in names)
    stuck = [n for n in names if _at_chance(runs[n])]
    learned = [n for n in names if n not in stuck]
    if "3x3 ELU" in stuck or len(learned) < 2:
        return Verdict(NOT_MEASURABLE, ours + f"; {', '.join(stuck)} never left chance")
    best = min(learned, key=lambda n: abs(gaps[n]))
    note = f" (among runs that learned; {', '.join(stuck)} never left chance)" if stuck else ""
    return Verdict(HOLDS if best == "3x3 ELU" else FAILS, ours + note)


def _pix2pix_kidney(rows: list[dict], meta: dict) -> Verdict:
    kidney = {r.get("condition"): r for r in rows if r.get("region") == "kidney"}
    whole = {r.get("condition"): r for r in rows if r.get("region") == "background"}
    if not kidney:
        return Verdict(NOT_RUN, "no kidney rows")
    main = "labels+body" if "labels+body" in kidney else next(iter(kidney))
    parts = [
        f"{c}: kidney HU {_num(r.get('hu_mean_real')):.0f} → {_num(r.get('hu_mean_synthetic')):.0f}"
        + (f", SSIM {_num(whole[c].get('ssim')):.2f}" if c in whole else "")
        for c, r in kidney.items()
    ]
    within = abs(_num(kidney[main].get("hu_mean_difference"))) <= 30.0
    return Verdict(HOLDS if within else FAILS, "; ".join(parts))


def _gan_aug_minority(rows: list[dict], meta: dict) -> Verdict:
    """Holds when some GAN arm's mean AUC gain over the minority findings has a paired 95 %
    interval above 0; not measurable when the baseline never left chance."""
    minority = [r for r in rows if r.get("finding") == "minority"]
    base = next((r for r in minority if r.get("kind") == "baseline"), None)
    gan = [r for r in minority if r.get("kind") == "gan"]
    if base is None or not gan:
        return Verdict(NOT_RUN, "no baseline or no GAN arm in the table")
    best = max(gan, key=lambda r: _num(r.get("gain")))
    ours = (
        f"best of {len(gan)} GAN arms: {best['arm']} minority-mean AUC gain "
        f"{_ci(best, 'gain')} over the baseline's {_ci(base, 'auc')}"
    )
    if _at_chance(base):
        return Verdict(NOT_MEASURABLE, ours + "; the baseline never left chance")
    clear = [r["arm"] for r in gan if _num(r.get("gain_low")) > 0]
    if clear:
        return Verdict(HOLDS, ours + f"; interval above 0 for {', '.join(clear)}")
    return Verdict(FAILS, ours + "; no GAN arm's interval is above 0")


SEGMENTERS = ("U-Net1", "U-Net2", "FPN")


def _seg_scenario_4(rows: list[dict], meta: dict) -> Verdict:
    """Holds when scenario 4 has the highest IoU for all three segmenters (point estimates;
    each model's scenario 4 and its paired difference to scenario 1 are shown with CIs)."""
    by = {(r.get("model"), int(_num(r.get("scenario")))): r for r in rows if r.get("scenario")}
    missing = [f"{m} s{s}" for m in SEGMENTERS for s in (1, 2, 3, 4) if (m, s) not in by]
    if missing:
        return Verdict(NOT_RUN, f"rows missing: {', '.join(missing)} (3 and 4 need 07's set)")
    parts, wins = [], []
    for model in SEGMENTERS:
        ious = {s: _num(by[model, s].get("iou")) for s in (1, 2, 3, 4)}
        best = max(ious, key=lambda s: ious[s])
        wins += [model] if best == 4 else []
        parts.append(
            f"{model} s4 {_ci(by[model, 4], 'iou')} (best: s{best}; s4 − s1 "
            f"{_ci(by[model, 4], 'diff_vs_1')})"
        )
    ours = f"scenario 4 best for {len(wins)} of 3; " + "; ".join(parts)
    return Verdict(HOLDS if len(wins) == len(SEGMENTERS) else FAILS, ours)


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "fdd_6_of_8",
        "Ann et al. 2020 (chest X-ray GAN)",
        "The multi-scale self-attention GAN beats the cDCGAN on FDD for 6 of 8 findings",
        "6 of 8 (not Effusion, Pneumonia)",
        "04_fdd",
        _fdd_wins,
    ),
    Claim(
        "vgg_3x3_faster",
        "Lee et al. 2021 (VGG-16 case study)",
        "3x3 kernels train faster than 7x7",
        "qualitative (Figs. 3–4)",
        "05_vgg16",
        _vgg_claim("3x3 ReLU", "7x7 ReLU", "seconds_per_epoch", True, "seconds per epoch", False),
    ),
    Claim(
        "vgg_3x3_overfits_less",
        "Lee et al. 2021 (VGG-16 case study)",
        "3x3 kernels overfit less than 7x7 (smaller validation − training loss)",
        "qualitative (Figs. 3–4)",
        "05_vgg16",
        _vgg_claim("3x3 ReLU", "7x7 ReLU", "gap", True, "generalisation gap", True),
    ),
    Claim(
        "vgg_auc_order",
        "Lee et al. 2021 (VGG-16 case study)",
        "AUC: ELU > Tanh > Sigmoid",
        "0.996 > 0.976 > 0.91",
        "05_vgg16",
        _auc_order,
    ),
    Claim(
        "vgg_elu_gap",
        "Lee et al. 2021 (VGG-16 case study)",
        "ELU shows the smallest train/validation gap (|validation − training loss|)",
        "qualitative (Fig. 4)",
        "05_vgg16",
        _smallest_gap,
    ),
    Claim(
        "gan_aug_minority",
        "Ann et al. 2020 (motivation), Salehinejad et al. 2018",
        "GAN augmentation raises the AUC of minority findings",
        "announced, not measured in the paper",
        "06_gan_augmentation",
        _gan_aug_minority,
    ),
    Claim(
        "pix2pix_quality",
        "Choe et al. 2023 (KiTS augmentation)",
        "Pix2Pix turns label maps into CT slices with kidneys of realistic attenuation "
        "(synthetic kidney HU mean within 30 HU of the real one)",
        "1,333 synthetic slices; image quality not reported",
        "07_pix2pix",
        _pix2pix_kidney,
    ),
    Claim(
        "seg_scenario_4",
        "Choe et al. 2023 (KiTS augmentation)",
        "Scenario 4 (synthetic + geometric) is best for all three segmenters",
        "U-Net1 90.73, U-Net2 90.76, FPN 91.41 % IoU",
        "08_segmentation",
        _seg_scenario_4,
    ),
)


def scorecard(tables: Path, profile: str) -> list[dict]:
    """One row per claim: paper, claim, paper's value, ours, profile, verdict."""
    rows = []
    for claim in CLAIMS:
        path = Path(tables) / f"{claim.table}_{profile}.csv"
        if claim.check is None:
            verdict = Verdict(NOT_RUN, "notebook not built yet")
        elif not path.with_suffix(".json").is_file():
            verdict = Verdict(NOT_RUN, f"no table {path.name}: run the notebook")
        else:
            table_rows, meta = load_table(path)
            verdict = claim.check(table_rows, meta)
            if profile == "smoke" and verdict.status in (HOLDS, FAILS):
                verdict = Verdict(NOT_MEASURABLE, verdict.ours)
        rows.append(
            {
                "key": claim.key,
                "paper": claim.paper,
                "claim": claim.text,
                "paper_value": claim.paper_value,
                "ours": verdict.ours,
                "profile": profile,
                "verdict": verdict.status,
            }
        )
    return rows
