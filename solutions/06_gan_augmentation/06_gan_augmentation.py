# %% [markdown]
# # Test whether GAN images of rare findings help a chest X-ray classifier
#
# Run the experiment the chest X-ray GAN paper announced but never ran: add images drawn by
# the generators of notebooks 02 and 03 to the training set of an imbalanced multi-label
# classifier, and measure per finding, with confidence intervals, whether the rare findings
# gain.
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({{ colab_url }})
# [![View the repository](https://img.shields.io/badge/GitHub-medganlab-blue?logo=github)]({{ repository_url }})

# %% [markdown]
# **What you'll do** (about 120 minutes)
#
# | Section | Teaching | Exercises |
# |---|---|---|
# | Load the NIH-prevalence set and split it by patient | 10 min | — |
# | Mix real and synthetic images | 5 min | 20 min |
# | Measure AUC per finding with patient-level intervals | 10 min | 25 min |
# | Load the generators and check what they saw | 10 min | — |
# | Train every arm on the same budget | 10 min | — |
# | Read the results | 10 min | — |
# | Written questions | — | 20 min |
#
# **What you'll learn**
#
# - how to run an augmentation experiment that can tell a gain from noise: one real-only test
#   set for every arm, the same classifier and the same number of optimiser steps;
# - how to mix real and synthetic examples at a chosen ratio per finding in `tf.data`, and
#   keep synthetic images out of validation and test;
# - AUC per finding with patient-level bootstrap intervals, and why a *paired* difference
#   against the baseline is the right way to compare two arms;
# - why GAN augmentation can hurt (mode collapse, images that do not show the finding they
#   are labelled with) and how "train on synthetic, test on real" reads a generator.
#
# **What you'll need**: notebooks 02 and 03 run to the end in the same profile (they export
# their generators, trained on the training patients only) or the course's reference
# artifacts; notebook 05 (ROC, AUC and the patient-level bootstrap). Runs in under a minute
# (`smoke`), about 13 minutes on two shared CPU cores (`cpu`: 6,000 images at 48 px, 9 arms
# of 500 steps; a rerun reloads the trained arms), or about 3–5 hours on a T4 (`gpu`: 112,120 images at 128 px, 11 arms x 3 seeds of
# 10,000 steps; an estimate, see *Train every arm on the same budget*).

# %% [markdown]
# ## Setup

# %%
import sys

if "google.colab" in sys.modules:
    # %pip install --quiet "medganlab @ git+{{ repository_url }}@{{ course_ref }}"
    pass

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import medganlab
from medganlab.data import catalog, cxr_phantom, cxr_splits, nih
from medganlab.evaluation import augmentation_plots as plots
from medganlab.evaluation import finding_auc as effects
from medganlab.evaluation import roc
from medganlab.evaluation.classifier import (
    build_finding_classifier,
    conditional_accuracy,
    reference_classifier,
)
from medganlab.evaluation.fdd import write_table
from medganlab.evaluation.finding_auc import finding_auc
from medganlab.paths import run_dir
from medganlab.plotting import show_images
from medganlab.report import show_metrics
from medganlab.training import gan_augmentation as aug
from medganlab.training import mean_pairwise_distance
from medganlab.training.runs import count_flops, plot_loss_grid

info = medganlab.setup()

# %% [markdown]
# ## Configuration
#
# The course's decisions, each a knob of `cfg` (change one with `cfg = cfg.replace(...)`):
#
# - **Minority findings** `cfg.minority`: the four rarest of ChestX-ray14 (Pneumonia 1.3 %,
#   Cardiomegaly 2.5 %, Pneumothorax 4.7 %, Mass 5.2 % of the images). Only they get
#   synthetic images.
# - **Ratio** `cfg.ratios`: synthetic images of a minority finding per real training image
#   that has it. Ratio 1 doubles the positives of that finding; the table has one arm per
#   ratio and generator.
# - **Arms**: (a) baseline, real images only; (b) class weights; (c) geometric augmentation;
#   (d) + cDCGAN images and (e) + multi-scale GAN images of the minority findings, added to
#   the baseline's real stream (without geometric augmentation, so their difference from the
#   baseline is the generator's alone); (f) synthetic images only ("train on synthetic, test
#   on real"), one per generator.
# - **Same budget**: the same small CNN (`evaluation.classifier`), the same initial weights
#   for a seed, exactly `cfg.steps` optimiser steps of `cfg.batch_size` images in every arm.
#   An arm with synthetic images therefore sees fewer real images, not more steps.
# - **Split**: the course's patient-level split 70/10/20 (`cxr_splits`), shared with 02 and
#   03, whose generators saw training patients only. The test split is real, fixed, and the
#   same for every arm.
# - **Statistics**: AUC per finding on the test split, 95 % intervals from `cfg.bootstrap`
#   resamples of *patients*, gains as paired differences against the baseline; each arm is
#   trained once per seed in `cfg.seeds` (three in `gpu`) and its AUC averaged over seeds.

# %%
cfg = medganlab.profile_for("06_gan_augmentation")
cfg

# %% [markdown]
# ## Load the NIH-prevalence set and split it by patient
#
# Generate radiographs at ChestX-ray14's prevalence — imbalanced and multi-label — with the
# same generation seed as notebooks 02 and 03 (`cfg.seed`): the same *patients*, drawn with
# other findings. Split them with the course's shared function: a patient's part depends only
# on its id, so this split agrees with the one 02 and 03 trained on. (Set
# `MEDGANLAB_CXR_ROOT` to a real ChestX-ray14 folder and all three notebooks read it instead.)

# %%
FINDINGS = list(cxr_phantom.FINDINGS)
MINORITY = [FINDINGS.index(f) for f in cfg.minority]
root = catalog.cxr_dataset(n=cfg.images, size=cfg.data_size, seed=cfg.seed)
identity = cxr_splits.dataset_identity(root)
parts = cxr_splits.split_records(nih.load_index(root))
{name: len(records) for name, records in parts.items()}, identity["patient_namespace"]

# %% [markdown]
# No patient may sit in two parts: the images of one patient are alike, and a classifier
# that met a test patient in training would look better than it is.

# %%
patients = {name: set(aug.patients_of(records)) for name, records in parts.items()}
overlap = {(a, b): len(patients[a] & patients[b]) for a in patients for b in patients if a < b}
train_labels, test_labels = aug.labels_of(parts["train"]), aug.labels_of(parts["test"])
test_patients = aug.patients_of(parts["test"])
overlap

# %%
x, width = np.arange(len(FINDINGS)), 0.27
fig, ax = plt.subplots(figsize=(8, 3))
for i, (name, records) in enumerate(parts.items()):
    ax.bar(x + (i - 1) * width, aug.labels_of(records).mean(axis=0), width,
           label=f"{name}: {len(records)} images, {len(patients[name])} patients")
ax.set_xticks(x, FINDINGS, rotation=40, ha="right")
ax.set_ylabel("share of images")
ax.set_title("Prevalence per finding and split (NIH ChestX-ray14 proportions)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Each split becomes a `tf.data` stream of single `(image, label)` examples: the image in
# [-1, 1], the label the multi-hot vector over the eight findings. Training repeats forever
# (every arm takes exactly `cfg.steps` batches); validation and test are read once, in order.

# %%
real = aug.real_splits(parts, cfg.image_size, seed=cfg.seed)
image, label = next(iter(real["train"]))
image.shape, image.dtype, label.numpy()

# %% [markdown]
# ## Mix real and synthetic images
#
# An arm with synthetic images draws its training batches from several streams: the real
# training stream of `(image, label)` examples, and per minority finding an endless stream
# of synthetic *images* (no label yet) — drawn by the generators of 02 and 03, which you load
# after the next section. Write the mixing first and test it on tiny made-up streams.
# `tf.data.Dataset.sample_from_datasets(streams, weights=..., seed=...)` picks each next
# example from stream *i* with probability proportional to `weights[i]`; the streams must
# yield the same structure, so give each synthetic image its label with `.map`.
#
# Choose the weights so that the **ratio** `r_k` holds for each finding: if `n` real
# training images are drawn, about `r_k · n_k / n` times as many synthetic images of finding
# *k* should come with them, where `n_k` real training images have finding *k*. So weight the
# real stream by `n` and the stream of finding *k* by `r_k · n_k`. A synthetic image of
# finding *k* shows that finding only (the generator was asked for it): its label is the
# one-hot vector of *k*, float32 like the real labels.
#
# Only the training split gets synthetic images. Validation decides nothing here, but it
# shows the loss on real images; the test split decides everything: both stay real — return
# the very validation and test streams you were given.
#
# ### Exercise 1
#
# Implement `add_synthetic`. Raise `ValueError` for a ratio outside [0, 10] (say which range
# is allowed) and for a finding with a ratio above 0 but no synthetic stream.

# %% solution grade_id="add_synthetic"
def add_synthetic(splits, synthetic, ratios, train_labels, seed=0):
    """The real splits with synthetic images mixed into "train" only (see the text above).

    splits: {"train", "validation", "test"} -> streams of single (image, multi-hot label);
    synthetic: {k: stream of images of finding k}; ratios: {k: r_k in [0, 10]};
    train_labels: (n, K) labels of the real training images. Returns a dict like splits.
    """
    ### BEGIN SOLUTION
    labels = np.asarray(train_labels, "float32")
    counts = labels.sum(axis=0)
    streams, weights = [splits["train"]], [float(len(labels))]
    for k, ratio in sorted(ratios.items()):
        if not 0 <= ratio <= 10:
            raise ValueError(f"ratio of finding {k}: expected a value in [0, 10], got {ratio}")
        if ratio == 0:
            continue
        if k not in synthetic:
            raise ValueError(f"finding {k} has ratio {ratio} but no synthetic stream")
        one_hot = tf.one_hot(k, labels.shape[1], dtype="float32")
        streams.append(synthetic[k].map(lambda image, y=one_hot: (image, y)))
        weights.append(float(ratio * counts[k]))
    train = tf.data.Dataset.sample_from_datasets(streams, weights=weights, seed=seed)
    return {**splits, "train": train}
    ### END SOLUTION

# %% tests grade_id="test_add_synthetic" points=3
"""Synthetic images join training at the asked ratio per finding, labelled one-hot."""
toy_splits, toy_synthetic, toy_labels = aug.toy_streams(positives=(40, 10, 0), n=200)  # pixels: 0 real, k + 1 synthetic of finding k
out = add_synthetic(toy_splits, toy_synthetic, {1: 2.0, 2: 0.0}, toy_labels, seed=0)
images, labels = next(iter(out["train"].take(4000).batch(4000)))
source = images.numpy()[:, 0, 0, 0].round().astype(int)
share = np.mean(source == 2)
assert abs(share - 20 / 220) < 0.025, f"ratio 2 for finding 1 (10 real positives among 200 real images): expected about {20 / 220:.1%} synthetic images of finding 1 (weight n = 200 for the real stream, ratio x n_k = 20 for finding 1), got {share:.1%}"
assert not np.any(source == 3) and not np.any(source == 1), "findings with ratio 0, or without a ratio, get no synthetic image"
synthetic_labels = labels.numpy()[source == 2]
assert labels.dtype == tf.float32 and np.all(synthetic_labels == [0, 1, 0]), f"a synthetic image of finding 1 must have the one-hot label [0, 1, 0] (float32), got {synthetic_labels[:2].tolist()} ({labels.dtype})"
### BEGIN HIDDEN TESTS
out = add_synthetic(toy_splits, toy_synthetic, {0: 0.5, 1: 4.0}, toy_labels, seed=3)
source = next(iter(out["train"].take(4000).batch(4000)))[0].numpy()[:, 0, 0, 0].round().astype(int)
assert abs(np.mean(source == 1) - 20 / 260) < 0.025 and abs(np.mean(source == 2) - 40 / 260) < 0.03, \
    "with ratios 0.5 (40 positives) and 4 (10 positives) the synthetic shares should be 20/260 and 40/260"
again = add_synthetic(toy_splits, toy_synthetic, {0: 0.5, 1: 4.0}, toy_labels, seed=3)["train"]
first = next(iter(again.take(300).batch(300)))[0].numpy()[:, 0, 0, 0].round().astype(int)
assert np.array_equal(first, source[:300]), "the same seed must give the same stream"
### END HIDDEN TESTS

# %% tests grade_id="test_add_synthetic_bad_ratio" points=1
"""A ratio outside [0, 10] is refused with a ValueError that names the allowed range."""
toy_splits, toy_synthetic, toy_labels = aug.toy_streams()
for bad in (11.0, -0.5):
    try:
        add_synthetic(toy_splits, toy_synthetic, {1: bad}, toy_labels)
    except ValueError as error:
        assert "10" in str(error), f"say which ratios are allowed ([0, 10]) in the error, got: {error}"
    else:
        raise AssertionError(f"a ratio of {bad} must raise ValueError: expected a ratio in [0, 10]")
### BEGIN HIDDEN TESTS
add_synthetic(toy_splits, toy_synthetic, {1: 10.0, 2: 0.0}, toy_labels)  # the bounds are allowed
try:
    add_synthetic(toy_splits, {0: toy_synthetic[0]}, {1: 1.0}, toy_labels)
except ValueError:
    pass
else:
    raise AssertionError("a finding with a ratio above 0 but no synthetic stream must raise ValueError")
### END HIDDEN TESTS

# %% tests grade_id="test_add_synthetic_evaluation_real" points=2
"""Validation and test stay real-only and unchanged, whatever the ratios."""
toy_splits, toy_synthetic, toy_labels = aug.toy_streams(validation=30, test=50)
out = add_synthetic(toy_splits, toy_synthetic, {0: 3.0, 1: 10.0}, toy_labels, seed=1)
for split, size in (("validation", 30), ("test", 50)):
    kept = [x for x, _ in out[split].take(size + 20).as_numpy_iterator()]
    fakes = sum(float(x.max()) > 0 for x in kept)
    assert len(kept) == size and fakes == 0, f"the {split} split must stay real-only and unchanged ({size} real images): got {len(kept)} images, {fakes} synthetic"
assert out["validation"] is toy_splits["validation"] and out["test"] is toy_splits["test"], "return the validation and test streams you were given, untouched"

# %% [markdown]
# ## Measure AUC per finding with patient-level intervals
#
# Decide how to measure before you look at any result. The AUC of each finding is computed on
# the test split, one column of the multi-label scores at a time: `finding_auc(labels,
# scores)` (given) returns one AUC per finding, NaN for a finding without positive or
# without negative images; for scores of shape `(seeds, n, K)` it averages the seeds' AUCs.
#
# Its uncertainty comes from the bootstrap of notebook 05, resampling **patients**: draw as
# many patients as there are, with replacement, take all their images (twice for a patient
# drawn twice), compute the AUC per finding; repeat `n_boot` times with `np.random.default_rng(seed)`. The 95 % interval is the
# 2.5th and 97.5th percentile of the replicates per finding. A rare finding can lack
# positives in a resample: its replicate is NaN and must not count (`np.nanpercentile`).
# Index the *image* axis, the second-to-last (`np.take(scores, pick, axis=-2)`), so that
# scores with a seed axis work too.
#
# Is an arm better than the baseline? Two overlapping intervals do not answer it: both arms
# are scored on the same test images, and much of each interval is the luck of which
# patients the test split holds — luck the two arms share. Resample the **same** patients
# for both (the same seed) and take the interval of the differences: a *paired* interval,
# narrower and honest.
#
# ### Exercise 2
#
# Implement `bootstrap_finding_auc` and `paired_auc_difference`. Return dicts of NumPy
# arrays: per finding the AUC on all images (`auc`) or the arm-minus-baseline difference on
# all images (`difference`), the bounds `low` and `high`, and the `replicates`
# (`(n_boot, K)`) — the table below aggregates them (macro and weighted means).

# %% solution grade_id="finding_auc_ci"
def bootstrap_finding_auc(labels, scores, patients, n_boot=1000, seed=0, level=0.95):
    """AUC per finding with a patient-level percentile bootstrap interval.

    Args:
        labels: (n, K) multi-hot test labels.
        scores: (n, K) scores, or (seeds, n, K).
        patients: (n,) patient id of each image.

    Returns:
        {"auc": (K,), "low": (K,), "high": (K,), "replicates": (n_boot, K)}.
    """
    ### BEGIN SOLUTION
    labels, scores = np.asarray(labels), np.asarray(scores)
    _, patient_index = np.unique(np.asarray(patients).astype(str), return_inverse=True)
    members = [np.flatnonzero(patient_index == p) for p in range(patient_index.max() + 1)]
    rng = np.random.default_rng(seed)
    replicates = np.empty((n_boot, labels.shape[1]))
    for b in range(n_boot):
        pick = np.concatenate([members[p] for p in rng.integers(0, len(members), len(members))])
        replicates[b] = finding_auc(labels[pick], np.take(scores, pick, axis=-2))
    tail = 100 * (1 - level) / 2
    low, high = np.nanpercentile(replicates, [tail, 100 - tail], axis=0)
    return {"auc": finding_auc(labels, scores), "low": low, "high": high, "replicates": replicates}
    ### END SOLUTION

# %% solution grade_id="paired_difference"
def paired_auc_difference(labels, scores, baseline_scores, patients, n_boot=1000, seed=0,
                          level=0.95):
    """AUC(arm) - AUC(baseline) per finding, its interval from the same patient resamples.

    Returns:
        {"difference": (K,), "low": (K,), "high": (K,), "replicates": (n_boot, K)}.
    """
    ### BEGIN SOLUTION
    arm = bootstrap_finding_auc(labels, scores, patients, n_boot, seed, level)
    base = bootstrap_finding_auc(labels, baseline_scores, patients, n_boot, seed, level)
    replicates = arm["replicates"] - base["replicates"]
    tail = 100 * (1 - level) / 2
    low, high = np.nanpercentile(replicates, [tail, 100 - tail], axis=0)
    return {"difference": arm["auc"] - base["auc"], "low": low, "high": high,
            "replicates": replicates}
    ### END SOLUTION

# %% [markdown]
# Try both on the baseline's kind of data before training anything: random scores for the
# real test labels (chance, AUC about 0.5) and scores that know the answer a little.

# %%
rng = np.random.default_rng(0)
noise = rng.normal(size=test_labels.shape)
demo = bootstrap_finding_auc(test_labels, noise + 1.0 * test_labels, test_patients, n_boot=200)
chance = paired_auc_difference(test_labels, noise + 1.0 * test_labels, noise, test_patients, n_boot=200)
{f: f"AUC {a:.2f} [{lo:.2f}, {hi:.2f}], gain over chance {d:+.2f} [{dl:+.2f}, {dh:+.2f}]"
 for f, a, lo, hi, d, dl, dh in zip(FINDINGS, demo["auc"], demo["low"], demo["high"],
                                     chance["difference"], chance["low"], chance["high"])}

# %% tests grade_id="test_finding_auc_ci" points=3
"""AUC per finding on all images, a 95 % percentile interval from resampling patients, NaN replicates ignored."""
rng = np.random.default_rng(0)
pid = np.repeat(np.arange(20), 10)  # 20 patients, 10 alike images each
toy_y = np.stack([np.repeat(rng.permutation([0] * 10 + [1] * 10), 10),  # finding 0: 10 positive patients
                  np.repeat((np.arange(20) < 2).astype(int), 10)], axis=1).astype("float32")  # finding 1: 2
toy_s = np.repeat(rng.normal(size=(20, 2)), 10, axis=0) + 0.8 * toy_y
got = bootstrap_finding_auc(toy_y, toy_s, pid, n_boot=1000, seed=1)
assert set(got) >= {"auc", "low", "high", "replicates"}, f"return auc, low, high and replicates, got {sorted(got)}"
assert np.shape(got["replicates"]) == (1000, 2) and np.shape(got["low"]) == (2,), f"expected replicates (n_boot, K) = (1000, 2) and bounds (K,) = (2,), got {np.shape(got['replicates'])} and {np.shape(got['low'])}"
assert np.allclose(got["auc"], finding_auc(toy_y, toy_s)), f"auc must be the AUC on all images, {finding_auc(toy_y, toy_s)}, got {got['auc']}"
assert np.all(np.isfinite(got["low"])) and np.all(np.isfinite(got["high"])), f"bounds must be finite: a resample without positives has no AUC (NaN), leave it out (np.nanpercentile); got low {got['low']}, high {got['high']}"
want = np.nanpercentile(got["replicates"], [2.5, 97.5], axis=0)
assert np.allclose([got["low"], got["high"]], want), f"a 95 % interval: the 2.5th and 97.5th percentiles of the replicates, {want.round(3).tolist()}, got {[np.round(got['low'], 3).tolist(), np.round(got['high'], 3).tolist()]}"
fast = lambda y, s: finding_auc(y[:, None], s[:, None])[0]  # noqa: E731 (the given AUC, fast)
ref = roc.bootstrap_auc(toy_y[:, 0], toy_s[:, 0], pid, fast, n_boot=2000, seed=2)  # 05's, patient-level
width, ref_width = got["high"][0] - got["low"][0], ref["high"] - ref["low"]
assert width > 0.92 * ref_width, f"resample patients with replacement (all images of a patient together; a patient drawn twice counts twice), not images: your interval is {width:.3f} wide, a patient-level one about {ref_width:.3f}"
### BEGIN HIDDEN TESTS
flat = np.arange(300) // 3
y = (rng.random(300) < 0.3).astype("float32")[:, None]
s = rng.normal(size=(300, 1)) + y
mine, ref, narrow = (bootstrap_finding_auc(y, s, flat, n_boot=2000, seed=5), roc.bootstrap_auc(y[:, 0], s[:, 0], flat, fast, n_boot=2000, seed=6), bootstrap_finding_auc(y, s, flat, n_boot=500, seed=5, level=0.5))
assert abs(mine["low"][0] - ref["low"]) < 0.025 and abs(mine["high"][0] - ref["high"]) < 0.025, "the interval disagrees with an independent patient-level bootstrap"
assert narrow["high"][0] - narrow["low"][0] < 0.6 * (mine["high"][0] - mine["low"][0]), "use the level argument"
### END HIDDEN TESTS

# %% tests grade_id="test_finding_auc_ci_seeds" points=1
"""Scores of several seeds, shape (seeds, n, K), are resampled along the image axis; a seed gives the same replicates."""
rng = np.random.default_rng(3)
pid = np.repeat(np.arange(12), 5)
toy_y = np.repeat(rng.permutation([0, 1] * 6), 5)[:, None].astype("float32")
toy_s = rng.normal(size=(60, 1)) + toy_y
flat = bootstrap_finding_auc(toy_y, toy_s, pid, n_boot=50, seed=1)
try:
    seeds = bootstrap_finding_auc(toy_y, np.stack([toy_s, toy_s]), pid, n_boot=50, seed=1)
except Exception as error:
    raise AssertionError(f"scores of shape (seeds, n, K) failed ({type(error).__name__}: {error}): resample along the image axis (np.take(scores, pick, axis=-2))") from None
assert np.allclose(seeds["replicates"], flat["replicates"], equal_nan=True), "two equal seeds' scores must give the replicates of one: resample along the image axis (axis=-2)"
### BEGIN HIDDEN TESTS
again = bootstrap_finding_auc(toy_y, toy_s, pid, n_boot=50, seed=1)
assert np.allclose(again["replicates"], flat["replicates"], equal_nan=True), "the same seed must give the same replicates"
### END HIDDEN TESTS

# %% tests grade_id="test_paired_difference" points=3
"""The gain is AUC(arm) − AUC(baseline), with the interval of differences over the same patient resamples."""
rng = np.random.default_rng(4)
pid = np.repeat(np.arange(30), 4)
toy_y = np.stack([np.repeat(rng.permutation([0, 1] * 15), 4), np.repeat(np.arange(30) < 3, 4)], 1).astype("float32")
toy_s = rng.normal(size=(120, 2)) + 0.7 * toy_y
same = paired_auc_difference(toy_y, toy_s, toy_s, pid, n_boot=200, seed=0)
assert np.allclose(np.nan_to_num(same["replicates"]), 0.0), "an arm equal to the baseline must differ by exactly 0 in every replicate: resample the same patients for both (the same seed): paired"
better = toy_s.copy()
better[:, 0] += 0.6 * toy_y[:, 0] * (pid % 2)  # the arm ranks half of the positive patients higher
gain = paired_auc_difference(toy_y, better, toy_s, pid, n_boot=400, seed=0)
want = finding_auc(toy_y, better) - finding_auc(toy_y, toy_s)
assert np.allclose(gain["difference"], want, equal_nan=True) and want[0] > 0, f"difference = AUC(arm) minus AUC(baseline) on all images = {want.round(4)}, got {np.round(gain['difference'], 4)}"
bounds = np.nanpercentile(gain["replicates"], [2.5, 97.5], axis=0)
assert np.allclose([gain["low"], gain["high"]], bounds), f"low and high: the 2.5th and 97.5th percentiles of the paired differences, {bounds.round(4).tolist()}, got {[np.round(gain['low'], 4).tolist(), np.round(gain['high'], 4).tolist()]}"
assert gain["low"][0] <= gain["difference"][0] <= gain["high"][0], "the difference must lie inside its interval"
### BEGIN HIDDEN TESTS
flip = paired_auc_difference(toy_y, toy_s, better, pid, n_boot=400, seed=0)
assert np.allclose(flip["difference"], -gain["difference"], equal_nan=True), "swapping arm and baseline must flip the sign"
three = paired_auc_difference(toy_y, np.stack([better, better]), np.stack([toy_s, toy_s]), pid, n_boot=400, seed=0)
assert np.allclose(three["difference"], gain["difference"], equal_nan=True), "scores with a seed axis must work"
### END HIDDEN TESTS

# %% [markdown]
# ## Load the generators and check what they saw
#
# Load the cDCGAN of notebook 02 and the multi-scale GAN of 03: your own exports if you ran
# them, else the course's reference artifacts. Each export records the data set it was
# trained on (the patient namespace: phantom seed, or a real folder's checksum) and the
# training patients. A generator trained on any of *this* test split's patients is refused:
# its images could carry those patients into training, and the test would no longer be
# clean. So are generators of another class list, or that draw images smaller than the
# classifier's input. Without any generator the notebook stops here and tells you to run 02
# and 03.

# %%
GENERATORS = {"cDCGAN": f"02_conditional_gan_{cfg.profile}",
              "multi-scale GAN": f"03_multiscale_attention_gan_{cfg.profile}"}
generators = aug.load_generators(GENERATORS, identity, test_patients, cfg.image_size, FINDINGS)
{label: (meta["source"], f"{meta['image_size']} px",
         f"{meta['training_data']['split']['images']} training images")
 for label, (_, meta) in generators.items()}

# %% [markdown]
# See the refusal happen: pretend that this experiment's test patients were the patients the
# first generator trained on.

# %%
first, (_, meta) = next(iter(generators.items()))
seen = meta["training_data"]["split"]["patients"]
try:
    aug.check_generator(meta, identity, seen, cfg.image_size, FINDINGS, name=first)
except ValueError as error:
    print("refused:", error)

# %% [markdown]
# Look at what the generators draw for the minority findings, next to real training images
# with that finding (one column per finding, two images each; a blank tile: fewer real
# images of that finding in this profile's training split). The `smoke` generators trained
# for a step or two: flat grey images are what an untrained generator draws, not a bug.

# %%
def real_examples(k, n=2):
    """The first n training images with finding k, as the classifier sees them (blank if fewer)."""
    found = aug.read_images([r for r, y in zip(parts["train"], train_labels) if y[k]][:n], cfg.image_size)
    return [*found, *np.full((n - len(found), cfg.image_size, cfg.image_size, 1), np.nan)]


grid = {"real": [img for k in MINORITY for img in real_examples(k)]}
for name, (sample, _) in generators.items():
    grid[name] = [img for k in MINORITY for img in sample(k, 2, seed=cfg.seed)]

# %%
images = [img for row in grid.values() for img in row]
titles = [f"{name[:10]}: {FINDINGS[k][:8]}" for name in grid for k in MINORITY for _ in range(2)]
show_images(images, titles=titles, ncols=2 * len(MINORITY), size=1.6, vmin=-1, vmax=1)
plt.show()

# %% [markdown]
# Looking is not measuring. Notebook 02's measure of *label faithfulness*: ask each
# generator for every finding and count how often the course's reference classifier (the
# same judge as in 02, trained on separate single-finding phantoms) recognises the finding
# asked for. Chance is 1/8. A generator whose "Pneumonia" images are not recognisably
# pneumonia adds mislabelled training images.

# %%
cfg02 = medganlab.profile_for("02_conditional_gan", cfg.profile)
judge, judge_info = reference_classifier(cfg02.image_size, n_images=cfg02.classifier_images,
                                         epochs=cfg02.classifier_epochs)
accuracy = {name: conditional_accuracy(lambda k, n, s=sample: s(k, n, seed=cfg.seed), judge,
                                       len(FINDINGS), per_class=cfg.eval_per_finding)
            for name, (sample, _) in generators.items()}

# %%
readable = judge_info["held_out_accuracy"] >= 0.5  # a judge near chance cannot judge
x = np.arange(len(FINDINGS))
fig, ax = plt.subplots(figsize=(8, 3))
for i, (name, values) in enumerate(accuracy.items()):
    ax.bar(x + (i - 0.5) * 0.4, values, 0.4, label=name, alpha=1.0 if readable else 0.35)
ax.axhline(1 / len(FINDINGS), ls="--", c="k", lw=0.8)
ax.set_xticks(x, FINDINGS, rotation=40, ha="right")
ax.set_ylabel("share recognised as asked")
ax.set_title(f"Label faithfulness (judge right on {judge_info['held_out_accuracy']:.0%} of "
             f"held-out images{'' if readable else ': too weak to judge, do not read'})",
             fontsize=10)
ax.legend()
plt.show()

# %% [markdown]
# Draw the synthetic images once: for every minority finding as many as the largest ratio
# needs, and `cfg.tstr_per_finding` of every finding for the synthetic-only arms. They are
# area-resized to the classifier's input and rounded to 8 bits like the real PNGs, so the
# classifier cannot tell them apart by their grey levels.

# %%
train_counts = train_labels.sum(axis=0).astype(int)
need = {k: max(cfg.tstr_per_finding, int(np.ceil(max(cfg.ratios) * train_counts[k])))
        if k in MINORITY else cfg.tstr_per_finding for k in range(len(FINDINGS))}
pools = {name: aug.synthetic_pools(sample, need, cfg.image_size, seed=cfg.seed)
         for name, (sample, _) in generators.items()}
synthetic = {name: aug.synthetic_streams(pool, seed=cfg.seed) for name, pool in pools.items()}
dict(zip(FINDINGS, train_counts)), need

# %% [markdown]
# A generator that collapsed onto a few modes draws near-copies. Compare the spread of each
# pool with the spread of real training images of the same finding: the root-mean-square
# difference between two images, per pixel (0 means identical images).

# %%
def spread(images):
    """RMS difference per pixel between two images of a set (up to 64 images; NaN if < 2)."""
    images = [i for i in np.asarray(images, np.float32) if np.isfinite(i).all()][:64]
    return mean_pairwise_distance(np.stack(images)) / cfg.image_size if len(images) > 1 else np.nan


diversity = {FINDINGS[k]: {"real": spread(real_examples(k, 64)),
                           **{name: spread(pool[k] / 127.5 - 1) for name, pool in pools.items()}}
             for k in MINORITY}
{f: {name: round(float(v), 3) for name, v in row.items()} for f, row in diversity.items()}

# %% [markdown]
# Try your `add_synthetic` on the first generator's streams at the largest ratio and look at
# one batch. Which images are synthetic? The expected share is printed below the grid.

# %%
name = next(iter(synthetic))
mixed = add_synthetic(real, synthetic[name], {k: max(cfg.ratios) for k in MINORITY}, train_labels)
batch_images, batch_labels = next(iter(mixed["train"].batch(16)))
tags = [", ".join(FINDINGS[k][:6] for k in np.flatnonzero(y)) or "normal" for y in batch_labels.numpy()]
show_images(list(batch_images.numpy()), titles=tags, ncols=8, size=1.5, vmin=-1, vmax=1)
plt.show()
extra = max(cfg.ratios) * train_counts[MINORITY].sum()
print(f"expected share of synthetic images: {extra / (len(train_labels) + extra):.1%}")

# %% [markdown]
# ## Train every arm on the same budget
#
# Every arm trains the same classifier — `build_finding_classifier`: convolution blocks that
# halve the side down to 4 pixels, global average pooling and one logit per finding, trained
# with binary cross-entropy — from the same initial weights for a given seed, for exactly
# `cfg.steps` steps. Only the training stream differs (and, for class weights, the loss).

# %%
arms = aug.plan_arms(list(generators), cfg.ratios)
pos_weight = aug.positive_weights(train_labels, cfg.class_weight_cap)
[arm.name for arm in arms], dict(zip(FINDINGS, pos_weight.round(1)))

# %%
def training_stream(arm, seed):
    """The training examples of one arm; validation and test are always the real splits."""
    if arm.kind == "gan":
        ratios = {k: arm.ratio for k in MINORITY}
        return add_synthetic(real, synthetic[arm.generator], ratios, train_labels, seed=seed)["train"]
    if arm.kind == "geometric":
        return aug.geometric(real["train"], cfg.rotation_degrees, cfg.shift, cfg.zoom, seed=seed)
    if arm.kind == "synthetic only":
        return aug.synthetic_only(pools[arm.generator], len(FINDINGS), seed=seed)
    return real["train"]

# %%
model = build_finding_classifier(cfg.image_size, len(FINDINGS), cfg.classifier_width)
print(f"{model.count_params():,} parameters, {count_flops(model) / 1e6:.1f} MFLOP per image")
run = run_dir("06_gan_augmentation", cfg.profile)
fit = dict(image_size=cfg.image_size, width=cfg.classifier_width, steps=cfg.steps,
           evaluations=cfg.evaluations, batch_size=cfg.batch_size,
           learning_rate=cfg.learning_rate, run_eagerly=cfg.run_eagerly)

# %% [markdown]
# Train (a finished arm is reloaded from its folder when you run the cell again, so an
# interrupted run resumes). Each arm's scores are the logits of the test images, one array
# per seed.

# %%
scores, histories, seconds = {}, {}, 0.0
for arm in arms:
    per_seed = []
    for seed in cfg.seeds:
        created = generators[arm.generator][1].get("created_at") if arm.generator else None
        folder = aug.arm_folder(run, arm, seed, {**fit, "data": identity["folder"],
                                                 "arm": arm, "generator": created})
        model, record = aug.train_arm(
            training_stream(arm, seed), real["validation"], folder, seed=seed,
            pos_weight=pos_weight if arm.kind == "class weights" else None, **fit)
        per_seed.append(aug.predict_scores(model, real["test"]))
        histories[f"{arm.name} (seed {seed})"] = record["history"]
        seconds += record["seconds"]
    scores[arm.name] = np.stack(per_seed)
print(f"{len(arms)} arms x {len(cfg.seeds)} seed(s) trained in {seconds / 60:.1f} min")

# %%
fig = plot_loss_grid({k: v for k, v in histories.items() if k.endswith("(seed 0)")},
                     title="Loss per arm (validation: real images; class weights change the scale)")
plt.show()

# %% [markdown]
# **The full run** (`gpu`): 112,120 images at 128 px, a 32-wide classifier, 11 arms x 3
# seeds x 10,000 steps of 64 images. The next cell counts its FLOPs: about 3.4·10¹⁶. A T4
# sustains perhaps 4–8 TFLOP/s in mixed precision on a network this small (batch
# normalisation and the input pipeline are memory-bound): 1.2–2.4 hours of training. Add
# the phantoms — 1.5–3 hours to generate 112,120 images at 128 px on Colab's two cores (10
# images per second measured on two busy cores), once: they are cached — and the bootstrap
# (a few minutes): **about 3–5 hours on a T4** the first time, about 2 hours once the data
# exist. An estimate, not measured; a disconnected run resumes from its finished arms. (The
# loss curves' "epoch" is one of `cfg.evaluations` equal slices of the step budget.)

# %%
full = medganlab.profile_for("06_gan_augmentation", "gpu")
per_image = count_flops(build_finding_classifier(full.image_size, len(FINDINGS), full.classifier_width))
runs = len(aug.plan_arms(list(GENERATORS), full.ratios)) * len(full.seeds)
total = 3 * per_image * full.batch_size * full.steps * runs  # forward + backward
print(f"{per_image / 1e9:.2f} GFLOP per image forward; full run about {total:.2e} FLOP: "
      f"{total / 6e12 / 3600:.1f} h at 6 TFLOP/s")

# %% [markdown]
# ## Read the results
#
# Score every arm with your two functions: the AUC per finding with its interval, and the
# paired gain over the baseline. The package turns their replicates into the macro mean, the
# prevalence-weighted mean (weights: positives per finding in the test split) and the mean
# over the minority findings, each with its interval.

# %%
results = {}
for arm in arms:
    results[arm.name] = {
        "auc": bootstrap_finding_auc(test_labels, scores[arm.name], test_patients, cfg.bootstrap, cfg.seed),
        "gain": paired_auc_difference(test_labels, scores[arm.name], scores["baseline"],
                                      test_patients, cfg.bootstrap, cfg.seed)}
rows = effects.effect_rows(arms, results, FINDINGS, cfg.minority, train_labels, test_labels,
                           cfg.profile, len(cfg.seeds))

# %%
print(f"{'AUC':<32}" + "".join(f"{f[:8]:>9}" for f in FINDINGS) + f"{'macro':>9}")
for arm in arms:
    values = [r["auc"] for r in rows if r["arm"] == arm.name][: len(FINDINGS) + 1]
    print(f"{arm.name:<32}" + "".join(f"{v:>9.3f}" for v in values))
print(f"{'test positives':<32}" + "".join(f"{int(v):>9d}" for v in test_labels.sum(axis=0)))

# %% [markdown]
# The gain per finding against how common the finding is in training. If GAN images help
# the rare findings, the orange points (the minority findings, the only ones with synthetic
# images) sit above zero with intervals that clear it, and more so at the left.

# %%
fig = plots.plot_gain_vs_prevalence(rows)
plt.show()

# %% [markdown]
# One number per arm: the gain of the macro AUC (every finding counts the same), of the
# prevalence-weighted AUC (common findings count more) and of the mean over the minority
# findings, each with its paired interval (GAN arms in orange).

# %%
fig = plots.plot_summary(rows)
plt.show()

# %% [markdown]
# The synthetic-only arms read the generators: a classifier that never saw a real image is
# tested on real ones. Above 0.5, a generator's images of a finding carry some of that
# finding's real sign; at 0.5 or below, they teach nothing about it — or the wrong thing.

# %%
fig = plots.plot_synthetic_only(rows, FINDINGS)
plt.show()

# %%
csv_path, _ = write_table(rows, f"06_gan_augmentation_{cfg.profile}", {
    "profile": cfg.profile, "data": identity, "minority": list(cfg.minority),
    "ratios": list(cfg.ratios), "seeds": list(cfg.seeds), "steps": cfg.steps,
    "bootstrap": cfg.bootstrap, "judge_accuracy": judge_info["held_out_accuracy"],
    "conditional_accuracy": {k: dict(zip(FINDINGS, v)) for k, v in accuracy.items()},
    "diversity": diversity,
    "generators": {k: {"source": m["source"], "created_at": m.get("created_at")}
                   for k, (_, m) in generators.items()}})
csv_path

# %%
show_metrics(f"06_gan_augmentation ({cfg.profile})", {
    **{f"macro AUC {r['arm']}": r["auc"] for r in rows if r["finding"] == "macro"},
    **{f"minority gain {r['arm']}": r["gain"] for r in rows
       if r["finding"] == "minority" and r["kind"] != "baseline"}})

# %% [markdown]
# What your run says, in words, computed from the table above:

# %%
print(effects.conclusion(rows, accuracy, judge_info["held_out_accuracy"]))

# %% [markdown]
# Read it against the other evidence in this notebook. A gain is evidence only if its
# interval clears zero — and with many comparisons a few will by chance. GAN augmentation
# cannot add what the generator does not draw: a generator that collapsed onto a few modes
# adds near-copies, and one whose images do not show the finding they are labelled with
# (low label faithfulness, synthetic-only AUC near 0.5) teaches the classifier wrong labels,
# which can *lower* the AUC of exactly the findings it was meant to help. The `smoke` profile
# trains every arm for one step: its numbers only prove that the code runs.

# %% [markdown] readonly grade_id="q_gains"
# ### Exercise 3 (written)
#
# (a) Which arms gain over the baseline, on which findings, beyond the noise (interval above
# zero)? How many such gains would you expect by chance among all the comparisons in your
# table? (b) Do the gains (or losses) depend on the training prevalence, as the paper's
# motivation suggests? Quote numbers with their intervals.

# %% [markdown] manual grade_id="gains" points=3
# === BEGIN MARK SCHEME ===
# (a) Names the arms/findings whose paired interval excludes 0 from their own table (or says
# none), with numbers (1); estimates the chance count: about 2.5 % of the per-finding
# comparisons for a gain (one-sided), e.g. 8 arms x 8 findings → about 1.6 (1). (b) Relates
# gains to prevalence with the figure: minority findings (only they got synthetic images)
# vs the others; says honestly when no pattern is visible or intervals are too wide (1).
# === END MARK SCHEME ===
#
# YOUR ANSWER HERE

# %% [markdown] readonly grade_id="q_harm"
# ### Exercise 4 (written)
#
# Explain two ways GAN augmentation can hurt a classifier, and for each say what in your
# run (label faithfulness, the synthetic-only arms, the sample grids, the per-finding gains)
# supports or rules it out. What would you change before you trusted a gain of 0.01 AUC?

# %% [markdown] manual grade_id="harm" points=4
# === BEGIN MARK SCHEME ===
# Two mechanisms, each with evidence from the run (1 each): mode collapse / low diversity
# (near-identical samples in the grid; the classifier overfits them); label-unfaithful
# samples (low conditional accuracy, synthetic-only AUC near 0.5: images labelled Pneumonia
# without its sign teach wrong labels); also acceptable: domain shift (synthetic texture a
# shortcut), fewer real images per step under a fixed budget, leakage if the GAN saw test
# patients. (1) for reading the evidence correctly (e.g. a near-chance judge makes the
# faithfulness chart unreadable). (1) for a sound change: more seeds / larger test set for
# narrower intervals, a pre-registered primary outcome or correction for multiple
# comparisons, better generators (check faithfulness first), filtering synthetic images with
# a classifier, tuning the ratio on the validation split only.
# === END MARK SCHEME ===
#
# YOUR ANSWER HERE

# %% [markdown]
# ## Key points
#
# - An augmentation experiment compares arms that differ in one thing: the same classifier,
#   initial weights, step budget and real-only test set; synthetic images join training only.
# - Mix streams with `sample_from_datasets`; weights set the ratio per class, and a
#   synthetic image's label is what the generator was asked for.
# - Report AUC per finding with patient-level bootstrap intervals; compare arms with *paired*
#   differences over the same resamples, and count how many "wins" chance alone would give.
# - Check the generator before using its images: which patients it saw (the test split must
#   be clean), whether its images show the finding they are labelled with, how varied they
#   are, and what a classifier trained on them alone achieves on real images.
#
# ## Further reading
#
# - Salehinejad et al. (2018). [Generalization of deep neural networks for chest pathology
#   classification in X-rays using generative adversarial networks](https://arxiv.org/abs/1712.01636).
# - Frid-Adar et al. (2018). [GAN-based synthetic medical image augmentation for increased
#   CNN performance in liver lesion classification](https://arxiv.org/abs/1803.01229).
# - Ravuri, Vinyals (2019). [Classification accuracy score for conditional generative
#   models](https://arxiv.org/abs/1905.10887) (train on synthetic, test on real).
# - Wang et al. (2017). [ChestX-ray8: hospital-scale chest X-ray database and
#   benchmarks](https://arxiv.org/abs/1705.02315).
