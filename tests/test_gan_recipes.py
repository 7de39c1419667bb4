"""The gan_recipes bench's table, row selection and reuse check (no training here)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from medganlab.bench import gan_recipes
from medganlab.bench.gan_recipes import RECIPES, reuse_status, select, split_overrides
from medganlab.profiles import profile_for


@pytest.mark.parametrize("profile", ["smoke", "cpu"])
def test_every_row_overrides_apply_to_its_profile(profile):
    for assignment, row, overrides in RECIPES:
        cfg, extras = split_overrides(assignment, profile, overrides)
        fields = {f.name for f in dataclasses.fields(cfg)}
        for key, value in overrides.items():
            got = getattr(cfg, key) if key in fields else extras[key]
            assert got == value, f"{assignment}:{row}: expected {key}={value!r}, got {got!r}"
        assert set(extras) <= set(gan_recipes.EXTRA_KEYS[assignment]), f"expected {row} extras"


def test_rows_are_the_measured_ones_and_differ_from_each_other():
    names = {(a, r) for a, r, _ in RECIPES}
    assert len(names) == len(RECIPES), "expected unique (assignment, row) names"
    assert ("02_conditional_gan", "proj_da_ema_b32") in names
    rows = {r: o for a, r, o in RECIPES if a == "02_conditional_gan"}
    cfg, _ = split_overrides("02_conditional_gan", "cpu", dict(rows["base"]))
    assert cfg.diff_augment == () and cfg.ema_decay is None, "expected 02 base without levers"
    proj, _ = split_overrides("02_conditional_gan", "cpu", {"discriminator": "projection"})
    assert proj.discriminator == "projection", "expected the override to reach the config"
    assert profile_for("02_conditional_gan", "cpu").discriminator == "concat"


def test_unknown_override_names_the_key_and_the_allowed_ones():
    with pytest.raises(ValueError, match="learning_rat") as err:
        split_overrides("01_dcgan", "cpu", {"learning_rat": 1e-3})
    assert "learning_rate" in str(err.value), "expected the allowed keys in the message"
    with pytest.raises(ValueError, match="balance"):  # 01 has no balanced sampling
        split_overrides("01_dcgan", "cpu", {"balance": True})
    split_overrides("03_multiscale_attention_gan", "cpu", {"ema_decay": 0.999, "balance": True})


def test_select_parses_rows_and_assignments():
    assert select(None) == list(RECIPES) and select("") == list(RECIPES)
    one = select("02_conditional_gan:proj_da_ema")
    assert [(a, r) for a, r, _ in one] == [("02_conditional_gan", "proj_da_ema")]
    ms = select("03_multiscale_attention_gan, 02_conditional_gan:base")
    rows_03 = [(a, r) for a, r, _ in RECIPES if a == "03_multiscale_attention_gan"]
    assert ("03_multiscale_attention_gan", "paper_lr") in rows_03 and len(rows_03) >= 2
    # an assignment selects all its rows, in table order; a row selects itself
    assert [(a, r) for a, r, _ in ms] == [*rows_03, ("02_conditional_gan", "base")]
    with pytest.raises(ValueError, match="no row '02_conditional_gan:nope'"):
        select("02_conditional_gan:nope")


def test_reuse_check_is_stale_when_version_config_extras_or_profile_differ():
    a = "03_multiscale_attention_gan"
    overrides = {"learning_rate": 2e-4, "diff_augment": ("color", "cutout"), "ema_decay": 0.999}
    cfg, _ = split_overrides(a, "cpu", overrides)
    stored = {
        "overrides": {"learning_rate": 2e-4, "diff_augment": ["color", "cutout"],
                      "ema_decay": 0.999},
        "config": json.loads(json.dumps(cfg.as_dict())),
        "profile": "cpu",
        "generator_version": 5,
    }  # fmt: skip
    assert reuse_status(stored, a, overrides, "cpu", 5) == "fresh"
    assert reuse_status(stored, a, overrides, "cpu", 6) == "stale"
    assert reuse_status(stored, a, {**overrides, "ema_decay": 0.99}, "cpu", 5) == "stale"  # field
    assert reuse_status(stored, a, {**overrides, "epochs": 3}, "cpu", 5) == "stale"  # field
    assert reuse_status(stored, a, overrides, "smoke", 5) == "stale"
    assert reuse_status(None, a, overrides, "cpu", 5) == "missing"
    # a field the row does not set but the profile changed since: the row is stale
    moved = {**stored, "config": {**stored["config"], "batch_size": cfg.batch_size * 2}}
    assert reuse_status(moved, a, overrides, "cpu", 5) == "stale"


def test_no_two_rows_train_the_same_run():
    """A row's name promises a distinct run: no two rows of an assignment resolve to the same
    configuration and extra keys in the cpu profile they were measured in (e.g. after the
    profile took over what a row measured). In smoke some do: its batch is already 8."""
    seen: dict = {}
    for assignment, row, overrides in RECIPES:
        cfg, extras = split_overrides(assignment, "cpu", overrides)
        key = (assignment, json.dumps([cfg.as_dict(), extras], sort_keys=True, default=str))
        assert key not in seen, f"{assignment}: rows {seen.get(key)} and {row} train the same run"
        seen[key] = row


def test_csv_lines_per_sampler_with_accuracy_columns():
    stored = {
        "assignment": "02_conditional_gan", "row": "x", "discriminator": "projection",
        "diff_augment": [], "ema_decay": 0.999, "lr_g": 2e-4, "lr_d": 2e-4, "steps": 2,
        "train_seconds": 1.0, "s_per_step": 0.5, "balance": False, "batch_size": 16,
        "G": {"accuracy": {"A": 0.0, "B": 0.5}, "mean": 0.25, "frechet": 3.0, "diversity": 0.9,
              "matched_mean": 0.125},
        "EMA": {"accuracy": {"A": 0.25, "B": 0.5}, "mean": 0.375, "frechet": 2.0,
                "diversity": 0.8},
    }  # fmt: skip
    lines = gan_recipes.csv_rows(stored)
    assert [line["sampler"] for line in lines] == ["G", "EMA"]
    assert lines[0]["findings_at_0"] == 1 and lines[1]["findings_at_0"] == 0
    assert lines[0]["diff_augment"] == "-" and lines[1]["acc_A"] == 0.25
    assert lines[0]["acc_matched"] == 0.125 and lines[1]["acc_matched"] == "", "older rows: blank"
    del stored["EMA"]
    assert len(gan_recipes.csv_rows(stored)) == 1, "expected no EMA line without an EMA"


def test_head_weight_schedules():
    """The bench's class-head weight: constant, ramped up, or falling to an end value."""
    from medganlab.bench._recipe_training import _head_weight

    assert _head_weight(3.0, {}, 20) == (3.0, [])

    def over_epochs(extras, epochs):
        weight, (callback,) = _head_weight(3.0, extras, epochs)
        seen = []
        for epoch in range(epochs):
            callback.on_epoch_begin(epoch)
            seen.append(round(float(weight.numpy()), 6))
        return seen

    assert over_epochs({"auxiliary_ramp_epochs": 3}, 5) == [1.0, 2.0, 3.0, 3.0, 3.0]
    assert over_epochs({"auxiliary_weight_end": 0.3}, 4) == [3.0, 2.1, 1.2, 0.3]


def test_class_prior_is_each_findings_share():
    from medganlab.bench._recipe_training import _class_prior
    from medganlab.data.vocabulary import FINDINGS

    index = [{"labels": [FINDINGS[0]]}] * 3 + [{"labels": [FINDINGS[2]]}]
    prior = _class_prior(index)
    assert prior.shape == (len(FINDINGS),) and abs(prior.sum() - 1.0) < 1e-12
    assert prior[0] == pytest.approx(3 * prior[2])
    assert prior[1] == prior[2], "a finding without images counts as one (no log of 0)"
    assert prior[2] == pytest.approx(1 / (3 + 1 + len(FINDINGS) - 2))


def test_reuse_check_reads_a_field_added_after_the_row_was_stored():
    """A row stored before a field existed trained with what its overrides said (then an
    extra key of the trainer), else with the field's default: it stays fresh for exactly
    that value, and stale for another."""
    a = "03_multiscale_attention_gan"
    overrides = {"learning_rate": 2e-4, "projection": "all", "ema_decay": 0.999}
    cfg, _ = split_overrides(a, "cpu", overrides)
    old_config = {k: v for k, v in cfg.as_dict().items() if k not in ("projection", "ema_decay")}
    stored = {"overrides": dict(overrides), "config": json.loads(json.dumps(old_config)),
              "profile": "cpu", "generator_version": 6}  # fmt: skip
    assert reuse_status(stored, a, overrides, "cpu", 6) == "fresh"
    assert reuse_status(stored, a, {**overrides, "projection": "top"}, "cpu", 6) == "stale"
    # neither stored: the row trained with the defaults (no projection, no average)
    plain = {"learning_rate": 2e-4, "projection": None, "ema_decay": None}
    bare = {**stored, "overrides": {"learning_rate": 2e-4}}
    assert reuse_status(bare, a, plain, "cpu", 6) == "fresh"
    assert reuse_status(bare, a, overrides, "cpu", 6) == "stale"


def test_rows_measured_before_03_took_the_projection_keep_their_recipe():
    """03's rows keep the recipe they were measured with (20 epochs, tau every 5, the head at
    weight 3, no projection, no average, G every 5th step) unless they set their own."""
    rows = {r: o for a, r, o in RECIPES if a == "03_multiscale_attention_gan"}
    head, _ = split_overrides("03_multiscale_attention_gan", "cpu", rows["lr2e-4_ema_ac3"])
    assert (head.epochs, head.tau_every_epochs, head.projection) == (20, 5, None)
    assert head.auxiliary_weight == 3.0 and head.ema_decay == 0.999
    assert head.d_steps_per_g_step == 5
    assert (head.learning_rate, head.d_learning_rate) == (2e-4, None), "both at 2e-4 then"
    row = "lr2e-4_ema_proj_e40_k2"
    now, extras = split_overrides("03_multiscale_attention_gan", "cpu", rows[row])
    assert now == profile_for("03_multiscale_attention_gan", "cpu") and not extras, (
        f"expected the row {row} to be the cpu recipe"
    )


def test_rows_measured_before_02_balanced_keep_their_recipe():
    """02's rows from before the cpu profile sampled findings evenly keep the data's own
    frequencies; the _bal rows are the profile's two runs, and the trainer balances them."""
    from medganlab.bench._recipe_training import wants_balance

    a = "02_conditional_gan"
    rows = {r: o for b, r, o in RECIPES if b == a}
    cpu = profile_for(a, "cpu")
    old, extras = split_overrides(a, "cpu", rows["proj_ct_ema_ac_b32_glr4"])
    assert cpu.balance and not old.balance and not wants_balance(old, extras)
    comparison, extras = split_overrides(a, "cpu", rows["proj_ct_ema_ac_b32_glr4_bal"])
    assert comparison == cpu.replace(discriminator="projection"), (
        "expected the row proj_ct_ema_ac_b32_glr4_bal to be the cpu comparison run"
    )
    assert wants_balance(comparison, extras), "expected the trainer to balance the cpu recipe"
    main, _ = split_overrides(a, "cpu", rows["concat_ct_ema_b32_glr4_bal"])
    assert main == cpu.replace(auxiliary_weight=None), "expected the cpu main run (no head)"
    # 03 has no such field: its rows ask for balanced batches with an extra key
    tree, extras = split_overrides("03_multiscale_attention_gan", "cpu", {"balance": True})
    assert wants_balance(tree, extras) and not wants_balance(tree, {})


def test_01_rows_keep_dcgans_rates_unless_they_set_their_own():
    rows = {r: o for a, r, o in RECIPES if a == "01_dcgan"}
    base, _ = split_overrides("01_dcgan", "cpu", rows["base"])
    assert (base.learning_rate, base.d_learning_rate) == (2e-4, None), "DCGAN as published"
    twice, _ = split_overrides("01_dcgan", "cpu", rows["glr4"])
    assert (twice.learning_rate, twice.d_learning_rate) == (4e-4, 2e-4), "G at twice D's rate"
    now, _ = split_overrides("01_dcgan", "cpu", rows["glr4_dlr1"])
    assert now == profile_for("01_dcgan", "cpu"), "expected the row glr4_dlr1 to be the cpu recipe"
