"""GAN recipe rows (issue 18): notebooks 01-03's graded code trained with recipe levers.

Each row of :data:`RECIPES` trains the notebook's graded functions (loaded from
``solutions/<NN>/<NN>.py``) with the active profile plus the row's overrides, then measures
the trained generator ("G") and, when the row keeps one, its moving average ("EMA") with the
cached reference finding classifier (its size and epochs from 02's profile):

- conditional accuracy per finding (02, 03): the share of ``eval_per_finding`` (64 on cpu)
  images asked for a finding that the classifier assigns to it; the classifier's accuracy on
  the real training images is stored as the ceiling;
- Fréchet distance on the classifier's ``features`` layer, 512 generated vs 512 real images
  (fewer when the training set is smaller, as in smoke); 01 also stores real-vs-real;
- diversity: mean pairwise distance of 64 samples over that of 64 real images (1 = as varied);
- seconds per step (D steps for 03) of the training, wall clock: a loaded machine inflates it.

Cost: on the cpu profile a row trains for about 5-13 minutes of 2 cores (the whole sweep
about 1.5 hours). Rows are kept in ``<out>/gan_recipes/<assignment>__<row>.json`` with the
last epoch's sample grid next to them, and reused by the next run when the overrides, the
profile and the phantom's ``GENERATOR_VERSION`` are the same. The table of all selected rows
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

from medganlab.profiles import profile_for

DA = ("color", "translation", "cutout")
NO_LEVERS = {"diff_augment": (), "ema_decay": None}
# 02's rows measured before the cpu profile added the auxiliary classifier and went from 10
# epochs (400 updates) to 8 (320) to fit its 15 minutes
NO_AC = {"auxiliary_weight": None, "epochs": 10}

CT = ("color", "translation")  # DiffAugment without cutout
# 02's comparison run (projection D + auxiliary classifier) without cutout, as in cpu
PROJ_AC = {"discriminator": "projection", "diff_augment": CT, "ema_decay": 0.999,
           "auxiliary_weight": 1.0}  # fmt: skip
# 02's main run (the paper's concatenation D) without cutout, as in cpu
CONCAT = {"discriminator": "concat", "auxiliary_weight": None, "diff_augment": CT,
          "ema_decay": 0.999}  # fmt: skip
G_FASTER = {"learning_rate": 4e-4, "d_learning_rate": 2e-4}  # G at twice D's rate
# 03 with the class head at weight 3, as in cpu
AC3 = {"learning_rate": 2e-4, "ema_decay": 0.999, "auxiliary_weight": 3.0}

# (assignment, row name, overrides of the profile)
_ROWS: tuple[tuple[str, str, dict], ...] = (
    ("01_dcgan", "base", dict(NO_LEVERS)),
    ("01_dcgan", "da_ema", {"diff_augment": DA, "ema_decay": 0.999}),
    ("02_conditional_gan", "base", {**NO_AC, "discriminator": "concat", **NO_LEVERS}),
    ("02_conditional_gan", "base_da_ema", {**NO_AC, "discriminator": "concat", "diff_augment": DA,
                                           "ema_decay": 0.999}),
    ("02_conditional_gan", "proj_da_ema", {**NO_AC, "discriminator": "projection", "diff_augment": DA,
                                           "ema_decay": 0.999}),
    ("02_conditional_gan", "proj_da_ema_balanced", {**NO_AC, "discriminator": "projection",
                                                    "diff_augment": DA, "ema_decay": 0.999,
                                                    "balance": True}),
    ("02_conditional_gan", "proj_da_ema_b32", {**NO_AC, "discriminator": "projection", "diff_augment": DA,
                                               "ema_decay": 0.999, "batch_size": 32}),
    # half the side, four times the epochs: about the same compute, 4x the updates (1,600);
    # judged by a 32 px reference classifier (its own ceiling is stored with the row)
    ("02_conditional_gan", "proj_da_ema_32px_e40", {**NO_AC, "discriminator": "projection",
                                                    "diff_augment": DA, "ema_decay": 0.999,
                                                    "image_size": 32, "epochs": 40}),
    # two time-scale rates (Heusel et al. 2017; SAGAN's G 1e-4 / D 4e-4), and spectral
    # normalisation in the projection discriminator (Miyato et al. 2018), one at a time
    ("02_conditional_gan", "proj_da_ema_ttur", {**NO_AC, "discriminator": "projection", "diff_augment": DA,
                                                "ema_decay": 0.999, "learning_rate": 1e-4,
                                                "d_learning_rate": 4e-4}),
    ("02_conditional_gan", "proj_da_ema_sn", {**NO_AC, "discriminator": "projection", "diff_augment": DA,
                                              "ema_decay": 0.999, "spectral_norm": True}),
    # an auxiliary classifier in D (AC-GAN, Odena et al. 2017; training/auxiliary.py): a
    # supervised class loss on the reals for D, on the fakes for G; changes the published loss
    ("02_conditional_gan", "proj_da_ema_ac", {"discriminator": "projection", "diff_augment": DA,
                                              "ema_decay": 0.999, "auxiliary_weight": 1.0,
                                              "epochs": 10}),
    ("02_conditional_gan", "proj_da_ema_ac3", {"discriminator": "projection", "diff_augment": DA,
                                               "ema_decay": 0.999, "auxiliary_weight": 3.0,
                                               "epochs": 10}),
    # the cpu profile's comparison run (8 epochs). Not a row: the head on the paper's
    # concatenation D reads the label channels back (class loss 0.001, accuracy 0.13-0.14,
    # Fréchet 78-104, measured once); with_auxiliary_classifier now refuses that D
    ("02_conditional_gan", "proj_da_ema_ac_e8", {"discriminator": "projection",
                                                 "diff_augment": DA, "ema_decay": 0.999,
                                                 "auxiliary_weight": 1.0}),
    # the same without cutout: the erased half-image often hides the finding from the head
    ("02_conditional_gan", "proj_ct_ema_ac_e8", {**PROJ_AC}),
    # ... at weight 2; and with no DiffAugment at weight 3 (the setting that lifted 03)
    ("02_conditional_gan", "proj_ct_ema_ac2_e8", {"discriminator": "projection",
                                                  "diff_augment": CT,
                                                  "ema_decay": 0.999, "auxiliary_weight": 2.0}),
    ("02_conditional_gan", "proj_ema_ac3_e8", {"discriminator": "projection", "diff_augment": (),
                                               "ema_decay": 0.999, "auxiliary_weight": 3.0}),
    # more progress in the same 320 updates or the same compute: rates 4e-4, G's alone at
    # 4e-4, and batch 32 (648 updates over the same 8 epochs). Batch 32 with G at 4e-4 is
    # the cpu profile's comparison run (G / EMA 0.61 / 0.64 against 0.38 / 0.37)
    ("02_conditional_gan", "proj_ct_ema_ac_lr4", {**PROJ_AC, "learning_rate": 4e-4}),
    ("02_conditional_gan", "proj_ct_ema_ac_glr4", {**PROJ_AC, **G_FASTER}),
    ("02_conditional_gan", "proj_ct_ema_ac_b32", {**PROJ_AC, "batch_size": 32}),
    ("02_conditional_gan", "proj_ct_ema_ac_b16", {**PROJ_AC, "batch_size": 16}),
    ("02_conditional_gan", "proj_ct_ema_ac_b32_glr4", {**PROJ_AC, "batch_size": 32, **G_FASTER}),
    # ... with G's class term logit-adjusted (the training set's log prior taken out of
    # the head's logits): Pneumonia (54 images) was read as Effusion in the bf16 notebook
    ("02_conditional_gan", "proj_ct_ema_ac_b32_glr4_adj", {**PROJ_AC, "batch_size": 32,
                                                           **G_FASTER,
                                                           "auxiliary_adjust": True}),
    # the main run (the paper's concatenation D) in the cpu recipe, at batch 64 and 32
    ("02_conditional_gan", "concat_ct_ema", dict(CONCAT)),
    ("02_conditional_gan", "concat_ct_ema_b32", {**CONCAT, "batch_size": 32}),
    ("02_conditional_gan", "concat_ct_ema_b32_glr4", {**CONCAT, "batch_size": 32, **G_FASTER}),
    # the cpu comparison run at batch 16: 0.65 / 0.66, none at 0, but 27 % more training time
    ("02_conditional_gan", "proj_ct_ema_ac_b16_glr4", {**PROJ_AC, "batch_size": 16, **G_FASTER}),
    # the paper's rate (the gpu profile's); the cpu profile now trains at 2e-4
    # (these three were measured before the cpu profile added the class head)
    ("03_multiscale_attention_gan", "paper_lr", {"learning_rate": 2e-5, "auxiliary_weight": None}),
    ("03_multiscale_attention_gan", "lr2e-4_ema", {"learning_rate": 2e-4, "ema_decay": 0.999,
                                                   "auxiliary_weight": None}),
    # G updated on every step (the paper: every 5th) in half the epochs, about the same time:
    # 5x the G updates (800 instead of 320); tau still reaches 0.3 (0.1 every 3 epochs)
    ("03_multiscale_attention_gan", "lr2e-4_ema_1to1_e10", {"learning_rate": 2e-4,
                                                            "auxiliary_weight": None,
                                                            "ema_decay": 0.999,
                                                            "d_steps_per_g_step": 1, "epochs": 10,
                                                            "tau_every_epochs": 3}),
    # an auxiliary classifier on the top scale's D (the lever that lifted 02), cpu settings
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac", {"learning_rate": 2e-4, "ema_decay": 0.999,
                                                      "auxiliary_weight": 1.0}),
    # ... with DiffAugment at every scale, in D's and G's updates: without it G fools the head
    # (0.96 of the fakes read as asked by the head, 0.20 by the judge). Measured: it breaks
    # the tree (0.00-0.21, Fréchet 86-449); augmenting D's update only did too (Fréchet 138-197)
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac_da", {"learning_rate": 2e-4,
                                                         "ema_decay": 0.999,
                                                         "auxiliary_weight": 1.0,
                                                         "diff_augment": DA}),
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_ct", {**AC3, "diff_augment": CT}),
    # the class term's weight: the LSGAN terms of G sum to about 1, the cross-entropy to 1-2
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac03", {"learning_rate": 2e-4, "ema_decay": 0.999,
                                                        "auxiliary_weight": 0.3}),
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3", dict(AC3)),
    # batch 8 (the paper's 16 halved): twice the updates over the same images and epochs.
    # Unlike 02 (where batch 32 lifted the AC run from 0.38 to 0.53-0.57) it lost: 0.24 / 0.24
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_b8", {**AC3, "batch_size": 8}),
    # ... and G on every step (as lr2e-4_ema_1to1_e10): 5x the G updates, same time.
    # Measured: 0.21 / 0.24, Fréchet 306-381: the tree needs D ahead of it
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_1to1_e10", {**AC3, "d_steps_per_g_step": 1,
                                                                "epochs": 10,
                                                                "tau_every_epochs": 3}),
    # G at twice D's rate (the lever that lifted 02's AC run from about 0.55 to 0.63).
    # Measured: 0.32 / 0.28, 5 findings at 0, Fréchet 82-85: no gain for the tree
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_glr4", {**AC3, "learning_rate": 4e-4,
                                                            "d_learning_rate": 2e-4}),
    # class-balanced sampling: the head sees the rare findings (Pneumonia 24 training
    # images, Cardiomegaly 56) as often as Infiltration (380). Measured: 0.17 / 0.17, the
    # same four findings at 0, D ahead from epoch 2 (d_loss 0.2): no gain
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_bal", {**AC3, "balance": True}),
    # the head's weight ramped up from 0.3 to 3 over the first 10 epochs: the chest first.
    # Seed 42: 0.38 / 0.41 (against 0.36 / 0.30), Fréchet 58-60 (against 71-75), the same
    # four findings at 0; the Pneumonia row a grey square with a faint mediastinum. Seed 43
    # (rows *_s43): 0.21 / 0.22 against 0.30 / 0.26, five at 0. Not a gain: not in the notebook
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_ramp10", {**AC3,
                                                              "auxiliary_ramp_epochs": 10}),
    # the same two on a second seed (another phantom draw, data order, noise, initial weights)
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_s43", {**AC3, "seed": 43}),
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_ramp10_s43", {**AC3, "seed": 43,
                                                                  "auxiliary_ramp_epochs": 10}),
    # more data at the same number of steps: 02's 8,000 phantoms (about 2,600 single-finding
    # training images, Pneumonia 54 instead of 24) for 10 epochs instead of 4,000 for 20
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_n8000_e10", {**AC3, "train_images": 8000,
                                                                 "epochs": 10,
                                                                 "tau_every_epochs": 3}),
    # twice the widths of G and D (4x the convolutions' FLOPs): the head reads the fakes as
    # their labels (0.99 in ac3) while the judge reads 0.30-0.36: a width-8 D is easy to fool
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_w16", {**AC3, "generator_width": 16,
                                                           "discriminator_width": 16}),
    # a class head on every scale (16, 32 and 64 px), the cross-entropy averaged over the
    # three: a global finding (a wide heart, a basal effusion) must read at 16 px too
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_heads3", {**AC3,
                                                              "auxiliary_scales": "all"}),
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_heads3_s43", {**AC3, "seed": 43,
                                                                  "auxiliary_scales": "all"}),
    # G's class term on the head's logits minus the log of each finding's share of the
    # training images (logit adjustment): the rare Pneumonia (24 images) is drawn as a grey
    # square that the head, and the judge, read as Pneumonia
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_heads3_adj", {**AC3,
                                                                  "auxiliary_scales": "all",
                                                                  "auxiliary_adjust": True}),
    # the judge reads most misses of these rows as Mass or Effusion (the confusion in the
    # JSON): blurred chests, not another finding drawn. Two ways to give G more say:
    # G on every 3rd step (1:3; 1:1 broke the tree) and D at half G's rate
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_d3", {**AC3, "d_steps_per_g_step": 3}),
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_dlr1", {**AC3, "d_learning_rate": 1e-4}),
    # class-conditional feature matching: G's term adds the gap between its fakes' and the
    # real batch's per-finding mean features of the headed scale(s), relative to the reals'
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_fm1", {**AC3, "feature_matching": 1.0}),
    ("03_multiscale_attention_gan", "lr2e-4_ema_ac3_heads3_fm1", {**AC3,
                                                                  "auxiliary_scales": "all",
                                                                  "feature_matching": 1.0}),
    # measured once and dropped: K+1 classes (the head also sorts fakes into a "fake" class,
    # Salimans et al. 2016) gave 0.21/0.19 at weight 1 and 0.19/0.23 at 3 (G/EMA), Fréchet 45-56
)  # fmt: skip

# 02's rows were measured on the cpu recipe before batch 32 and G's faster rate: a row keeps
# those settings unless it sets its own, so that re-running it trains what its name says
# (the profile's current recipe is the row proj_ct_ema_ac_b32_glr4)
_02_BEFORE_B32 = {"batch_size": 64, "learning_rate": 2e-4, "d_learning_rate": None}
RECIPES: tuple[tuple[str, str, dict], ...] = tuple(
    (
        assignment,
        row,
        {**_02_BEFORE_B32, **overrides} if assignment == "02_conditional_gan" else overrides,
    )
    for assignment, row, overrides in _ROWS
)

# keys a row may set that are not fields of the notebook's config (the trainer reads them)
EXTRA_KEYS = {
    "01_dcgan": (),
    "02_conditional_gan": ("balance", "spectral_norm", "auxiliary_adjust"),
    "03_multiscale_attention_gan": (
        "balance",
        "ema_decay",
        "diff_augment",
        "d_learning_rate",
        "auxiliary_ramp_epochs",
        "auxiliary_scales",
        "auxiliary_adjust",
        "feature_matching",
    ),
}
_NOT_KNOBS = {"assignment", "profile"}
# the table's columns; the acc_<finding> columns go after the first 11
_COLUMNS = (
    "assignment", "run", "sampler", "discriminator", "diff_augment", "ema_decay", "lr_g",
    "lr_d", "steps", "train_seconds", "s_per_step", "acc_mean", "findings_at_0",
    "frechet_n512", "diversity", "balance", "batch_size",
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
    stored_extras = {k: v for k, v in stored.get("overrides", {}).items() if k not in fields}
    same = (
        stored.get("config") == _jsonable(cfg.as_dict())
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
        f"{'row':44s} {'smp':4s} {'acc':>6s} {'at0':>4s} {'frechet':>8s} {'div':>6s} {'s/step':>7s}"
    )
    for line in lines:
        print(
            f"{line['assignment'] + ':' + line['run']:44s} {line['sampler']:4s} "
            f"{line['acc_mean']!s:>6s} {line['findings_at_0']!s:>4s} "
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
