"""GAN recipe rows (issue 18): notebooks 01-03's graded code trained with recipe levers.

Each row of :data:`RECIPES` trains the notebook's graded functions (loaded from
``solutions/<NN>/<NN>.py``) with the active profile plus the row's overrides, then measures
the trained generator ("G") and, when the row keeps one, its moving average ("EMA") with the
cached reference finding classifier (its size and epochs from 02's profile):

- conditional accuracy per finding (02, 03): the share of ``eval_per_finding`` (64 on cpu)
  images asked for a finding that the classifier assigns to it; the classifier's accuracy on
  the real training images is stored as the ceiling;
- the same with every generated image given the grey levels of a random real image
  (``acc_matched``, :mod:`medganlab.evaluation.grey_levels`): whether the finding is drawn or
  only signalled by brightness; its ceiling is the classifier on matched real images;
- Fréchet distance on the classifier's ``features`` layer, 512 generated vs 512 real images
  (fewer when the training set is smaller, as in smoke); 01 also stores real-vs-real;
- diversity: mean pairwise distance of 64 samples over that of 64 real images (1 = as varied);
- seconds per step (D steps for 03) of the training, wall clock: a loaded machine inflates it.

Cost: on the cpu profile a row takes about 2-7 minutes of 2 cores with native bf16 (training
about 1.5-6 of them; 03's rows at 40 epochs the longest), somewhat more in float32 on an
AVX2-only CPU (03's notebook: 5.9 against 5.1 min of training); the whole sweep (90 rows)
about 4.5 hours the first time. Rows are kept in
``<out>/gan_recipes/<assignment>__<row>.json`` with the last epoch's sample grid next to them,
and reused by the next run when the overrides, the profile and the phantom's
``GENERATOR_VERSION`` are the same. The table of all selected rows
goes to ``<out>/gan_recipes_<profile>.csv`` (one line per row and sampler; rows not selected
this time are kept in it while still valid).

Pick rows with ``MEDGANLAB_RECIPES`` (comma-separated ``assignment:row`` or ``assignment``;
default all) and the profile with ``MEDGANLAB_PROFILE`` (default cpu), e.g.::

    MEDGANLAB_RECIPES=02_conditional_gan:proj_da_ema,03_multiscale_attention_gan \\
        python -m medganlab.bench gan_recipes
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from pathlib import Path

from medganlab.bench.recipe_rows import EXTRA_KEYS, RECIPES
from medganlab.profiles import profile_for

_NOT_KNOBS = {"assignment", "profile"}
# the table's columns; the acc_<finding> columns go after the first 11
_COLUMNS = (
    "assignment", "run", "sampler", "discriminator", "diff_augment", "ema_decay", "lr_g",
    "lr_d", "steps", "train_seconds", "s_per_step", "acc_mean", "findings_at_0",
    "acc_matched", "frechet_n512", "diversity", "balance", "batch_size",
)  # fmt: skip


def split_overrides(assignment: str, profile: str, overrides: dict):
    """Return (config with the overrides, extra keys) or raise ValueError on an unknown key."""
    cfg = profile_for(assignment, profile)
    fields = {f.name for f in dataclasses.fields(cfg)} - _NOT_KNOBS
    extra = set(EXTRA_KEYS.get(assignment, ()))
    bad = sorted(set(overrides) - fields - extra)
    if bad:
        raise ValueError(
            f"{assignment}: unknown override(s) {bad}; expected config fields "
            f"{sorted(fields)} or extra keys {sorted(extra)}"
        )
    knobs = {k: v for k, v in overrides.items() if k in fields}
    return cfg.replace(**knobs), {k: v for k, v in overrides.items() if k not in fields}


def select(spec: str | None) -> list[tuple[str, str, dict]]:
    """The RECIPES rows named by ``spec`` ("assignment:row" or "assignment", comma-separated)."""
    if not spec or not spec.strip():
        return list(RECIPES)
    chosen: list[tuple[str, str, dict]] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        assignment, _, row = item.partition(":")
        hits = [r for r in RECIPES if r[0] == assignment and (not row or r[1] == row)]
        if not hits:
            names = ", ".join(f"{a}:{r}" for a, r, _ in RECIPES)
            raise ValueError(f"MEDGANLAB_RECIPES: no row {item!r}; expected some of: {names}")
        chosen += [h for h in hits if h not in chosen]
    return chosen


def _jsonable(value):
    return json.loads(json.dumps(value))


def reuse_status(
    stored: dict | None, assignment: str, overrides: dict, profile: str, version: int
) -> str:
    """Return "missing" (no row), "stale" or "fresh".

    Stale: the row was trained with another configuration (the profile with the row's
    overrides, as resolved now: a profile that changed under a row makes it stale), other
    extra keys, another profile name or another phantom version.
    """
    if stored is None:
        return "missing"
    cfg, extras = split_overrides(assignment, profile, overrides)
    fields = set(cfg.as_dict())
    stored_overrides = stored.get("overrides", {})
    stored_extras = {k: v for k, v in stored_overrides.items() if k not in fields}
    # a field added to the config after the row was stored: the row trained with what its
    # overrides said (then an extra key of the trainer), else with the field's default
    defaults = {f.name: f.default for f in dataclasses.fields(cfg)}
    stored_config = {
        **{k: stored_overrides.get(k, defaults[k]) for k in fields},
        **stored.get("config", {}),
    }
    same = (
        _jsonable(stored_config) == _jsonable(cfg.as_dict())
        and stored_extras == _jsonable(extras)
        and stored.get("profile") == profile
        and stored.get("generator_version") == version
    )
    return "fresh" if same else "stale"


def csv_rows(stored: dict) -> list[dict]:
    """One table line per sampler (G, EMA) of a stored row."""
    lines = []
    for sampler in ("G", "EMA"):
        m = stored.get(sampler)
        if m is None:
            continue
        acc = m.get("accuracy", {})
        lines.append({
            "assignment": stored["assignment"],
            "run": stored["row"],
            "sampler": sampler,
            "discriminator": stored["discriminator"],
            "diff_augment": "+".join(stored["diff_augment"]) or "-",
            "ema_decay": stored["ema_decay"],
            "lr_g": stored["lr_g"],
            "lr_d": stored["lr_d"],
            "steps": stored["steps"],
            "train_seconds": stored["train_seconds"],
            "s_per_step": stored["s_per_step"],
            **{f"acc_{k}": round(v, 3) for k, v in acc.items()},
            "acc_mean": round(m["mean"], 3) if "mean" in m else "",
            "findings_at_0": sum(v == 0 for v in acc.values()) if acc else "",
            "acc_matched": round(m["matched_mean"], 3) if "matched_mean" in m else "",
            "frechet_n512": round(m["frechet"], 2),
            "diversity": round(m["diversity"], 3),
            "balance": stored["balance"],
            "batch_size": stored["batch_size"],
        })  # fmt: skip
    return lines


def _train_row(assignment, row, overrides, profile, version, path: Path) -> dict:
    from medganlab.bench import _recipe_training as training

    cfg, extras = split_overrides(assignment, profile, overrides)
    print(f"--- {assignment}:{row} ({profile}) {overrides}", flush=True)
    trained = training.train(assignment, cfg, extras, path.with_suffix(""))
    judge = profile_for("02_conditional_gan", profile)
    metrics = training.measure(assignment, cfg, judge, trained["index"], trained["samplers"])
    stored = {
        "assignment": assignment,
        "row": row,
        "profile": profile,
        "overrides": _jsonable(overrides),
        "generator_version": version,
        "config": _jsonable(cfg.as_dict()),
        **trained["row"],
        **metrics,
    }
    path.write_text(json.dumps(stored, indent=1) + "\n")
    return stored


def run(out_dir: Path) -> dict:
    import keras

    from medganlab.data import vocabulary
    from medganlab.data.cxr.rendering import GENERATOR_VERSION

    profile = os.environ.get("MEDGANLAB_PROFILE") or "cpu"
    rows = select(os.environ.get("MEDGANLAB_RECIPES"))
    for assignment, _, overrides in rows:  # fail before any training on a bad row
        split_overrides(assignment, profile, overrides)
    folder = Path(out_dir) / "gan_recipes"
    folder.mkdir(parents=True, exist_ok=True)
    results, reused = [], []
    for assignment, row, overrides in rows:
        path = folder / f"{assignment}__{row}.json"
        stored = json.loads(path.read_text()) if path.is_file() else None
        if reuse_status(stored, assignment, overrides, profile, GENERATOR_VERSION) == "fresh":
            reused.append(f"{assignment}:{row}")
        else:
            stored = _train_row(assignment, row, overrides, profile, GENERATOR_VERSION, path)
            keras.backend.clear_session()
        results.append(stored)
    for assignment, row, overrides in RECIPES:  # the table keeps other rows still valid
        path = folder / f"{assignment}__{row}.json"
        if (assignment, row, overrides) in rows or not path.is_file():
            continue
        stored = json.loads(path.read_text())
        if reuse_status(stored, assignment, overrides, profile, GENERATOR_VERSION) == "fresh":
            results.append(stored)
    order = [(a, r) for a, r, _ in RECIPES]
    results.sort(key=lambda s: order.index((s["assignment"], s["row"])))
    lines = [line for stored in results for line in csv_rows(stored)]
    table = Path(out_dir) / f"gan_recipes_{profile}.csv"
    fields = [*_COLUMNS[:11], *(f"acc_{f}" for f in vocabulary.FINDINGS), *_COLUMNS[11:]]
    with open(table, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(lines)
    print(
        f"{'row':44s} {'smp':4s} {'acc':>6s} {'at0':>4s} {'match':>6s} {'frechet':>8s} "
        f"{'div':>6s} {'s/step':>7s}"
    )
    for line in lines:
        print(
            f"{line['assignment'] + ':' + line['run']:44s} {line['sampler']:4s} "
            f"{line['acc_mean']!s:>6s} {line['findings_at_0']!s:>4s} {line['acc_matched']!s:>6s} "
            f"{line['frechet_n512']:8.2f} {line['diversity']:6.3f} {line['s_per_step']:7.3f}"
        )
    return {
        "profile": profile,
        "generator_version": GENERATOR_VERSION,
        "table": str(table),
        "reused": reused,
        "rows": {f"{s['assignment']}:{s['row']}": str(folder / f"{s['assignment']}__{s['row']}.json")
                 for s in results},
    }  # fmt: skip
