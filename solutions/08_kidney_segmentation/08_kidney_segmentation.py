# %% [markdown]
# # Segment kidneys and tumours in four augmentation scenarios
#
# Train a light U-Net, a heavy U-Net and a feature pyramid network to outline kidney and
# tumour on CT slices, each in four scenarios — no augmentation, geometric augmentation,
# notebook 07's synthetic slices, and both — and compare them by per-slice IoU as the KiTS
# augmentation paper did (Choe et al. 2023, Table 2), with intervals over test patients.
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({{ colab_url }})
# [![View the repository](https://img.shields.io/badge/GitHub-medganlab-blue?logo=github)]({{ repository_url }})

# %% [markdown]
# **What you'll do** (about 160 minutes)
#
# | Section | Teaching | Exercises |
# |---|---|---|
# | Load the slices and the synthetic set | 10 min | — |
# | Measure overlap per slice | 10 min | 25 min |
# | Augment slice and label map together | 10 min | 20 min |
# | Build the light U-Net | 10 min | 15 min |
# | Meet the heavy U-Net and the FPN | 5 min | — |
# | Train the twelve runs | 10 min | — |
# | Fill in Table 2 | 10 min | — |
# | Look at the predictions | 10 min | — |
# | Written questions | — | 25 min |
#
# **What you'll learn**
#
# - how to score a segmentation slice by slice: IoU and Dice per class, and why a slice with
#   nothing to find forces a decision (the empty-vs-empty case) that moves the mean a lot;
# - how to augment an image and its label map with one random transformation (bilinear for
#   the image, nearest-neighbour for the labels), with Keras preprocessing layers;
# - how a U-Net's encoder, decoder and skip connections fit together, and what its width
#   costs in parameters;
# - how to run a 3 x 4 experiment that survives a disconnect, and read it with patient-level
#   bootstrap intervals and paired differences instead of single numbers;
# - where synthetic training slices help a segmenter, and where they do not.
#
# **What you'll need**: notebook 07 (its synthetic slices; without them scenarios 3 and 4
# are skipped) and 05 (resumable runs, bootstrap intervals). Runs in under a minute
# (`smoke`), about 15–20 minutes on two idle cores (`cpu`: 64 px, narrow networks, one
# seed; the measured run is described near the end), or about 40 hours on a T4 (`gpu`: 256 px, the
# paper's widths and 100 epochs, three seeds — 13 hours with one; an estimate from the FLOPs
# near the end).

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
from keras import layers

import medganlab
from medganlab.data import catalog, ct_slices
from medganlab.evaluation import segmentation as seg
from medganlab.evaluation import segmentation_figures as figures
from medganlab.evaluation.fdd import write_table
from medganlab.models import fpn, heavy_unet
from medganlab.models.unet import HEAVY_UNET_PARAMS
from medganlab.paths import run_dir
from medganlab.report import show_metrics
from medganlab.testing import check_own_work
from medganlab.training import runs, synthetic_set
from medganlab.training import segmentation_runs as seg_runs

info = medganlab.setup()

# %% [markdown]
# ## Configuration
#
# The paper fixes Adam, learning rate 1e-3 and 100 epochs, the 70/20/10 patient split and
# the four scenarios; it leaves the rest open. The course's decisions, each a knob of `cfg`
# (change one with `cfg = cfg.replace(...)`):
#
# - **Data**: notebook 07's kidney CT phantom in the same profile (the same folder, so the
#   same patients and the same split), the slices that show kidney or tumour, resized to
#   `cfg.image_size`. The `gpu` profile trains at 256 px, the size 07's generator draws; the
#   paper's slices are 512 px.
# - **Models**: U-Net1 is yours (widths `cfg.light_width` x 1, 2, 4 and an 8x bottleneck:
#   16-32-64-128 at full size); U-Net2 is the original U-Net (widths 64 … 1024, 31 M
#   parameters); the FPN has a ResNet-18 encoder. The paper's FPN was pretrained; ours
#   learns from scratch, since nothing is downloaded (`fpn(..., weights="imagenet")` is the
#   opt-in on a machine with internet). `cpu` narrows all three; `smoke` also makes them shallow.
# - **Loss** `cfg.loss`: cross-entropy plus soft Dice of kidney and tumour. Cross-entropy
#   gives every pixel a gradient; Dice keeps the small tumour from drowning in background.
# - **Which weights are tested** `cfg.keep_best`: each run ends with the weights of its epoch
#   with the lowest validation loss — what the paper's 20 % validation split is for; the
#   paper does not say. `False` tests the last epoch's weights.
# - **Geometric augmentation**: rotation up to ±`cfg.rotation_degrees`°, translation up to
#   ±`cfg.translation` and zoom up to ±`cfg.zoom` of the side. The paper names the three
#   transformations but not their ranges.
# - **Empty-vs-empty** `cfg.empty`: how a slice scores when neither truth nor prediction holds
#   a class (see "Measure overlap per slice"); the notebook reports both conventions.
# - **Seeds** `cfg.seeds`: `gpu` trains every run three times and averages each test slice's
#   IoU over the seeds.

# %%
cfg = medganlab.profile_for("08_kidney_segmentation")
cfg

# %% [markdown]
# ## Load the slices and the synthetic set
#
# The same patient split as notebook 07 (`ct_slices.split_patients`, one function for both),
# so no test patient of this notebook trained the Pix2Pix generator. Set `MEDGANLAB_CT_ROOT`
# to a real KiTS19 folder (`case_XXXXX/imaging.nii.gz`, `segmentation.nii.gz`) and the same
# cells read real patients — run notebook 07 on it first, in the same profile.

# %%
data_root = catalog.ct_dataset(cfg.cases, cfg.data_size, seed=cfg.data_seed,
                               slice_thickness_mm=cfg.ct_slice_thickness_mm)
split = ct_slices.split_patients(data_root)
{name: len(patients) for name, patients in split.items()}

# %%
slices = {name: ct_slices.load_slices(data_root, patients, cfg.image_size)
          for name, patients in split.items()}
train, val, test = slices["train"], slices["val"], slices["test"]
for name, part in slices.items():
    print(f"{name:5s}: {len(part):4d} slices from {len(set(part.cases))} patients, "
          f"{int((part.labels == 2).any(axis=(1, 2, 3)).sum())} with tumour")

# %% [markdown]
# Notebook 07 wrote its synthetic slices as an artifact; `load_synthetic` takes yours, or the
# course's reference set when you have none, and refuses a set made from any patient outside
# this training split. The synthetic slices join the **training** split only: validation and
# test stay real.

# %%
synthetic = seg_runs.load_synthetic(cfg.profile, split["train"], data_root.name, cfg.image_size)
if synthetic is not None:
    made = synthetic["manifest"]
    print(f"{len(synthetic['images'])} synthetic slices ({synthetic['source']} artifact "
          f"{made['name']}, condition {made.get('condition')}, from {len(made['source_patients'])} "
          f"training patients; {made.get('edited', 0)} with an edited tumour)")

# %% [markdown]
# A set made from the test patients would leak them into training. Ask for the set with the
# test split as the "training" split, and see it refused:

# %%
if synthetic is not None:
    try:
        synthetic_set.load_synthetic_set(synthetic["manifest"]["name"], split["test"])
    except ValueError as error:
        print("refused:", str(error)[:150], "...")

# %% [markdown]
# Real training slices (top) and synthetic ones (bottom), kidney red and tumour yellow:

# %%
pick = np.linspace(0, len(train) - 1, 4).round().astype(int)
rows = [train.take(pick)]
if synthetic is not None:
    rows.append(ct_slices.SliceSet(synthetic["images"][:4], synthetic["labels"][:4],
                                   synthetic["labels"][:4], ["synthetic"] * 4))
fig, axes = plt.subplots(len(rows), 4, figsize=(9, 2.4 * len(rows)), squeeze=False)
for r, part in enumerate(rows):
    for c in range(min(4, len(part))):
        figures.overlay(axes[r, c], part.images[c], part.labels[c])
        axes[r, c].set_title(part.cases[c], fontsize=8)
plt.show()

# %% [markdown]
# ## Measure overlap per slice
#
# For one class on one slice, with the true pixels A and the predicted pixels B:
#
# - **IoU** (Jaccard) = |A ∩ B| / |A ∪ B|;
# - **Dice** = 2|A ∩ B| / (|A| + |B|) = 2 IoU / (1 + IoU): the same ranking, higher numbers.
#
# The paper scored IoU on every test slice and averaged over the slices (not one IoU over all
# pixels of the test set: a big kidney slice and a small pole would then weigh by their
# size). Score three regions: **kidney** (label 1), **tumour** (label 2) and **foreground**
# (kidney or tumour, 1 or 2 — the KiTS19 "kidney and tumour" composite).
#
# A slice without tumour, where the network also draws none, has |A ∪ B| = 0: IoU is 0/0.
# Two conventions:
#
# - `empty="one"`: nothing to find, nothing found — a perfect slice, IoU 1;
# - `empty="exclude"`: the slice says nothing about the class; leave it out (NaN) of the mean.
#
# When the truth is empty but the network draws something, IoU is 0 in both conventions.
#
# ### Exercise 1
#
# Implement `slice_iou(labels, predicted, region, empty)`: one IoU per slice as a float64
# array of shape (N,), for label maps of shape (N, H, W, 1) or (N, H, W) — `labels` and
# `predicted` both with or both without the channel axis. Raise `ValueError` for an unknown
# region or convention, or when the two shapes differ. Then `mean_over_slices(scores)`: the
# mean as a Python float, without the NaN slices (NaN when nothing is left). Write both
# with NumPy: the package's own `seg.slice_scores` and `seg.mean_score` score the runs later
# in this notebook, and the tests check that your functions do not call them.

# %%
REGIONS = {"kidney": (1,), "tumour": (2,), "foreground": (1, 2)}  # label values of each region
EMPTY = ("one", "exclude")

# %% solution grade_id="slice_iou"
def slice_iou(labels, predicted, region="kidney", empty="one"):
    """IoU of `region` on every slice: float64 (N,); empty-vs-empty gives 1.0 or NaN."""
    ### BEGIN SOLUTION
    if region not in REGIONS or empty not in EMPTY:
        raise ValueError(f"expected a region in {sorted(REGIONS)} and empty in {EMPTY}, got {region!r}, {empty!r}")
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if labels.shape != predicted.shape:
        raise ValueError(f"expected predicted label maps of shape {labels.shape}, got {predicted.shape}")
    truth = np.isin(labels, REGIONS[region]).reshape(len(labels), -1)
    guess = np.isin(predicted, REGIONS[region]).reshape(len(predicted), -1)
    inter = np.sum(truth & guess, axis=1)
    union = np.sum(truth | guess, axis=1)
    fill = 1.0 if empty == "one" else np.nan
    return np.where(union > 0, inter / np.maximum(union, 1), fill).astype(np.float64)
    ### END SOLUTION


def mean_over_slices(scores):
    """Mean of per-slice scores without the excluded (NaN) slices; NaN when none is left."""
    ### BEGIN SOLUTION
    scores = np.asarray(scores, dtype=np.float64).ravel()
    kept = scores[~np.isnan(scores)]
    return float(kept.mean()) if kept.size else float("nan")
    ### END SOLUTION

# %% [markdown]
# Three 4x4 slices to check by hand: (0) a kidney of 4 pixels predicted one column to the
# right — 2 shared of 6 covered, IoU 1/3; (1) 2 kidney and 2 tumour pixels, all predicted
# kidney — kidney 2/4, tumour 0/2, foreground 4/4; (2) nothing, and nothing predicted.

# %%
example_truth = np.zeros((3, 4, 4, 1), np.uint8)
example_pred = np.zeros((3, 4, 4, 1), np.uint8)
example_truth[0, :2, :2] = 1
example_pred[0, :2, 1:3] = 1
example_truth[1, 0, :2], example_truth[1, 1, :2] = 1, 2
example_pred[1, :2, :2] = 1
{region: slice_iou(example_truth, example_pred, region) for region in REGIONS}

# %% tests grade_id="test_slice_iou" points=2
"""IoU = |A ∩ B| / |A ∪ B| on every slice, for kidney (1), tumour (2) and foreground (1 or 2)."""
check_own_work(slice_iou, mean_over_slices, forbidden=(seg.slice_scores, seg.mean_score, seg.run_scores))
want = {"kidney": [1 / 3, 0.5, 1.0], "tumour": [1.0, 0.0, 1.0], "foreground": [1 / 3, 1.0, 1.0]}
for region, expected in want.items():
    got = slice_iou(example_truth, example_pred, region)
    assert isinstance(got, np.ndarray) and got.shape == (3,), \
        f"expected one IoU per slice, shape (3,), for {region}, got {getattr(got, 'shape', type(got))}"
    assert np.allclose(got, expected), f"expected per-slice {region} IoU {np.round(expected, 3).tolist()}, got {np.round(got, 3).tolist()}"
for bad in (dict(region="liver"), dict(empty="zero"), dict(predicted=example_pred[:, :2])):
    try:
        slice_iou(**{"labels": example_truth, "predicted": example_pred, **bad})
    except ValueError:
        continue
    raise AssertionError(f"expected a ValueError for {bad} (an unknown region or convention, or shapes that differ)")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(3)
a, b = rng.integers(0, 3, (6, 8, 8, 1)), rng.integers(0, 3, (6, 8, 8, 1))
b[0], a[1], b[1] = a[0], 0, 0  # a perfect slice and an empty pair
for region, empty in [(r, e) for r in REGIONS for e in EMPTY]:
    ref = seg.slice_scores(a, b, region, empty)["iou"]
    assert np.allclose(slice_iou(a, b, region, empty), ref, equal_nan=True), \
        f"disagrees with a reference on random label maps ({region}, {empty})"
assert np.allclose(slice_iou(a[..., 0], b[..., 0], "kidney"), seg.slice_scores(a, b, "kidney")["iou"]), \
    "label maps without the channel axis (N, H, W) are accepted"
### END HIDDEN TESTS

# %% tests grade_id="test_slice_iou_empty" points=2
"""Empty-vs-empty slices score 1 ('one') or are left out ('exclude'); the mean skips them."""
one = slice_iou(example_truth, example_pred, "kidney", empty="one")
excluded = slice_iou(example_truth, example_pred, "kidney", empty="exclude")
assert one[2] == 1.0, f"expected IoU 1 for the empty-vs-empty slice with empty='one', got {one[2]}"
assert np.isnan(excluded[2]) and np.allclose(excluded[:2], [1 / 3, 0.5]), \
    f"expected NaN for the empty-vs-empty slice with empty='exclude' (and the others unchanged), got {excluded.tolist()}"
got = mean_over_slices(excluded)
assert isinstance(got, float) and abs(got - 5 / 12) < 1e-12, \
    f"expected the mean over the two scored slices (1/3 + 1/2) / 2 = 0.4167 as a float (excluded slices left out), got {got}"
assert abs(mean_over_slices(one) - (1 / 3 + 0.5 + 1) / 3) < 1e-12, "expected the plain mean with empty='one'"
only_pred = slice_iou(np.zeros((1, 4, 4, 1), int), np.ones((1, 4, 4, 1), int), "kidney", empty="exclude")
assert only_pred.tolist() == [0.0], f"expected IoU 0 when the truth is empty but the prediction is not (empty only counts both), got {only_pred.tolist()}"
### BEGIN HIDDEN TESTS
assert np.isnan(mean_over_slices([np.nan, np.nan])), "the mean of only excluded slices is NaN"
assert mean_over_slices(np.array([[0.5], [1.0]])) == 0.75, "a (N, 1) array of scores is averaged too"
t = np.zeros((2, 4, 4, 1), int)
t[0, 0, 0] = 2
assert np.allclose(slice_iou(t, np.zeros_like(t), "tumour", "one"), [0.0, 1.0]), \
    "a missed tumour scores 0; the slice with no tumour anywhere scores 1 with 'one'"
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2
#
# Implement `slice_dice`: Dice = 2|A ∩ B| / (|A| + |B|) per slice, with the same regions and
# the same empty-vs-empty convention (|A| + |B| = 0). Reuse your checks.

# %% solution grade_id="slice_dice"
def slice_dice(labels, predicted, region="kidney", empty="one"):
    """Dice of `region` on every slice: float64 (N,); empty-vs-empty gives 1.0 or NaN."""
    ### BEGIN SOLUTION
    if region not in REGIONS or empty not in EMPTY:
        raise ValueError(f"expected a region in {sorted(REGIONS)} and empty in {EMPTY}, got {region!r}, {empty!r}")
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if labels.shape != predicted.shape:
        raise ValueError(f"expected predicted label maps of shape {labels.shape}, got {predicted.shape}")
    truth = np.isin(labels, REGIONS[region]).reshape(len(labels), -1)
    guess = np.isin(predicted, REGIONS[region]).reshape(len(predicted), -1)
    inter = np.sum(truth & guess, axis=1)
    sizes = np.sum(truth, axis=1) + np.sum(guess, axis=1)
    fill = 1.0 if empty == "one" else np.nan
    return np.where(sizes > 0, 2 * inter / np.maximum(sizes, 1), fill).astype(np.float64)
    ### END SOLUTION

# %%
{region: slice_dice(example_truth, example_pred, region) for region in REGIONS}

# %% tests grade_id="test_slice_dice" points=2
"""Dice = 2|A ∩ B| / (|A| + |B|) per slice, equal to 2 IoU / (1 + IoU), same empty convention."""
check_own_work(slice_dice, forbidden=(seg.slice_scores, seg.mean_score, seg.run_scores))
got = slice_dice(example_truth, example_pred, "kidney")
assert isinstance(got, np.ndarray) and got.shape == (3,), f"expected one Dice per slice, shape (3,), got {getattr(got, 'shape', type(got))}"
assert np.allclose(got, [0.5, 2 / 3, 1.0]), f"expected kidney Dice [0.5, 0.667, 1.0] (2·2/(4+4), 2·2/(2+4), empty), got {np.round(got, 3).tolist()}"
assert np.isnan(slice_dice(example_truth, example_pred, "tumour", "exclude")[2]), \
    "expected NaN for the empty-vs-empty slice with empty='exclude'"
rng = np.random.default_rng(0)
a, b = rng.integers(0, 3, (5, 6, 6, 1)), rng.integers(0, 3, (5, 6, 6, 1))
iou = slice_iou(a, b, "foreground")
assert np.allclose(slice_dice(a, b, "foreground"), 2 * iou / (1 + iou)), "expected Dice = 2 IoU / (1 + IoU) on every slice"
### BEGIN HIDDEN TESTS
a[2], b[2] = 0, 0
for region, empty in [(r, e) for r in REGIONS for e in EMPTY]:
    assert np.allclose(slice_dice(a, b, region, empty), seg.slice_scores(a, b, region, empty)["dice"], equal_nan=True), \
        f"disagrees with a reference on random label maps ({region}, {empty})"
try:
    slice_dice(a, b, "bladder")
    rejected = False
except ValueError as unknown_region:  # noqa: F841
    rejected = True
assert rejected, "an unknown region is rejected"
### END HIDDEN TESTS

# %% [markdown]
# How harsh is IoU on small structures? Shift every validation label map by one pixel to the
# right and score it as if it were a prediction: the error of a network that is right
# everywhere except one pixel at every edge. Read the `exclude` column for the tumour: with
# `one`, every slice without tumour counts as a perfect tumour slice and hides the damage.

# %%
shifted = np.roll(val.labels, 1, axis=2)
for region in REGIONS:
    print(f"{region:10s} one-pixel shift: " + ", ".join(
        f"IoU {mean_over_slices(slice_iou(val.labels, shifted, region, empty)):.3f} / "
        f"Dice {mean_over_slices(slice_dice(val.labels, shifted, region, empty)):.3f} (empty={empty!r})"
        for empty in EMPTY))
print(f"validation slices without tumour: {int((~(val.labels == 2).any(axis=(1, 2, 3))).sum())} of {len(val)}")

# %% [markdown]
# ## Augment slice and label map together
#
# Geometric augmentation shows the network the same anatomy rotated, shifted and zoomed. For
# segmentation, the label map must move **exactly** with its slice, and stay a label map:
# resampling it bilinearly would invent values between 0 and 2 (a "1.3" at the border of a
# tumour is neither kidney nor tumour). So: one random transformation per slice, bilinear
# for the image, nearest-neighbour for the labels.
#
# Keras 3's preprocessing layers do this when called on a dict: `layer({"images": x,
# "segmentation_masks": m}, training=True)` draws one transformation per slice and applies it
# to both, the masks by nearest neighbour. Their arguments:
#
# - `layers.RandomRotation(factor)`: `factor` is a fraction of a **full turn** (2π), so ±15°
#   is `15 / 360`;
# - `layers.RandomTranslation(height_factor, width_factor)` and `layers.RandomZoom(factor)`:
#   fractions of the side (zoom keeps the aspect ratio when `width_factor` is left out);
# - `fill_mode="constant", fill_value=0.0` fills what moves in with 0 in the image **and** in
#   the mask. Background is 0 in the mask, but air is −1 in the slice: add 1 to the slice
#   before and subtract it after, so what moves in is air.
# - `seed=`: each layer owns a seeded generator, so the same seed replays the same
#   transformations. Create the layers once, outside the function you return.
#
# ### Exercise 3
#
# Implement `make_pair_augmenter`, returning `augment(images, labels)` for a batch of slices
# (N, H, W, 1) in [−1, 1] and label maps (N, H, W, 1): rotation, then translation, then zoom.
# Return the slices as float32 and the label maps in the dtype they came in, with values in
# {0, 1, 2}. It must also run inside `tf.data`'s `map` (graph mode: no `.numpy()`). Keras
# layers compute in the global precision policy's dtype (float16 on a GPU with
# `mixed_float16`): cast the slices back to float32 before you return them.

# %% solution grade_id="pair_augmenter"
def make_pair_augmenter(rotation_degrees=15.0, translation=0.1, zoom=0.1, seed=0):
    """Return augment(images, labels): one random rotation, shift and zoom per slice, for both."""
    ### BEGIN SOLUTION
    steps = [
        layers.RandomRotation(rotation_degrees / 360.0, fill_mode="constant", fill_value=0.0, seed=seed),
        layers.RandomTranslation(translation, translation, fill_mode="constant", fill_value=0.0, seed=seed + 1),
        layers.RandomZoom(zoom, fill_mode="constant", fill_value=0.0, seed=seed + 2),
    ]

    def augment(images, labels):
        data = {"images": tf.cast(images, "float32") + 1.0,
                "segmentation_masks": tf.cast(labels, "float32")}
        for step in steps:
            data = step(data, training=True)
        moved = tf.cast(data["images"], "float32") - 1.0
        masks = tf.cast(tf.round(tf.cast(data["segmentation_masks"], "float32")), labels.dtype)
        return moved, masks
    ### END SOLUTION
    return augment

# %% [markdown]
# Augment the same training slice eight times (kidney red, tumour yellow): every copy gets
# its own transformation, and the labels follow the anatomy.

# %%
augment = make_pair_augmenter(cfg.rotation_degrees, cfg.translation, cfg.zoom, seed=cfg.seed)
one_slice = train.take([int(np.argmax((train.labels > 0).sum(axis=(1, 2, 3))))] * 8)
moved, moved_labels = augment(tf.constant(one_slice.images), tf.constant(one_slice.labels))
fig, axes = plt.subplots(1, 8, figsize=(14, 2))
for ax, image, labels in zip(axes, moved.numpy(), moved_labels.numpy()):
    figures.overlay(ax, image, labels)
plt.show()

# %% [markdown]
# The tests use a synthetic pair whose image is a function of its labels (air −1, body −0.2,
# kidney 0.5, tumour 0.9), so alignment can be checked pixel by pixel.

# %%
def test_pair(n=8, side=64):
    """n copies of a 64x64 slice (air, body, kidney, tumour) and its label map."""
    yy, xx = np.mgrid[:side, :side]
    body = ((yy - 32) / 18.0) ** 2 + ((xx - 32) / 20.0) ** 2 < 1
    labels = np.zeros((side, side), np.uint8)
    labels[(yy - 36) ** 2 / 64 + (xx - 22) ** 2 / 30 < 1] = 1
    labels[(yy - 36) ** 2 / 64 + (xx - 42) ** 2 / 30 < 1] = 1
    labels[(yy - 34) ** 2 + (xx - 43) ** 2 < 9] = 2
    image = np.select([labels == 2, labels == 1, body], [0.9, 0.5, -0.2], -1.0).astype("float32")
    return np.repeat(image[None, ..., None], n, 0), np.repeat(labels[None, ..., None], n, 0)


pair_images, pair_labels = test_pair()


def centroid(mask):
    """(row, column) centre of a boolean mask."""
    rows, cols = np.nonzero(mask)
    return np.array([rows.mean(), cols.mean()])

# %% tests grade_id="test_augment_labels" points=2
"""Labels stay in {0, 1, 2} and keep their dtype; slices come back float32; each copy moves differently (also in tf.data)."""
aug = make_pair_augmenter(15.0, 0.1, 0.1, seed=1)
images, labels = aug(tf.constant(pair_images), tf.constant(pair_labels))
assert tuple(images.shape) == (8, 64, 64, 1) and images.dtype == tf.float32, \
    f"expected float32 slices of shape (8, 64, 64, 1), got {images.dtype} {tuple(images.shape)}"
assert labels.dtype == tf.uint8, f"expected the label maps back as uint8 (the dtype they came in), got {labels.dtype}"
values = set(np.unique(labels.numpy()).tolist())
assert values <= {0, 1, 2}, f"expected label values 0, 1 and 2 only (nearest-neighbour for the labels), found {sorted(values)}"
changed = [not np.array_equal(labels.numpy()[i], pair_labels[i]) for i in range(8)]
assert sum(changed) >= 6, f"expected a random transform on (nearly) every slice (training=True), {sum(changed)} of 8 changed"
assert len({labels.numpy()[i].tobytes() for i in range(8)}) >= 6, "expected a different transformation for each copy of the slice"
batch = next(iter(tf.data.Dataset.from_tensor_slices((pair_images, pair_labels)).batch(8).map(aug)))
assert set(np.unique(batch[1].numpy()).tolist()) <= {0, 1, 2}, "expected labels in {0, 1, 2} inside tf.data's map too"
### BEGIN HIDDEN TESTS
i2, l2 = aug(pair_images, pair_labels.astype("int32"))
assert keras.backend.standardize_dtype(l2.dtype) == "int32", "the labels' dtype is kept (int32 in, int32 out)"
assert float(tf.reduce_min(images)) >= -1.0 - 1e-3 and float(tf.reduce_max(images)) <= 1.0 + 1e-3, \
    "slices stay within [-1, 1]"
### END HIDDEN TESTS

# %% tests grade_id="test_augment_aligned" points=2
"""The label map moves exactly with its slice (one transformation for both); what moves in is air."""
aug = make_pair_augmenter(15.0, 0.1, 0.1, seed=2)
images, labels = (t.numpy() for t in aug(tf.constant(pair_images), tf.constant(pair_labels)))
for i in range(8):
    tumour_image, tumour_label = images[i, ..., 0] > 0.7, labels[i, ..., 0] == 2
    shift = np.abs(centroid(tumour_image) - centroid(tumour_label)).max()
    assert shift < 1.0, f"slice {i}: expected the tumour of the image and of the label map aligned (image and labels transformed together), they are {shift:.1f} px apart"
    fg_image, fg_label = images[i, ..., 0] > 0.2, labels[i, ..., 0] > 0
    overlap = (fg_image & fg_label).sum() / (fg_image | fg_label).sum()
    assert overlap > 0.8, f"slice {i}: expected kidney and tumour of image and labels aligned (IoU > 0.8), got {overlap:.2f}"
edges = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]]).ravel()
assert np.allclose(edges, -1.0, atol=0.02), \
    f"expected air (-1) where the slice moves in at the borders (shift by +1 before, -1 after), found values up to {edges.max():.2f}"
### BEGIN HIDDEN TESTS
far = make_pair_augmenter(0.0, 0.3, 0.0, seed=5)
far_images, far_labels = (t.numpy() for t in far(tf.constant(pair_images), tf.constant(pair_labels)))
assert (far_labels[far_images < -0.99] == 0).all(), "where the slice is air the label map is background"
for k in range(len(far_images)):
    gap = np.abs(centroid(far_images[k, ..., 0] > 0.2) - centroid(far_labels[k, ..., 0] > 0)).max()
    assert gap < 1.0, "large translations move slice and labels together"
### END HIDDEN TESTS

# %% tests grade_id="test_augment_ranges" points=2
"""Rotation stays within ±rotation_degrees (a fraction of a full turn), translation within its share, zoom is applied."""
start = centroid(pair_labels[0, ..., 0] == 2)
centre = np.array([31.5, 31.5])
radius = np.linalg.norm(start - centre)
rotate = make_pair_augmenter(10.0, 0.0, 0.0, seed=3)
labels = rotate(pair_images, pair_labels)[1].numpy()
moves = [np.linalg.norm(centroid(labels[i, ..., 0] == 2) - start) for i in range(8)]
limit = 2 * radius * np.sin(np.radians(10) / 2) + 1.0
assert max(moves) <= limit, f"expected rotations within ±10 degrees (the tumour moves at most {limit:.1f} px), it moved {max(moves):.1f} px: RandomRotation's factor is a fraction of 360 degrees"
assert max(moves) > 0.5, "expected the rotation to move the tumour"
shift = make_pair_augmenter(0.0, 0.1, 0.0, seed=4)
labels = shift(pair_images, pair_labels)[1].numpy()
moves = np.array([np.abs(centroid(labels[i, ..., 0] == 2) - start) for i in range(8)])
assert moves.max() <= 6.4 + 0.6 and moves.max() > 1.0, \
    f"expected translations up to 10 % of 64 px (6.4 px) per axis, the tumour moved up to {moves.max():.1f} px"
zoomer = make_pair_augmenter(0.0, 0.0, 0.3, seed=6)
labels = zoomer(pair_images, pair_labels)[1].numpy()
areas = (labels > 0).sum(axis=(1, 2, 3)) / (pair_labels[0] > 0).sum()
assert areas.min() < 0.9 or areas.max() > 1.1, f"expected zoom to change the kidney area (zoom=0.3), area ratios {np.round(areas, 2).tolist()}"
assert 0.45 < areas.min() and areas.max() < 2.0, f"expected zoom within ±30 % of the side, area ratios {np.round(areas, 2).tolist()}"
### BEGIN HIDDEN TESTS
same_a = make_pair_augmenter(15.0, 0.1, 0.1, seed=7)(pair_images, pair_labels)[1].numpy()
same_b = make_pair_augmenter(15.0, 0.1, 0.1, seed=7)(pair_images, pair_labels)[1].numpy()
assert np.array_equal(same_a, same_b), "the same seed replays the same transformations"
### END HIDDEN TESTS

# %% [markdown]
# ## Build the light U-Net
#
# A U-Net (Ronneberger et al. 2015) is an encoder that halves the side and doubles the width
# at every level, a bottleneck, and a decoder that doubles the side back; at every level the
# decoder **concatenates** the encoder's features of the same size (the skip connection), so
# edges lost in the bottleneck come back. The light U-Net1 of this course:
#
# 1. for each of `depth` levels: `conv_block` with `width * 2**level` filters (keep its output
#    as that level's skip), then `MaxPooling2D(2)`;
# 2. the bottleneck: `conv_block` with `width * 2**depth` filters;
# 3. for each level from the deepest up: `UpSampling2D(2)` (no weights: a light decoder),
#    `Concatenate` with that level's skip, `conv_block` with `width * 2**level` filters;
# 4. a 1x1 `Conv2D(num_classes)` with `softmax`, `dtype="float32"` (probabilities stay float32
#    under mixed precision).
#
# With `width=16, depth=3` the widths are 16-32-64-128. Raise `ValueError` when the input
# sides are not divisible by `2**depth` (each level halves them).
#
# ### Exercise 4

# %%
def conv_block(x, filters, name):
    """Two 3x3 convolutions ("same" padding), each followed by batch norm and ReLU (given)."""
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
    return x

# %% solution grade_id="build_light_unet"
def build_light_unet(input_shape=(256, 256, 1), num_classes=3, width=16, depth=3):
    """U-Net1: (batch, H, W, 1) slices -> (batch, H, W, num_classes) float32 softmax."""
    ### BEGIN SOLUTION
    if input_shape[0] % 2**depth or input_shape[1] % 2**depth:
        raise ValueError(f"input sides must be divisible by 2**depth = {2**depth}, got {input_shape[:2]}")
    inputs = keras.Input(input_shape, name="image")
    x, skips = inputs, []
    for level in range(depth):
        x = conv_block(x, width * 2**level, f"down{level + 1}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level + 1}")(x)
    x = conv_block(x, width * 2**depth, "bottleneck")
    for level in reversed(range(depth)):
        x = layers.UpSampling2D(2, name=f"upsample{level + 1}")(x)
        x = layers.Concatenate(name=f"skip{level + 1}")([x, skips[level]])
        x = conv_block(x, width * 2**level, f"up{level + 1}")
    outputs = layers.Conv2D(num_classes, 1, activation="softmax", dtype="float32", name="scores")(x)
    ### END SOLUTION
    return keras.Model(inputs, outputs, name="unet1_light")

# %% [markdown]
# Build the profile's U-Net1 and run it, untrained, on two training slices:

# %%
unet1 = build_light_unet((cfg.image_size, cfg.image_size, 1), 3, cfg.light_width, cfg.light_depth)
probs = unet1(train.images[:2])
print(f"{unet1.count_params():,} parameters; output {tuple(probs.shape)} {probs.dtype}, "
      f"probabilities sum to {float(tf.reduce_sum(probs[0, 0, 0])):.3f}")

# %% tests grade_id="test_light_unet_shapes" points=2
"""Per-pixel class probabilities (float32 under mixed precision), depth poolings and skips, bad sides rejected."""
policy = keras.mixed_precision.dtype_policy()
keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
try:
    m = build_light_unet((32, 32, 1), num_classes=3, width=4, depth=2)
finally:
    keras.mixed_precision.set_dtype_policy(policy)
out = m(np.zeros((2, 32, 32, 1), "float32"))
assert tuple(out.shape) == (2, 32, 32, 3), f"expected output shape (2, 32, 32, 3), got {tuple(out.shape)}"
assert keras.backend.standardize_dtype(out.dtype) == "float32", f"expected float32 probabilities under mixed precision (dtype='float32' on the last layer), got {out.dtype}"
assert np.allclose(np.sum(out, axis=-1), 1.0, atol=1e-3), "expected softmax probabilities over the classes (summing to 1)"
counts = {k: [type(layer).__name__ for layer in m.layers].count(k) for k in ("MaxPooling2D", "UpSampling2D", "Concatenate")}
assert counts == {"MaxPooling2D": 2, "UpSampling2D": 2, "Concatenate": 2}, \
    f"expected depth=2 MaxPooling2D and UpSampling2D layers and one skip connection (Concatenate) per level, got {counts}"
try:
    build_light_unet((36, 36, 1), width=4, depth=3)
except ValueError as error:
    assert "Concatenate" not in str(error), f"expected your own ValueError, raised before any layer is built (a check of the input sides against 2**depth); got Keras's: {error}"
else:
    raise AssertionError("expected a ValueError: 36 is not divisible by 2**3 = 8")
### BEGIN HIDDEN TESTS
m = build_light_unet((64, 48, 1), num_classes=5, width=4, depth=3)
pools = sum(isinstance(layer, layers.MaxPooling2D) for layer in m.layers)
assert m.output_shape == (None, 64, 48, 5) and pools == 3, "non-square sides, num_classes and depth are respected"
### END HIDDEN TESTS

# %% tests grade_id="test_light_unet_params" points=2
"""Widths width·2**level per level, an upsampling decoder without weights: the parameter count follows."""
small = build_light_unet((32, 32, 1), width=4, depth=2).count_params()
assert small == 7_715, f"expected 7,715 parameters (width 4, depth 2: widths 4-8 and a 16 bottleneck, UpSampling2D + Concatenate), got {small:,}"
profile = build_light_unet((64, 64, 1), width=8, depth=3).count_params()
assert profile == 123_043, f"expected 123,043 parameters with width 8, depth 3 (widths 8-16-32 and a 64 bottleneck), got {profile:,}"
### BEGIN HIDDEN TESTS
full = build_light_unet((256, 256, 1), width=16, depth=3)
assert full.count_params() == 489_155, "the full-size U-Net1 (16-32-64-128) has the wrong parameter count"
assert full.count_params() < HEAVY_UNET_PARAMS / 50, "U-Net1 is the light one"
### END HIDDEN TESTS

# %% [markdown]
# ## Meet the heavy U-Net and the FPN
#
# Both are given (`medganlab.models`, unit-tested at full size). **U-Net2** is the original
# U-Net: four levels of 64 … 512 filters, a 1024-filter bottleneck, transposed convolutions
# in the decoder — 31,048,387 parameters at full width with batch normalisation. The
# **FPN** (Lin et al. 2017) runs a ResNet-18 encoder down to 1/32 of the side, then a top-down
# pathway: each coarser level is up-sampled 2x and added to a 1x1 "lateral" projection of the
# encoder level below, then every pyramid level is brought to 1/4 of the side, summed and
# up-sampled to the input (15,412,931 parameters at full size). Build the profile's versions:

# %%
def build_segmenter(name):
    """The profile's U-Net1, U-Net2 or FPN for (image_size, image_size, 1) slices, 3 classes."""
    side = (cfg.image_size, cfg.image_size, 1)
    if name == "U-Net1":
        return build_light_unet(side, 3, cfg.light_width, cfg.light_depth)
    if name == "U-Net2":
        return heavy_unet(side, 3, base=cfg.heavy_width, depth=cfg.heavy_depth)
    return fpn(side, 3, cfg.fpn_encoder, cfg.fpn_pyramid, cfg.fpn_head, encoder_width=cfg.fpn_encoder_width)

# %%
flops = {}
for name in seg_runs.MODELS:
    model = build_segmenter(name)
    flops[name] = seg_runs.forward_flops(model)
    print(f"{name:7s} {model.count_params():>11,} parameters, {flops[name] / 1e9:6.2f} GFLOP per slice "
          f"forward, output {model.output_shape}")

# %% [markdown]
# ## Train the twelve runs
#
# Three models x four scenarios (x `cfg.seeds`). Every run starts from its seed, uses Adam
# (`cfg.learning_rate`) and `cfg.loss`, validates on the real validation slices after every
# epoch, and keeps its state in its own folder: run the cell again after a disconnect and
# finished runs are reloaded, the interrupted one resumes at its last epoch. (`smoke` and
# graded runs always start fresh.) In scenarios 2 and 4 your `make_pair_augmenter` moves
# every training batch, anew each epoch.

# %%
runs_root = run_dir("08_kidney_segmentation", cfg.profile) / seg_runs.config_tag(cfg)  # new knobs, new runs
val_data = seg_runs.make_dataset(val.images, val.labels, cfg.batch_size, shuffle=False)
scenarios = [s for s in seg_runs.SCENARIOS.values() if synthetic is not None or not s.synthetic]
[f"{s.number}: {s.name}" for s in scenarios]

# %%
def train_one(name, scenario, seed):
    """Train (or resume, or reload) one run, then predict the test slices."""
    keras.utils.set_random_seed(seed)
    images, labels, _ = seg_runs.training_arrays(train.images, train.labels, synthetic, scenario)
    pipeline = make_pair_augmenter(cfg.rotation_degrees, cfg.translation, cfg.zoom, seed) if scenario.geometric else None
    data = seg_runs.make_dataset(images, labels, cfg.batch_size, pipeline, seed=seed,
                                 repeat=cfg.steps_per_epoch is not None)
    model = seg_runs.compile_segmenter(build_segmenter(name), cfg.learning_rate, cfg.loss,
                                       info.jit_compile, cfg.run_eagerly)
    folder = seg_runs.run_folder(runs_root, name, scenario.number, seed)
    record = seg_runs.train_run(model, data, val_data, folder, cfg.epochs, cfg.steps_per_epoch,
                                verbose=0 if cfg.profile == "smoke" else 2, keep_best=cfg.keep_best)
    return {**record, "predicted": seg_runs.predict_labels(model, test.images),
            "params": model.count_params(), "train_slices": len(images)}

# %%
results = {}  # (model, scenario, seed) -> history, seconds, test predictions ...
for scenario in scenarios:
    for name in seg_runs.MODELS:
        for seed in cfg.seeds:
            r = results[name, scenario.number, seed] = train_one(name, scenario, seed)
            print(f"{name:7s} scenario {scenario.number} seed {seed}: {r['train_slices']} training slices, "
                  f"{r['epochs']} epochs (best {r['best_epoch']}), {r['seconds']:.0f} s{' (reloaded)' if r['reloaded'] else ''}, "
                  f"loss {r['history']['loss'][-1]:.3f} / val {r['history']['val_loss'][-1]:.3f}")
print(f"training time: {sum(r['seconds'] for r in results.values()) / 60:.1f} min")

# %%
fig = runs.plot_loss_grid({f"{n} s{s}" + (f" seed {k}" if len(cfg.seeds) > 1 else ""): r["history"]
                           for (n, s, k), r in results.items()}, ncols=4,
                          title=f"Train (solid) and validation (dashed) loss, {cfg.profile} profile")
fig.axes[0].set_ylabel(f"loss ({cfg.loss})")
plt.show()

# %% [markdown]
# ## Fill in Table 2
#
# Score every test slice with your `slice_iou` and `slice_dice` (averaged over the seeds),
# then put an interval on each mean: the package resamples test **patients** with
# replacement `cfg.bootstrap` times (slices of one patient are not independent) and takes
# the 2.5th and 97.5th percentiles. The **paired difference** against scenario 1 resamples
# the same patients for both runs, so easy and hard patients cancel out. An interval over
# patients can only be as wide as the patients differ: with the two test patients of `cpu` it
# is little more than the range of their two means (`gpu` has ten); with the single test
# patient of `smoke` it has no width at all. The `smoke` networks train for one step: their
# IoUs near 0 test the code, not the models.
#
# The paper reports one IoU per model and scenario without saying over which classes. The
# table's headline `iou` is the mean of the kidney and the tumour means (background left
# out: its IoU is about 0.99 on every slice); kidney, tumour and foreground follow.

# %%
def score_run(predicted, empty):
    """Per-slice IoU and Dice of every region, with your functions."""
    out = {}
    for region in REGIONS:
        out[f"iou_{region}"] = slice_iou(test.labels, predicted, region, empty)
        out[f"dice_{region}"] = slice_dice(test.labels, predicted, region, empty)
    return out


scores = {empty: {(n, s.number): seg.average_runs([score_run(results[n, s.number, k]["predicted"], empty)
                                                    for k in cfg.seeds])
                  for s in scenarios for n in seg_runs.MODELS} for empty in EMPTY}

# %%
other = "exclude" if cfg.empty == "one" else "one"
table = seg.table2_rows(scores[cfg.empty], test.cases, cfg.bootstrap, cfg.seed)
for row in table:
    key = (row["model"], row["scenario"])
    row[f"iou_{other}"] = float(np.mean([mean_over_slices(scores[other][key][f"iou_{r}"])
                                         for r in seg.HEADLINE_REGIONS]))
    picked = [r for (n, s, k), r in results.items() if (n, s) == key]
    row.update(profile=cfg.profile, empty=cfg.empty, seeds=len(picked), params=picked[0]["params"],
               train_slices=picked[0]["train_slices"], epochs=picked[0]["epochs"],
               seconds=float(np.mean([r["seconds"] for r in picked])))

# %%
made_from = None if synthetic is None else dict(source=synthetic["source"], count=len(synthetic["images"]))
paths = write_table(table, f"08_segmentation_{cfg.profile}",
                    {"profile": cfg.profile, "config": cfg.as_dict(), "test_patients": split["test"],
                     "test_slices": len(test), "synthetic": made_from})
paths

# %% [markdown]
# Table 2 in the paper's layout: one row per scenario, one column per model; ours (with the
# 95 % interval over test patients) beside the paper's:

# %%
n_test = len(split["test"])
print(f"IoU (mean of kidney and tumour, empty-vs-empty = {cfg.empty}), {cfg.profile} profile, {n_test} test "
      f"patient{'s' if n_test != 1 else ''}, {len(test)} slices")
print("scenario".ljust(25) + "".join(f"| {m}: ours [95 % CI], paper".ljust(35) for m in seg_runs.MODELS))
for s in scenarios:
    cells = []
    for m in seg_runs.MODELS:
        r = next(r for r in table if r["model"] == m and r["scenario"] == s.number)
        cells.append(f"| {r['iou']:.3f} [{r['iou_low']:.3f}, {r['iou_high']:.3f}], {r['paper_iou']:.3f}".ljust(35))
    print(f"{s.number} {s.name}".ljust(25) + "".join(cells))

# %%
figures.table2_figure(table, title=f"Table 2, {cfg.profile} profile: ours (bars, 95 % CI over test "
                      "patients) and the paper's (ticks)")
plt.show()

# %% [markdown]
# Each scenario against scenario 1, paired (positive: better than no augmentation), and
# kidney / tumour / foreground separately:

# %%
for r in table:
    diff = "" if r["diff_vs_1"] is None else (
        f"vs 1: {r['diff_vs_1']:+.3f} [{r['diff_vs_1_low']:+.3f}, {r['diff_vs_1_high']:+.3f}]")
    print(f"{r['model']:7s} s{r['scenario']}  kidney {r['iou_kidney']:.3f}  tumour {r['iou_tumour']:.3f}  "
          f"foreground {r['iou_foreground']:.3f}  ({other}: {r[f'iou_{other}']:.3f})  {diff}")

# %% [markdown]
# The convention for empty-vs-empty slices, on the same predictions: with `"one"` every
# slice without tumour where the network draws none counts as a perfect tumour slice.

# %%
for empty in EMPTY:
    best = max(scores[empty], key=lambda key: mean_over_slices(scores[empty][key]["iou_foreground"]))
    parts = {r: mean_over_slices(scores[empty][best][f"iou_{r}"]) for r in REGIONS}
    print(f"empty={empty!r:10s} {best[0]} s{best[1]}: " + ", ".join(f"{r} {v:.3f}" for r, v in parts.items()))
print(f"test slices without tumour: {int((~(test.labels == 2).any(axis=(1, 2, 3))).sum())} of {len(test)}")

# %% [markdown]
# ## Look at the predictions
#
# The same test slices for every scenario (filled: the prediction; cyan: the true outline),
# one figure per model. Look for the tumour, the kidney poles (small slices at the top and
# bottom of a kidney) and blobs where there is no kidney.

# %%
sizes = (test.labels > 0).sum(axis=(1, 2, 3))
show = np.argsort(sizes)[np.linspace(0, len(test) - 1, min(cfg.overlay_slices, len(test))).round().astype(int)]
for name in seg_runs.MODELS:
    predictions = {f"s{s.number} {s.name}": results[name, s.number, cfg.seeds[0]]["predicted"][show] for s in scenarios}
    ious = {f"s{s.number} {s.name}": scores[cfg.empty][name, s.number]["iou_foreground"][show] for s in scenarios}
    figures.overlay_grid(test.images[show], test.labels[show], predictions, ious,
                         [test.cases[i] for i in show], suptitle=f"{name}: foreground IoU per slice")
    plt.show()

# %% [markdown]
# The whole distribution, not just its mean: foreground IoU of every test slice, per model
# and scenario. A mean of 0.8 can be many slices at 0.9 and a few at 0.

# %%
figures.iou_distributions({name: {f"s{s.number}": scores[cfg.empty][name, s.number]["iou_foreground"]
                                  for s in scenarios} for name in seg_runs.MODELS})
plt.show()

# %% [markdown]
# The failure gallery: the worst test slices of the best run, with a guess at what went
# wrong (the largest error: missed pixels, pixels where there is nothing, or kidney and
# tumour confused).

# %%
best_row = max(table, key=lambda r: r["iou"])
best_key = (best_row["model"], best_row["scenario"])
worst_scores = scores[cfg.empty][best_key]["iou_foreground"]
fig, notes = figures.failure_gallery(test.images, test.labels, results[(*best_key, cfg.seeds[0])]["predicted"],
                                     worst_scores, test.cases, cfg.gallery,
                                     title=f"Worst slices of {best_key[0]}, scenario {best_key[1]}")
plt.show()
for index, patient, score, note in notes:
    print(f"slice {index} ({patient}): foreground IoU {score:.2f} — {note}")

# %%
show_metrics(f"08_kidney_segmentation ({cfg.profile})", {
    **{f"IoU {r['model']} s{r['scenario']}": r["iou"] for r in table},
    **{f"kidney IoU {r['model']} s{r['scenario']}": r["iou_kidney"] for r in table},
    "best run": f"{best_key[0]} scenario {best_key[1]}",
    "training minutes": sum(r["seconds"] for r in results.values()) / 60,
})

# %% [markdown]
# **What the course's `cpu` run showed** (one seed, 2 test patients and 51 slices; 12 runs
# of 12 epochs took 25.5 minutes of training on two cores shared with three other jobs, so
# expect about 15 on idle cores). Headline IoU for scenarios 1 / 2 / 3 / 4: U-Net1 0.79 /
# 0.74 / 0.74 / 0.76, U-Net2 0.74 / 0.63 / 0.82 / 0.69, FPN 0.64 / 0.64 / 0.65 / 0.63. The
# Pix2Pix slices helped the heavy U-Net (scenario 3 − 1: +0.079, paired interval
# [+0.046, +0.113]); geometric augmentation lowered both U-Nets (U-Net2: −0.110 [−0.139,
# −0.082]) and left the FPN unchanged; scenario 4 was best for none of the three, so the
# paper's claim does not hold at this size. Most runs had their lowest validation loss in
# the last epoch: 12 epochs are too few for augmentation, which makes the task harder, to
# pay off — the paper trained 100. Kidney IoU of the best run: 0.84. Your numbers will
# differ a little; the intervals say how much that matters.
#
# **At the paper's scale** (`gpu`): the FLOPs of each model at 256 px and full width, and an
# estimate of the T4 time for all runs (three seeds), assuming mixed precision at a quarter
# of the T4's tensor-core peak (not measured):

# %%
gpu = medganlab.profile_for("08_kidney_segmentation", "gpu")
full_unet1 = build_light_unet((gpu.image_size, gpu.image_size, 1), 3, gpu.light_width, gpu.light_depth)
gpu_flops = {"U-Net1": seg_runs.forward_flops(full_unet1), **seg_runs.FULL_SIZE_FLOPS}  # 256 px
{name: f"{f / 1e9:.1f} GFLOP per slice" for name, f in gpu_flops.items()}

# %%
real, extra, val_slices = 4480, 1333, 1280  # the paper: 70 % and 20 % of 6,400 slices, 1,333 synthetic
hours = {name: len(gpu.seeds) * sum(
    seg_runs.gpu_hours(f, real + extra * s.synthetic, val_slices, gpu.epochs) for s in seg_runs.SCENARIOS.values())
    for name, f in gpu_flops.items()}
print(", ".join(f"{name} {h:.1f} h" for name, h in hours.items()) +
      f": about {sum(hours.values()):.0f} h on a T4 for 12 runs x {len(gpu.seeds)} seeds x {gpu.epochs} epochs (estimate)")

# %% [markdown] readonly grade_id="q_empty"
# ### Exercise 5 (written)
#
# (a) Which empty-vs-empty convention do you think the paper's numbers used, and why? (Hint:
# the paper's FPN came pretrained, most likely from a segmentation library whose IoU adds a
# small constant to numerator and denominator.) (b) Use your two conventions' numbers to
# say how much the choice moves the tumour IoU and the headline IoU, and why the tumour moves
# most. (c) Which convention would you report to a clinician, and what would you add to it?

# %% [markdown] manual grade_id="empty" points=3
# === BEGIN MARK SCHEME ===
# (a) "one": segmentation_models-style IoU = (I + ε)/(U + ε) gives 1 when both are empty,
# and 58–91 % on slices where most have no tumour fits counting them as perfect; also the
# paper gives no exclusion rule (1). (b) Quotes their numbers for both conventions; the
# tumour moves most because most test slices have no tumour (their count), each scoring 1
# under "one" and left out under "exclude"; kidney/foreground barely move since (almost)
# every slice has kidney (1). (c) "exclude" (or per-structure detection + IoU on slices that
# contain the structure), plus the false-positive rate on slices without tumour / per-patient
# (3-D) Dice, CIs over patients; justified (1).
# === END MARK SCHEME ===
#
# YOUR ANSWER HERE

# %% [markdown] readonly grade_id="q_scenarios"
# ### Exercise 6 (written)
#
# Read your Table 2 and the paired differences. (a) Which scenario wins for each model, and
# which differences from scenario 1 are larger than their 95 % interval lets you trust? (b)
# The paper's light U-Net gained 32 points from scenario 1 to 4, the other two models little.
# Did yours behave the same way? Give one reason why a small network could profit more from
# extra data than a large one, and one why it might not here. (c) What would you change in
# 07's synthetic set to make scenario 3 help more?

# %% [markdown] manual grade_id="scenarios" points=4
# === BEGIN MARK SCHEME ===
# (a) Names the winner per model from their table; a difference counts only if its paired
# interval excludes 0; notes how few test patients there are (wide intervals) (1). (b) Compares
# with the paper honestly (agreement or not, with numbers); reason for: the small net underfits
# or generalises worse without variety, augmentation regularises it / adds invariances it cannot
# learn from few slices; reason against: the small net may lack capacity to use more varied data,
# or the paper's 58 % U-Net1 looks like a failed run (one seed), so the "gain" may be noise (1+1).
# (c) More realistic or more varied synthetic slices: better generator (more steps, the body
# outline condition), more edited tumours/new positions, more synthetic slices, filter bad ones
# by a quality score, match the HU statistics; check the SSIM/HU table of 07 (1).
# === END MARK SCHEME ===
#
# YOUR ANSWER HERE

# %% [markdown] readonly grade_id="q_failures"
# ### Exercise 7 (written)
#
# Describe what went wrong on two slices of your failure gallery, using the overlays and the
# printed notes. For each, say whether geometric augmentation or synthetic slices could fix
# it, or neither, and why.

# %% [markdown] manual grade_id="failures" points=2
# === BEGIN MARK SCHEME ===
# 1 mark per slice: a concrete description tied to the figure (a missed kidney pole / small
# slice, tumour labelled kidney at its edge, a false blob in bowel or spleen of similar HU,
# boundary one pixel off on a tiny structure) and a justified remedy (augmentation helps with
# pose/size variation; synthetic tumours help with rare tumour appearances; neither helps with
# partial-volume poles at low resolution — more pixels or 3-D context would).
# === END MARK SCHEME ===
#
# YOUR ANSWER HERE

# %% [markdown]
# ## Key points
#
# - Score segmentations per slice and per class; decide what an empty-vs-empty slice scores,
#   and say so — with many tumour-free slices the choice moves the tumour IoU a lot.
# - Augment an image and its label map with one transformation: bilinear for the image,
#   nearest-neighbour for the labels, and fill what moves in with air and background.
# - A U-Net is an encoder, a decoder and skip connections; its width sets the parameters
#   (U-Net1 at 16-32-64-128: 0.5 M; U-Net2 at 64 … 1024: 31 M).
# - Synthetic slices join the training split only, from training patients only.
# - One number per cell of a table hides the noise: resample patients for intervals, and
#   compare runs with paired differences on the same patients.
#
# ## Further reading
#
# - Ronneberger, Fischer, Brox (2015). [U-Net: convolutional networks for biomedical image
#   segmentation](https://arxiv.org/abs/1505.04597).
# - Lin et al. (2017). [Feature pyramid networks for object
#   detection](https://arxiv.org/abs/1612.03144).
# - Heller et al. (2019). [The KiTS19 challenge data](https://arxiv.org/abs/1904.00445).
# - Maier-Hein et al. (2024). [Metrics reloaded: recommendations for image analysis
#   validation](https://doi.org/10.1038/s41592-023-02151-z) (empty references, per-image
#   aggregation).
# - [Keras: image augmentation layers](https://keras.io/api/layers/preprocessing_layers/image_augmentation/).
