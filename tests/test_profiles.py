"""Run profiles: names, selection rules, knobs, and that CI can only run smoke."""

from __future__ import annotations

import dataclasses
import os
import subprocess

import pytest

from medganlab import profiles
from medganlab.profiles import PROFILES, active_profile, profile_for

# Knobs where a bigger number means a cheaper run.
INVERSE_KNOBS = {"ct_slice_thickness_mm"}
# not sizes: a learning rate, and how many D updates a G update gets, are sized to the step
# budget (issue 18): higher rates and more G updates for a short run
RATE_KNOBS = {"learning_rate", "d_learning_rate", "d_steps_per_g_step"}
# passes over the data: 03's cpu run makes 40 over ~1,300 images where the paper makes 20 over
# ~32,000, so its step budget (epochs x images) grows instead; its tau schedule stretches
# with the epochs, so the tau it reaches grows instead
EPOCH_KNOBS = {"epochs", "tau_every_epochs"}


def _final_tau(cfg) -> float:
    return min(1.0, cfg.tau_step * ((cfg.epochs - 1) // cfg.tau_every_epochs))


def test_wrong_profile_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as info:
        active_profile({"MEDGANLAB_PROFILE": "fast"})
    message = str(info.value)
    assert "'fast'" in message and all(name in message for name in PROFILES)


@pytest.mark.parametrize(
    ("environ", "gpu", "expected"),
    [
        ({}, False, "cpu"),
        ({}, True, "gpu"),
        ({"CI": "true"}, True, "smoke"),
        ({"NBGRADER_EXECUTION": "autograde"}, True, "smoke"),
        ({"MEDGANLAB_PROFILE": "GPU "}, False, "gpu"),
        ({"MEDGANLAB_PROFILE": "cpu", "CI": "1"}, False, "cpu"),
    ],
)
def test_active_profile_rules(environ, gpu, expected):
    assert active_profile(environ, gpu=gpu) == expected


def test_every_assignment_folder_has_a_profile(repo):
    folders = {p.name for p in (repo / "solutions").iterdir() if p.is_dir()}
    assert folders, "no assignments found under solutions/"
    assert folders <= set(profiles.ASSIGNMENTS), (
        f"no profile for {folders - set(profiles.ASSIGNMENTS)}"
    )


@pytest.mark.parametrize("assignment", profiles.ASSIGNMENTS)
def test_profiles_grow_from_smoke_to_gpu(assignment):
    smoke, cpu, gpu = (profile_for(assignment, name) for name in PROFILES)
    for knob in dataclasses.fields(smoke):
        values = [getattr(cfg, knob.name) for cfg in (smoke, cpu, gpu)]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            continue
        if knob.name in RATE_KNOBS:
            continue
        if knob.name == "epochs" and hasattr(smoke, "train_images"):
            values = [cfg.epochs * cfg.train_images for cfg in (smoke, cpu, gpu)]
        elif knob.name == "tau_every_epochs":
            values = [_final_tau(cfg) for cfg in (smoke, cpu, gpu)]
        if knob.name in INVERSE_KNOBS:
            values = [-v for v in values]
        assert values == sorted(values), f"{assignment}.{knob.name} does not grow: {values}"


def test_config_is_frozen_and_names_its_profile(smoke_env):
    cfg = profile_for("00_setup_and_data")
    assert cfg.profile == "smoke" and cfg.assignment == "00_setup_and_data"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.cxr_size = 1024  # type: ignore[misc]
    assert cfg.replace(cxr_size=32).cxr_size == 32


def test_unknown_assignment_is_a_clear_error():
    with pytest.raises(ValueError, match="00_setup_and_data"):
        profile_for("00_setup")


def test_this_test_run_cannot_be_bigger_than_smoke():
    """`make test` (what CI runs) pins smoke; under CI, an unset profile is smoke too."""
    if os.environ.get("CI") or os.environ.get("MEDGANLAB_PROFILE"):
        assert active_profile() == "smoke", (
            f"tests are running the {active_profile()!r} profile; CI must run 'smoke'"
        )
    assert active_profile({"CI": "true"}, gpu=True) == "smoke"


def test_make_test_runs_the_smoke_profile(repo):
    plan = subprocess.run(
        ["make", "-n", "test-unit", "test-notebooks"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    runs = [line for line in plan.splitlines() if "pytest" in line]
    assert runs and all("MEDGANLAB_PROFILE=smoke" in line for line in runs), plan


def test_profile_overrides_are_what_the_profile_sets():
    cpu = profiles.profile_overrides("02_conditional_gan", "cpu")
    resolved = profile_for("02_conditional_gan", "cpu")
    assert cpu and all(getattr(resolved, k) == v for k, v in cpu.items())
    assert "num_classes" not in cpu  # a default no profile sets
    cpu["epochs"] = -1  # a copy: the table itself is untouched
    assert profile_for("02_conditional_gan", "cpu").epochs == resolved.epochs
    with pytest.raises(ValueError, match="unknown profile"):
        profiles.profile_overrides("02_conditional_gan", "laptop")


def test_gpu_keeps_the_papers_learning_rates():
    """The recipe may raise a rate for a short cpu run; the gpu profile trains as published."""
    assert profile_for("03_multiscale_attention_gan", "gpu").learning_rate == 2e-5  # SPEC §A
    assert profile_for("02_conditional_gan", "gpu").learning_rate == 2e-4  # DCGAN
    assert profile_for("02_conditional_gan", "gpu").d_learning_rate is None
    assert profile_for("02_conditional_gan", "gpu").batch_size == 64  # DCGAN's
    assert profile_for("01_dcgan", "gpu").learning_rate == 2e-4
    for name in ("01_dcgan", "03_multiscale_attention_gan"):  # one rate for both networks
        assert profile_for(name, "gpu").d_learning_rate is None, name


def test_d_trains_at_its_own_rate_or_at_gs():
    """The notebooks and the bench give D's Adam `cfg.discriminator_learning_rate`."""
    for name in ("01_dcgan", "02_conditional_gan", "03_multiscale_attention_gan"):
        paper = profile_for(name, "gpu")
        assert paper.discriminator_learning_rate == paper.learning_rate, name
        own = paper.replace(learning_rate=4e-4, d_learning_rate=1e-4)
        assert own.discriminator_learning_rate == 1e-4, name
        assert own.replace(d_learning_rate=0.0).discriminator_learning_rate == 0.0, "0 is a rate"
    cpu = profile_for("01_dcgan", "cpu")
    assert cpu.discriminator_learning_rate == cpu.d_learning_rate != cpu.learning_rate


def test_only_the_cpu_recipe_samples_the_findings_evenly():
    """Class-balanced batches are 02's cpu lever; gpu (and smoke, on gpu's code path) keep
    the data's own frequencies, as published."""
    assert profile_for("02_conditional_gan", "cpu").balance
    for profile in ("gpu", "smoke"):
        assert not profile_for("02_conditional_gan", profile).balance, profile


def test_gpu_trains_the_gans_as_published_without_recipe_levers():
    """DiffAugment, EMA and the auxiliary classifier are cpu-budget levers; gpu keeps the papers'."""
    for name in ("01_dcgan", "02_conditional_gan"):
        cfg = profile_for(name, "gpu")
        assert not cfg.diff_augment and cfg.ema_decay is None, f"{name}: expected no levers on gpu"
    gpu = profile_for("02_conditional_gan", "gpu")
    assert gpu.discriminator == "concat" and gpu.auxiliary_weight is None
    for profile in ("gpu", "smoke"):  # smoke runs gpu's code path at small sizes
        multiscale = profile_for("03_multiscale_attention_gan", profile)
        assert multiscale.auxiliary_weight is None, f"03 {profile}: expected the paper's losses"
        assert multiscale.projection is None, f"03 {profile}: expected the paper's heads"
        assert multiscale.ema_decay is None, f"03 {profile}: expected the trained G sampled"
    assert profile_for("02_conditional_gan", "cpu").discriminator == "concat", (
        "the main cpu run keeps the paper's concatenation; extensions go to the comparison run"
    )
