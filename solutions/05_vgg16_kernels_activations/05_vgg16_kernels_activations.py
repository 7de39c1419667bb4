# %% [markdown]
# # Compare VGG-16 kernels and activations on chest X-rays
#
# Build VGG-16, train it to tell normal from abnormal chest radiographs five times — 3x3
# against 7x7 kernels, then Sigmoid, Tanh and ELU — and compare the runs the way the
# education case study did (loss curves and ROC/AUC), with confidence intervals, a look at
# why Sigmoid fails, and Grad-CAM to see where each network looks.
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({{ colab_url }})
# [![View the repository](https://img.shields.io/badge/GitHub-medganlab-blue?logo=github)]({{ repository_url }})

# %% [markdown]
# **What you'll do** (about 120 minutes)
#
# | Section | Teaching | Exercises |
# |---|---|---|
# | Load normal and abnormal radiographs | 5 min | — |
# | Build VGG-16 | 10 min | 20 min |
# | Compute the ROC curve and its area | 10 min | 15 min |
# | Measure the generalisation gap | 5 min | 5 min |
# | Train the five runs | 5 min | — |
# | Read the loss curves and the ROC curves | 10 min | — |
# | Find out why Sigmoid fails | 5 min | — |
# | See where the networks look | 5 min | — |
# | Fill in the table and discuss | 5 min | 20 min |
#
# **What you'll learn**
#
# - the VGG-16 design (configuration D): stacks of small convolutions between 2x2 poolings,
#   and where its 134 million parameters sit;
# - what a kernel size and an activation function change in parameters, compute and training;
# - how an ROC curve is built from scores (ties included) and why the trapezoid rule gives
#   the AUC;
# - how to read a train/validation loss gap, and how to put a confidence interval on an AUC
#   when patients contribute several images;
# - why a deep Sigmoid network without normalisation does not learn (vanishing gradients);
# - how Grad-CAM shows where a classifier looks, and how to score it against lesion boxes.
#
# **What you'll need**: notebook 00 (the data, Keras `fit()`); no GAN is needed here. Runs in
# about a minute (`smoke`), 22 minutes measured on two shared cores (`cpu`: 64 px, a
# narrow VGG-16, 3,000 images, 8 epochs per run; finished runs are cached, a rerun takes
# about 3 minutes), or about 10 hours on a T4 and 2 on an A100 (`gpu`: the paper's scale;
# estimated from the FLOPs near the end, not measured).

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
from keras import layers

import medganlab
from medganlab.data import cxr_binary
from medganlab.evaluation import gradcam, roc
from medganlab.evaluation.fdd import write_table
from medganlab.paths import run_dir
from medganlab.plotting import show_images
from medganlab.report import show_metrics
from medganlab.training import runs

info = medganlab.setup()

# %% [markdown]
# ## Configuration
#
# The paper gives batch 64, 94 steps per epoch, 100 epochs and 25 validation steps, and is
# silent on the rest. The course's decisions, each a knob you can change with
# `cfg = cfg.replace(...)`:
#
# - **Optimiser**: Adam, learning rate `cfg.learning_rate` (3e-4), the same in every run and
#   profile, so that only the kernel or the activation changes between runs.
# - **94 steps**: 94 x 64 = 6,016 images, which is 60 % of 10,000 — but the data are
#   10,000 + 10,000 images, so the training split holds 12,000. Either the paper trained on
#   one class's worth of images, or each of its "epochs" saw half the training set. The `gpu`
#   profile keeps all 20,000 images and the 94 steps (the training data repeat, so an epoch
#   is half a pass and 100 epochs are about 50 passes); `cpu` and `smoke` use full passes.
# - **Batch normalisation**: `cfg.batch_norm` (off: VGG-16 has none and the paper does not
#   mention it). See "Find out why Sigmoid fails".
# - **Dropout** 0.5 after the two 4096-unit layers, as in VGG-16.
# - `cfg.run_eagerly` is on only in `smoke`, where compiling the train step would cost more
#   than the two steps it runs.

# %%
cfg = medganlab.profile_for("05_vgg16_kernels_activations")
cfg

# %% [markdown]
# ## Load normal and abnormal radiographs
#
# The study had 10,000 normal and 10,000 abnormal synthetic radiographs. Here *normal* is
# "No Finding" and *abnormal* is any of the course's eight findings, drawn at NIH
# proportions (so infiltrations are common and pneumonias rare). The split is 60/20/20 **by
# patient**: follow-up images of one patient share the anatomy, and a patient seen in
# training must not be tested on. The loader reads a real NIH ChestX-ray14 folder the same
# way (set `MEDGANLAB_CXR_ROOT`).

# %%
data_root = cxr_binary.phantom_root(cfg.images_per_class, cfg.data_size, seed=cfg.data_seed)
records = cxr_binary.binary_index(data_root, cfg.images_per_class, seed=cfg.seed)
splits = cxr_binary.split(records, cxr_binary.PAPER_FRACTIONS, seed=cfg.seed)
for row in cxr_binary.describe_splits(splits):
    print(row)

# %% [markdown]
# Every abnormal phantom carries the boxes of its lesions (fractions of the image side) in
# its metadata; they are the ground truth of the Grad-CAM section. Load the test split as
# arrays, and look at a few images with their labels.

# %%
test_images, test_labels = cxr_binary.load_arrays(splits["test"], cfg.image_size)
test_patients = [r["patient_id"] for r in splits["test"]]
test_images.shape, test_labels.mean()

# %%
titles = [" | ".join(r["labels"])[:24] for r in splits["test"][:8]]
show_images(test_images[:8], titles, ncols=8, size=1.8, vmin=-1, vmax=1)
plt.show()

# %% [markdown]
# ## Build VGG-16
#
# VGG-16 (Simonyan and Zisserman 2015, configuration D) is five blocks of "same"-padded
# convolutions, each block ending in a 2x2 max-pooling that halves the side:
#
# | block | convolutions | filters | side after pooling (224 input) |
# |---|---|---|---|
# | 1 | 2 | 64 | 112 |
# | 2 | 2 | 128 | 56 |
# | 3 | 3 | 256 | 28 |
# | 4 | 3 | 512 | 14 |
# | 5 | 3 | 512 | 7 |
#
# then `Flatten → Dense 4096 → Dense 4096 → Dense 1 (sigmoid)`: 13 + 3 = 16 weight layers.
# A convolution with a k x k kernel from c_in to c_out channels has k²·c_in·c_out + c_out
# parameters, a dense layer n_in·n_out + n_out. The input side must be at least 32 so that
# five poolings leave at least one pixel.
#
# ### Exercise 1
#
# Implement `build_vgg16`. Requirements:
#
# - `width` multiplies every filter count and both 4096s: use `scaled(n, width)`;
# - name the layers as `keras.applications.VGG16` does: `block1_conv1` ... `block5_conv3`,
#   `block1_pool` ... `block5_pool`, `fc1`, `fc2`, `predictions` (Grad-CAM and the gradient
#   diagnostics find the layers by these names);
# - the hidden activation (`activation`) goes on every convolution and on `fc1`/`fc2`; with
#   `batch_norm=True` put a `BatchNormalization` between each convolution and its activation;
#   `Dropout(dropout)` after `fc1` and after `fc2`;
# - the output layer `predictions` is `Dense(1, activation="sigmoid", dtype="float32")`, so
#   the probability stays float32 under mixed precision;
# - bad input raises `ValueError` naming what is allowed: an activation outside
#   `ACTIVATIONS`, a kernel size outside `KERNEL_SIZES`, an input side below `MIN_SIDE`.

# %%
BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # (filters, convolutions) per block
DENSE_UNITS = 4096
ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu")
KERNEL_SIZES = (3, 5, 7)
MIN_SIDE = 2 ** len(BLOCKS)  # five 2x2 poolings need at least 32 pixels

# %%
def scaled(n, width):
    """A layer's width times the width multiplier, at least 1."""
    return max(1, int(round(n * width)))


scaled(64, cfg.width), scaled(DENSE_UNITS, cfg.width)

# %% solution grade_id="build_vgg16"
def build_vgg16(input_shape=(224, 224, 1), kernel_size=3, activation="relu", width=1.0,
                batch_norm=False, dropout=0.5):
    """VGG-16 (configuration D) with one sigmoid output for normal (0) vs abnormal (1)."""
    ### BEGIN SOLUTION
    for name, value, allowed in (("activation", activation, ACTIVATIONS), ("kernel_size", kernel_size, KERNEL_SIZES)):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    if min(input_shape[:2]) < MIN_SIDE:
        raise ValueError(f"input side must be at least {MIN_SIDE} for five 2x2 poolings, got {input_shape}")
    x = inputs = keras.Input(input_shape)
    for block, (filters, convs) in enumerate(BLOCKS, start=1):
        for i in range(1, convs + 1):
            x = layers.Conv2D(scaled(filters, width), kernel_size, padding="same", activation=None if batch_norm else activation, name=f"block{block}_conv{i}")(x)
            if batch_norm:
                x = layers.Activation(activation)(layers.BatchNormalization()(x))
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    for name in ("fc1", "fc2"):
        x = layers.Dropout(dropout)(layers.Dense(scaled(DENSE_UNITS, width), activation=activation, name=name)(x))
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="predictions")(x)
    ### END SOLUTION
    return keras.Model(inputs, outputs, name=f"vgg16_{kernel_size}x{kernel_size}_{activation}")

# %% [markdown]
# Build the profile's network and look at it: the side halves at each pooling, and almost
# all parameters sit in `fc1`.

# %%
model = build_vgg16((cfg.image_size, cfg.image_size, 1), width=cfg.width)
model.summary(line_length=90)

# %%
probabilities = model(test_images[:4])
probabilities.shape, probabilities.dtype, np.round(np.ravel(probabilities), 3)

# %% tests grade_id="test_vgg16_layers" points=2
"""Configuration D: 13 named convolutions in five blocks, five poolings, fc1 and fc2."""
m = build_vgg16((32, 32, 1), kernel_size=3, activation="elu", width=1 / 16)
names = [layer.name for layer in m.layers]
convs = [n for n in names if "_conv" in n]
assert len(convs) == 13, f"expected 13 convolutions (2+2+3+3+3), found {len(convs)}: {convs}"
pools = [n for n in names if n.endswith("_pool")]
assert pools == [f"block{b}_pool" for b in range(1, 6)], f"expected block1_pool ... block5_pool, found {pools}"
filters = [m.get_layer(n).filters for n in convs]
assert filters == [4, 4, 8, 8, 16, 16, 16, 32, 32, 32, 32, 32, 32], f"expected filters 64..512 x width, got {filters}"
assert m.get_layer("fc1").units == 256, f"expected fc1 with 4096 x width = 256 units, got {m.get_layer('fc1').units}"
### BEGIN HIDDEN TESTS
assert all(m.get_layer(n).kernel_size == (3, 3) for n in convs), "every convolution uses kernel_size"
assert all(m.get_layer(n).padding == "same" for n in convs), "every convolution keeps the side"
assert sum(isinstance(layer, layers.Dropout) for layer in m.layers) == 2, "two dropout layers are part of VGG-16"
### END HIDDEN TESTS

# %% tests grade_id="test_vgg16_output" points=2
"""One float32 sigmoid probability per image; the hidden activation everywhere else."""
policy = keras.mixed_precision.dtype_policy()
keras.mixed_precision.set_dtype_policy("mixed_bfloat16")  # as on a CPU with native bf16
try:
    m = build_vgg16((32, 32, 1), kernel_size=3, activation="elu", width=1 / 16)
finally:
    keras.mixed_precision.set_dtype_policy(policy)
out = m(np.zeros((2, 32, 32, 1), "float32"))
assert tuple(out.shape) == (2, 1), f"expected output shape (2, 1), got {tuple(out.shape)}"
dtype = keras.backend.standardize_dtype(out.dtype)
assert dtype == "float32", f"expected a float32 output under mixed precision (dtype='float32' on predictions), got {dtype}"
assert m.get_layer("predictions").activation.__name__ == "sigmoid", "expected a sigmoid output layer"
used = {lay.activation.__name__ for lay in m.layers if getattr(lay, "activation", None)} - {"linear", "sigmoid"}
assert used == {"elu"}, f"expected the hidden activation 'elu' and no other, found {sorted(used)}"
### BEGIN HIDDEN TESTS
assert m.get_layer("fc2").activation.__name__ == "elu", "the dense hidden layers use the hidden activation too"
t = build_vgg16((32, 32, 1), activation="tanh", width=1 / 16)
assert {lay.activation.__name__ for lay in t.layers if getattr(lay, "activation", None)} >= {"tanh"}, \
    "the activation argument is used"
bn = build_vgg16((32, 32, 1), activation="sigmoid", width=1 / 16, batch_norm=True)
n_bn = sum(isinstance(layer, layers.BatchNormalization) for layer in bn.layers)
assert n_bn == 13, "batch_norm=True normalises after each of the convolutions"
assert float(np.min(bn(np.ones((2, 32, 32, 1), "float32")))) >= 0.0, "probabilities are not below 0"
### END HIDDEN TESTS

# %% tests grade_id="test_vgg16_parameters" points=3
"""Parameter counts follow k²·c_in·c_out + c_out per convolution and n_in·n_out + n_out per dense layer."""
small3 = build_vgg16((32, 32, 1), kernel_size=3, width=1 / 16).count_params()
assert small3 == 132_253, f"expected 132,253 parameters (3x3, width 1/16, 32x32x1 input), got {small3:,}"
small7 = build_vgg16((32, 32, 1), kernel_size=7, width=1 / 16).count_params()
assert small7 == 387_773, f"expected 387,773 parameters with 7x7 kernels, got {small7:,}"
wide = build_vgg16((64, 64, 1), kernel_size=3, width=1 / 8).count_params()
assert wide == 625_177, f"expected 625,177 parameters (64x64 input, width 1/8: flatten 2x2x64), got {wide:,}"
### BEGIN HIDDEN TESTS
import gc

full = build_vgg16((224, 224, 1), kernel_size=3)
assert full.count_params() == 134_263_489, "the full-size 3x3 network has the wrong parameter count"
assert tuple(full.get_layer("block5_pool").output.shape) == (None, 7, 7, 512), "full size: wrong shape before flatten"
del full
gc.collect()
keras.backend.clear_session()
### END HIDDEN TESTS

# %% tests grade_id="test_vgg16_bad_input" points=1
"""Unknown activations and kernel sizes, and inputs too small for five poolings, raise ValueError."""
for kwargs, allowed in ((dict(activation="swish"), "relu"), (dict(kernel_size=4), "7"),
                        (dict(input_shape=(16, 16, 1)), "32")):
    try:
        build_vgg16(**{"input_shape": (32, 32, 1), "width": 1 / 16, **kwargs})
    except ValueError as error:
        mine = allowed in str(error) and "MaxPooling2D" not in str(error)  # not Keras' own error
        assert mine, f"expected your own ValueError, raised before any layer, naming what is allowed ({allowed}); got: {error}"
    else:
        raise AssertionError(f"expected a ValueError that names what is allowed, for {kwargs}")
assert build_vgg16((32, 32, 1), kernel_size=7, activation="tanh", width=1 / 16).count_params() > 0
### BEGIN HIDDEN TESTS
try:
    build_vgg16((40, 24, 1), width=1 / 16)
except ValueError:  # rejected, as it should be
    pass
else:
    raise AssertionError("an input narrower than the minimum side in one direction is rejected")
### END HIDDEN TESTS

# %% [markdown]
# ## Compute the ROC curve and its area
#
# The network outputs a score s (the probability of "abnormal"). A threshold t calls every
# image with s ≥ t abnormal. Sweeping t from +∞ down past every distinct score traces the
# ROC curve: at each threshold, the **true positive rate** TPR = TP / positives and the
# **false positive rate** FPR = FP / negatives. It starts at (0, 0) (t = +∞: nothing is
# called abnormal) and ends at (1, 1).
#
# **Ties**: images with the same score cross the threshold together, so they make one
# point, not several — otherwise the curve's shape would depend on the order of the tied
# images. The area under the curve by the trapezoid rule then counts a tied
# (abnormal, normal) pair as half right: the AUC is the probability that a random abnormal
# image scores above a random normal one, ties counting ½.
#
# ### Exercise 2
#
# Implement `roc_curve_points`, returning `(fpr, tpr, thresholds)` as NumPy arrays exactly
# as `sklearn.metrics.roc_curve(y_true, y_score, drop_intermediate=False)` does: thresholds
# are `+inf` followed by the distinct scores in decreasing order. Raise `ValueError` when
# the labels are not 0/1 or when one class is missing (the curve is undefined). Do not call
# scikit-learn.

# %% solution grade_id="roc_curve_points"
def roc_curve_points(y_true, y_score):
    """ROC points (fpr, tpr, thresholds) for binary labels y_true and scores y_score."""
    ### BEGIN SOLUTION
    y = np.asarray(y_true, dtype=float).ravel()
    s = np.asarray(y_score, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"expected as many scores as labels, got {s.shape} and {y.shape}")
    found = set(np.unique(y).tolist())
    if not found <= {0.0, 1.0} or len(found) < 2:
        raise ValueError(f"expected binary labels with both classes 0 and 1, found {sorted(found)}")
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last image of each distinct score
    tps = np.cumsum(y)[last]
    fps = last + 1 - tps
    fpr = np.r_[0.0, fps / fps[-1]]
    tpr = np.r_[0.0, tps / tps[-1]]
    return fpr, tpr, np.r_[np.inf, s[last]]
    ### END SOLUTION

# %% [markdown]
# Four images, scores 0.9, 0.8, 0.8, 0.1 for labels 1, 0, 1, 0: the two tied images cross
# together, so the curve goes (0, 0) → (0, ½) → (½, 1) → (1, 1).

# %%
roc_curve_points([1, 0, 1, 0], [0.9, 0.8, 0.8, 0.1])

# %% tests grade_id="test_roc_curve_points" points=2
"""ROC points start at (0, 0), end at (1, 1), make one point per distinct score; bad labels raise."""
fpr, tpr, thr = roc_curve_points([1, 0, 1, 0], [0.9, 0.8, 0.8, 0.1])
assert len(fpr) == len(tpr) == 4 and np.allclose(fpr, [0, 0, 0.5, 1]) and np.allclose(tpr, [0, 0.5, 1, 1]), \
    f"expected fpr [0, 0, .5, 1] and tpr [0, .5, 1, 1] (tied scores make one point), got {fpr}, {tpr}"
assert len(thr) == 4 and thr[0] == np.inf and np.allclose(thr[1:], [0.9, 0.8, 0.1]), f"expected thresholds [inf, .9, .8, .1], got {thr}"
for bad in ([0, 0, 0], [0, 1, 2]):
    try:
        roc_curve_points(bad, [0.1, 0.2, 0.3])
    except ValueError:
        pass
    else:
        raise AssertionError(f"expected ValueError for labels {bad}: one class missing, or not binary")
### BEGIN HIDDEN TESTS
fpr, tpr, _ = roc_curve_points([True, False, True], [3, 1, 2])
assert np.allclose(tpr[-1], 1) and np.allclose(fpr[-1], 1), "boolean labels and integer scores are accepted"
### END HIDDEN TESTS

# %% tests grade_id="test_roc_matches_sklearn" points=2
"""On many tied scores the points equal sklearn's roc_curve(..., drop_intermediate=False)."""
from sklearn.metrics import roc_curve

rng = np.random.default_rng(0)
y = rng.integers(0, 2, 60)
s = np.round(rng.random(60) + 0.3 * y, 1)  # rounded: many ties
ref, mine = roc_curve(y, s, drop_intermediate=False), roc_curve_points(y, s)
for k, what in enumerate(("fpr", "tpr", "thresholds")):
    assert len(mine[k]) == len(ref[k]) and np.allclose(mine[k], ref[k]), \
        f"expected {what} as roc_curve(..., drop_intermediate=False) on tied scores: {ref[k][:6]}..., got {mine[k][:6]}..."
### BEGIN HIDDEN TESTS
for y, s in (([0, 1], [0.2, 0.7]), ([1, 0], [0.2, 0.7]), ([0, 1, 0, 1], [0.5] * 4),
             (rng.integers(0, 2, 500), rng.normal(size=500).astype("float32"))):
    ref = roc_curve(y, s, drop_intermediate=False)
    mine = roc_curve_points(np.asarray(y), np.asarray(s))
    assert all(len(a) == len(b) and np.allclose(a, b) for a, b in zip(mine, ref)), \
        "disagrees with an independent implementation on a small or perfect or all-tied case"
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3
#
# Implement `auc_trapezoid`: the area under the polyline through the points (fpr, tpr), by
# the trapezoid rule, as a Python `float`. Raise `ValueError` when the two arrays differ in
# length. Do not call `np.trapz`/`np.trapezoid` or scikit-learn.

# %% solution grade_id="auc_trapezoid"
def auc_trapezoid(fpr, tpr):
    """Area under the curve through (fpr[i], tpr[i]) by the trapezoid rule."""
    ### BEGIN SOLUTION
    x, y = np.asarray(fpr, dtype=float), np.asarray(tpr, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"expected fpr and tpr of equal length, got {x.shape} and {y.shape}")
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))
    ### END SOLUTION

# %%
auc_trapezoid(*roc_curve_points([1, 0, 1, 0], [0.9, 0.8, 0.8, 0.1])[:2])

# %% tests grade_id="test_auc_trapezoid" points=2
"""The trapezoid AUC counts a tied pair as ½ and equals roc_auc_score."""
from sklearn.metrics import roc_auc_score

value = auc_trapezoid([0, 0, 0.5, 1], [0, 0.5, 1, 1])
assert isinstance(value, float), f"expected a Python float, got {type(value).__name__}"
assert abs(value - 0.875) < 1e-12, f"expected 0.875 for the four-image example (the tied pair counts ½), got {value}"
assert abs(auc_trapezoid([0, 1], [0, 1]) - 0.5) < 1e-12, "expected 0.5 for the chance diagonal"
rng = np.random.default_rng(1)
y, s = rng.integers(0, 2, 80), np.round(rng.random(80), 1)
mine = auc_trapezoid(*roc_curve_points(y, s)[:2])
assert abs(mine - roc_auc_score(y, s)) < 1e-12, f"expected roc_auc_score = {roc_auc_score(y, s):.6f} on tied scores, got {mine:.6f}"
### BEGIN HIDDEN TESTS
assert abs(auc_trapezoid([0, 0, 1], [0, 1, 1]) - 1.0) < 1e-12, "a perfect curve has area 1"
assert abs(auc_trapezoid([0, 1, 1], [0, 0, 1])) < 1e-12, "an inverted curve has area 0"
y, s = rng.integers(0, 2, 400), rng.normal(size=400)
assert abs(auc_trapezoid(*roc_curve_points(y, s)[:2]) - roc_auc_score(y, s)) < 1e-12, "disagrees with a reference"
try:
    auc_trapezoid([0, 0.5, 1], [0, 1])
except ValueError:  # rejected, as it should be
    pass
else:
    raise AssertionError("arrays of different lengths are rejected")
### END HIDDEN TESTS

# %% [markdown]
# ## Measure the generalisation gap
#
# The paper reads overfitting from the distance between the two loss curves. Define the
# **generalisation gap** of a run as validation loss minus training loss, averaged over the
# last `window` epochs (one epoch is noisy). Positive means the network does better on the
# images it trained on. Keras logs the training loss as the mean over the epoch's batches,
# with dropout on and the weights still moving, so early in training the gap can even be
# negative.
#
# ### Exercise 4
#
# Implement `generalisation_gap(history, window)`. `history` is a Keras `History` or its
# `.history` dict (keys `"loss"` and `"val_loss"`); use all epochs when there are fewer
# than `window`. Return a Python `float`; raise `ValueError` when `window < 1`.

# %% solution grade_id="generalisation_gap"
def generalisation_gap(history, window=3):
    """Mean of (validation loss - training loss) over the last `window` epochs."""
    ### BEGIN SOLUTION
    if window < 1:
        raise ValueError(f"window must be at least 1 epoch, got {window}")
    logs = getattr(history, "history", history)
    loss = np.asarray(logs["loss"], dtype=float)[-window:]
    val_loss = np.asarray(logs["val_loss"], dtype=float)[-window:]
    return float(np.mean(val_loss - loss))
    ### END SOLUTION

# %%
generalisation_gap({"loss": [0.7, 0.5, 0.3, 0.2], "val_loss": [0.7, 0.6, 0.5, 0.5]}, window=2)

# %% tests grade_id="test_generalisation_gap" points=2
"""Validation minus training loss, averaged over the last `window` epochs."""
logs = {"loss": [0.7, 0.5, 0.3, 0.2], "val_loss": [0.7, 0.6, 0.5, 0.5]}
value = generalisation_gap(logs, window=2)
assert isinstance(value, float), f"expected a Python float, got {type(value).__name__}"
assert abs(value - 0.25) < 1e-12, f"expected (0.2 + 0.3) / 2 = 0.25: validation minus training over the last 2 epochs, got {value}"
assert abs(generalisation_gap(logs, window=10) - 0.15) < 1e-12, "expected the mean over all 4 epochs when window exceeds them"
### BEGIN HIDDEN TESTS
history = keras.callbacks.History()
history.history = {"loss": [1.0, 0.4], "val_loss": [0.8, 0.9], "val_accuracy": [0.1, 0.2]}
assert abs(generalisation_gap(history, window=1) - 0.5) < 1e-12, "a keras History object is accepted"
try:
    generalisation_gap(logs, window=0)
except ValueError:  # rejected, as it should be
    pass
else:
    raise AssertionError("a window of 0 epochs is rejected")
### END HIDDEN TESTS

# %% [markdown]
# ## Train the five runs
#
# The paper's two experiments share one run: 3x3-ReLU is the baseline of the kernel
# comparison (against 7x7-ReLU), and the activation comparison changes ReLU into Sigmoid,
# Tanh and ELU at 3x3. Each run starts from the same seed. Runs save their state every
# epoch (`keras.callbacks.BackupAndRestore`): after a disconnect, run the cell again and it
# resumes where it stopped; a finished run is reloaded, not retrained. (`smoke` and graded
# runs always start fresh.)

# %%
RUNS = {"3x3 ReLU": (3, "relu"), "7x7 ReLU": (7, "relu"), "3x3 Sigmoid": (3, "sigmoid"),
        "3x3 Tanh": (3, "tanh"), "3x3 ELU": (3, "elu")}
runs_folder = run_dir("05_vgg16_kernels_activations", cfg.profile)
runs_folder

# %%
repeat = cfg.steps_per_epoch is not None  # the paper's fixed steps: let the data repeat
train_ds = cxr_binary.make_dataset(splits["train"], cfg.image_size, cfg.batch_size,
                                   shuffle=True, repeat=repeat, seed=cfg.seed)
val_ds = cxr_binary.make_dataset(splits["validation"], cfg.image_size, cfg.batch_size,
                                 repeat=cfg.validation_steps is not None)

# %%
def train_run(name, kernel_size, activation):
    """Build, compile and train (or resume, or reload) one run; score the test split."""
    keras.utils.set_random_seed(cfg.seed)
    net = build_vgg16((cfg.image_size, cfg.image_size, 1), kernel_size, activation,
                      cfg.width, cfg.batch_norm, cfg.dropout)
    optimizer = keras.optimizers.get(cfg.optimizer)
    optimizer.learning_rate = cfg.learning_rate
    net.compile(optimizer=optimizer, loss="binary_crossentropy", jit_compile=info.jit_compile,
                run_eagerly=cfg.run_eagerly)
    folder = runs_folder / name.replace(" ", "_").lower()
    record = runs.fit_resumable(net, train_ds, val_ds, folder, cfg.epochs, cfg.steps_per_epoch,
                                cfg.validation_steps, verbose=2 if cfg.profile != "smoke" else 0)
    scores = np.concatenate([net(test_images[i : i + 256]) for i in range(0, len(test_images), 256)])
    return {**record, "model": net, "scores": scores.ravel(), "params": net.count_params()}

# %%
results = {}  # run name -> history, seconds, model, test scores, parameters
for name, (kernel_size, activation) in RUNS.items():
    results[name] = train_run(name, kernel_size, activation)
    r = results[name]
    print(f"{name}: {r['epochs']} epochs, {r['seconds']:.0f} s, final loss "
          f"{r['history']['loss'][-1]:.3f} / val {r['history']['val_loss'][-1]:.3f}")

# %% [markdown]
# ## Read the loss curves
#
# The paper's Fig. 3 puts 3x3 beside 7x7, its Fig. 4 Sigmoid, Tanh and ELU. Here all five
# runs share one y-axis. Look for: how fast the training loss falls, whether the validation
# loss follows, and how far apart the two curves end.

# %%
runs.plot_loss_grid({name: r["history"] for name, r in results.items()},
                    title=f"Train (solid) vs validation (dashed) loss, {cfg.profile} profile")
plt.show()

# %% [markdown]
# Your `generalisation_gap` per run, and the cost side: parameters and seconds per epoch
# (measured on this machine; the first epoch includes tracing the model).

# %%
gaps = {name: generalisation_gap(r["history"], cfg.gap_window) for name, r in results.items()}
epoch_seconds = {name: float(np.median(r["history"]["epoch_seconds"])) for name, r in results.items()}
for name, r in results.items():
    print(f"{name:12} gap {gaps[name]:+.3f}   {r['params']:>10,} parameters   "
          f"{epoch_seconds[name]:6.1f} s/epoch")

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3))
names = list(results)
axes[0].bar(names, [gaps[n] for n in names])
axes[0].set_title(f"generalisation gap (last {cfg.gap_window} epochs)")
axes[1].bar(names, [results[n]["params"] for n in names])
axes[1].set_title("parameters")
axes[2].bar(names, [epoch_seconds[n] for n in names])
axes[2].set_title("seconds per epoch (median)")
for ax in axes:
    ax.tick_params(axis="x", rotation=40)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Compare the ROC curves
#
# Score the held-out test split with every run and draw its ROC curve with your two
# functions. A single AUC hides how much it would move on other patients: the package
# resamples **patients** (not images — follow-ups of one patient are not independent) with
# replacement `cfg.bootstrap` times, recomputes the AUC with your functions each time, and
# reports the 2.5th and 97.5th percentiles as a 95 % interval.

# %%
def my_auc(y, s):
    """AUC by the trapezoid rule over your ROC points."""
    return auc_trapezoid(*roc_curve_points(y, s)[:2])


my_auc(test_labels, results["3x3 ELU"]["scores"])

# %%
curves = {}
for name, r in results.items():
    fpr, tpr, _ = roc_curve_points(test_labels, r["scores"])
    ci = roc.bootstrap_auc(test_labels, r["scores"], test_patients, my_auc, cfg.bootstrap, cfg.seed)
    curves[name] = {"fpr": fpr, "tpr": tpr, **ci}
    print(f"{name:12} AUC {ci['auc']:.3f}  95 % CI [{ci['low']:.3f}, {ci['high']:.3f}]")

# %%
roc.plot_roc_curves(curves, f"ROC on the test split ({cfg.profile}); paper's Fig. 5 in brackets",
                    paper=roc.PAPER_AUC)
plt.show()

# %% [markdown]
# ## Find out why Sigmoid fails
#
# A 16-layer network of sigmoids without normalisation may not learn at all. The sigmoid's
# slope is at most ¼ (at 0), and backpropagation multiplies one such factor per layer: after
# 15 layers the gradient reaching block 1 is shrunk by up to 4¹⁵ ≈ 10⁹. Its outputs are also
# all positive (mean about ½), which shifts every next layer's input. Tanh has slope 1 at 0
# and is centred; ReLU and ELU have slope 1 for positive inputs.
#
# Measure it: the gradient norm of the loss per block, on one batch, for freshly initialised
# networks (the same seed for all four activations).

# %%
batch_x = test_images[: cfg.gradient_images]
batch_y = test_labels[: cfg.gradient_images]
norms = {}
for activation in ("relu", "sigmoid", "tanh", "elu"):
    keras.utils.set_random_seed(cfg.seed)
    fresh = build_vgg16((cfg.image_size, cfg.image_size, 1), 3, activation, cfg.width, cfg.batch_norm)
    norms[activation] = runs.gradient_norms(fresh, batch_x, batch_y)

# %%
runs.plot_gradient_norms(norms)
plt.show()

# %%
{a: f"block1 / fc2 = {n['block1'] / max(n['fc2'], 1e-30):.1e}" for a, n in norms.items()}

# %% [markdown]
# Now the remedy the paper never mentions: batch normalisation re-centres and rescales each
# layer's input, so the sigmoid works near its steep middle again. Measure the same gradients
# with `batch_norm=True`:

# %%
keras.utils.set_random_seed(cfg.seed)
fresh = build_vgg16((cfg.image_size, cfg.image_size, 1), 3, "sigmoid", cfg.width, batch_norm=True)
norms_bn = {"sigmoid": norms["sigmoid"], "sigmoid + BN": runs.gradient_norms(fresh, batch_x, batch_y)}
runs.plot_gradient_norms(norms_bn, "Sigmoid without and with batch normalisation")
plt.show()

# %% [markdown]
# In the course's `cpu` run, 3x3-Sigmoid without normalisation stayed at chance (training
# loss 0.73, validation 0.69 = ln 2, test AUC 0.50 [0.46, 0.54]). At initialisation its
# first block received about 3·10⁻¹⁰ of the gradient of `fc2` (ReLU 9·10⁻³, Tanh and ELU
# about 0.3): block 1 does not move at all. The paper reports AUC 0.91 for Sigmoid; its
# setup is not described, so something (normalisation, a pretrained start, another
# initialisation, many more steps) must have differed. To train Sigmoid here, run the
# experiment again with `cfg = cfg.replace(batch_norm=True)` (it changes every run, as a
# fair comparison needs).
#
# Note ReLU's first block too: 9·10⁻³ of `fc2`. Keras initialises with Glorot-uniform,
# which halves the signal's variance at every ReLU layer; 3x3-ReLU needed four epochs to
# leave ln 2 in the `cpu` run, and 7x7-ReLU had not left it after eight. (He
# initialisation, `kernel_initializer="he_normal"`, was designed for exactly this.)

# %% [markdown]
# ## See where the networks look
#
# Grad-CAM weights the last convolutional block's channels (`block5_conv3`) by the mean
# gradient of the "abnormal" logit and keeps the positive part: a coarse map of what raised
# the score. The phantoms know where their lesions are, so score each map by the **pointing
# game**: a hit when the map's maximum falls inside a lesion box. Compare with chance: a
# point dropped at random lands in a box as often as the boxes cover the image.

# %%
abnormal = [i for i in np.flatnonzero(test_labels == 1) if splits["test"][i]["boxes"]]
abnormal = np.array(abnormal[: cfg.gradcam_images])  # abnormal test images with a lesion box
boxes = [splits["test"][i]["boxes"] for i in abnormal]
chance = gradcam.chance_rate(boxes)
len(abnormal), chance

# %%
hits = {name: gradcam.pointing_game(gradcam.grad_cam(r["model"], test_images[abnormal]), boxes)
        for name, r in results.items()}
{name: float(h.mean()) for name, h in hits.items()} | {"chance": chance}

# %% [markdown]
# The best and the worst run by test AUC, on the same six abnormal test images (green:
# lesion boxes; x: the map's peak):

# %%
best = max(curves, key=lambda n: curves[n]["auc"])
worst = min(curves, key=lambda n: curves[n]["auc"])
best, worst

# %%
show = abnormal[:6]
for name in (best, worst):
    maps = gradcam.grad_cam(results[name]["model"], test_images[show])
    labels = [" | ".join(splits["test"][i]["labels"])[:22] for i in show]
    gradcam.show_grad_cam(test_images[show], maps, [splits["test"][i]["boxes"] for i in show],
                          labels, suptitle=f"{name} (AUC {curves[name]['auc']:.3f})")
    plt.show()

# %% [markdown]
# Read the maps with care: `block5_conv3` has 1/16 of the input side (4x4 cells at 64 px,
# 14x14 at 224), so a peak is a cell, not a pixel; a network can score well by looking at
# context (the heart's size, the diaphragm) rather than at the box; and the phantom's boxes
# cover very different areas (an effusion's box is large, a nodule's tiny). A run that never
# learned has flat maps (its peak falls in a corner): it scores 0.
#
# In the course's `cpu` run the peak fell in a lesion box for 34 % of the abnormal test
# images with 3x3-ReLU, 21 % with ELU and 0.5 % with Tanh, against 9 % by chance. Tanh
# classifies almost perfectly (AUC 0.98) yet points elsewhere: Grad-CAM keeps the positive
# part of a weighted sum of activations, which suits non-negative (ReLU-like) features but
# not tanh's signed ones, and a good classifier may also use context. A high AUC does not
# say that a network looks at the lesion.

# %% [markdown]
# ## Fill in the table and compare with the paper
#
# One row per run, beside the paper's values (the paper gives AUCs for the three
# activations only, without intervals, and no loss values).

# %%
table = []
for name, r in results.items():
    c, h = curves[name], r["history"]
    table.append({"run": name, "kernel": RUNS[name][0], "activation": RUNS[name][1],
                  "auc": c["auc"], "auc_low": c["low"], "auc_high": c["high"],
                  "paper_auc": roc.PAPER_AUC.get(name, ""), "train_loss": h["loss"][-1],
                  "val_loss": h["val_loss"][-1], "gap": gaps[name], "epochs": r["epochs"],
                  "seconds": r["seconds"], "seconds_per_epoch": epoch_seconds[name],
                  "params": r["params"], "pointing_game": float(hits[name].mean())})
paths = write_table(table, f"05_vgg16_{cfg.profile}",
                    {"profile": cfg.profile, "config": cfg.as_dict(), "chance_hit_rate": chance})
paths

# %%
for row in table:
    print(f"{row['run']:12} AUC {row['auc']:.3f} [{row['auc_low']:.3f}, {row['auc_high']:.3f}]  "
          f"loss {row['train_loss']:.3f}/{row['val_loss']:.3f}  gap {row['gap']:+.3f}  "
          f"hits {row['pointing_game']:.2f}  {row['seconds']:.0f} s")

# %% [markdown]
# Each of the paper's claims, checked on this profile's runs. "Holds" needs the numbers to
# point the paper's way; a claim about overfitting cannot be tested on a run that never
# left chance (its AUC interval reaches 0.55), since a network that learned nothing has no
# gap to speak of. For AUC orderings the intervals say whether a difference is more than
# noise.

# %%
learned = {n: c["low"] > 0.55 for n, c in curves.items()}


def verdict(text, ok, needs=()):
    """Print one claim's verdict; `needs` lists the runs that must have learned."""
    stuck = [n for n in needs if not learned[n]]
    state = "NOT TESTABLE " if stuck else ("HOLDS        " if ok else "DOES NOT HOLD")
    print(f"{state}  {text}" + (f" ({', '.join(stuck)} stayed at chance)" if stuck else ""))

# %%
auc, low, high = ({n: c[k] for n, c in curves.items()} for k in ("auc", "low", "high"))
verdict("3x3 trains faster than 7x7 (seconds per epoch)", epoch_seconds["3x3 ReLU"] < epoch_seconds["7x7 ReLU"])
verdict("3x3 reaches a lower training loss than 7x7 in the same epochs",
        results["3x3 ReLU"]["history"]["loss"][-1] < results["7x7 ReLU"]["history"]["loss"][-1])
verdict("3x3 overfits less than 7x7 (smaller gap)", gaps["3x3 ReLU"] < gaps["7x7 ReLU"], ["3x3 ReLU", "7x7 ReLU"])
for other in ("3x3 Tanh", "3x3 Sigmoid"):
    verdict(f"ELU has a smaller gap than {other[4:]}", gaps["3x3 ELU"] < gaps[other], ["3x3 ELU", other])
verdict("AUC ELU > Tanh > Sigmoid", auc["3x3 ELU"] > auc["3x3 Tanh"] > auc["3x3 Sigmoid"])
verdict("ELU's AUC interval lies above Tanh's", low["3x3 ELU"] > high["3x3 Tanh"])
verdict("Tanh's AUC interval lies above Sigmoid's", low["3x3 Tanh"] > high["3x3 Sigmoid"])

# %%
show_metrics(f"05_vgg16_kernels_activations ({cfg.profile})",
             {**{f"AUC {n}": c["auc"] for n, c in curves.items()},
              **{f"AUC CI low {n}": c["low"] for n, c in curves.items()},
              **{f"AUC CI high {n}": c["high"] for n, c in curves.items()},
              **{f"gap {n}": g for n, g in gaps.items()},
              **{f"pointing game {n}": float(h.mean()) for n, h in hits.items() if len(h)},
              **({"pointing game chance": chance} if len(abnormal) else {}),  # no boxes: no score
              **{f"seconds {n}": r["seconds"] for n, r in results.items()}})

# %% [markdown]
# **What the course's `cpu` run showed** (64 px, width 1/8, about 1,800 training / 600
# validation / 600 test images, 8 epochs; your numbers will differ a little):
#
# | run | AUC [95 % CI] | train / val loss | gap | pointing game | seconds |
# |---|---|---|---|---|---|
# | 3x3 ReLU | 0.925 [0.905, 0.946] | 0.309 / 0.403 | −0.030 | 0.34 | 154 |
# | 7x7 ReLU | 0.500 [0.500, 0.500] | 0.693 / 0.693 | −0.000 | 0.00 | 488 |
# | 3x3 Sigmoid | 0.498 [0.460, 0.537] (paper 0.91) | 0.729 / 0.697 | −0.032 | 0.00 | 157 |
# | 3x3 Tanh | 0.984 [0.971, 0.994] (paper 0.976) | 0.106 / 0.121 | +0.007 | 0.01 | 158 |
# | 3x3 ELU | 0.990 [0.983, 0.996] (paper 0.996) | 0.081 / 0.159 | +0.054 | 0.21 | 270 |
#
# - *3x3 trains faster than 7x7*: holds — 20 against 58 s per epoch, and 3x3 left ln 2
#   after four epochs while 7x7 never did in eight.
# - *3x3 overfits less than 7x7*: not testable here — 7x7 learned nothing, so it has no gap.
# - *ELU has the smallest gap*: does not hold against Tanh (+0.054 against +0.007; ELU's
#   validation loss wobbles in its last epochs); not testable against Sigmoid.
# - *AUC ELU > Tanh > Sigmoid*: the order holds, but ELU's and Tanh's intervals overlap
#   (no evidence that ELU is better), and Sigmoid is at chance, not at 0.91.
#
# The seconds were measured on two cores shared with other jobs (load about 5; the five
# runs took 20.5 minutes, the whole notebook 22): ELU and Tanh cost the same per step, so
# their 270 and 158 s show the noise of a shared machine. On an idle laptop expect about
# half.
#
# **At the paper's scale** (`gpu`): VGG-16 at 224x224 costs about 31 GFLOP per image forward
# with 3x3 kernels and about 5 times the convolution work with 7x7 (the next cells count
# it). Training costs about three forward passes per image.

# %%
def vgg16_flops(side, kernel_size, width=1.0):
    """Forward FLOPs per image (a multiply-add counts 2) of the convolutions and dense layers."""
    total, channels = 0, 1
    for filters, convs in BLOCKS:
        for _ in range(convs):
            total += 2 * side * side * kernel_size**2 * channels * scaled(filters, width)
            channels = scaled(filters, width)
        side //= 2
    units = scaled(DENSE_UNITS, width)
    return total + 2 * (side * side * channels * units + units * units + units)

# %% [markdown]
# Check the formula against the FLOPs counted layer by layer on your profile's networks,
# then use it at the paper's scale.

# %%
for name in ("3x3 ReLU", "7x7 ReLU"):
    counted = runs.count_flops(results[name]["model"])
    print(f"{name}: counted {counted:,} FLOP/image, formula "
          f"{vgg16_flops(cfg.image_size, RUNS[name][0], cfg.width):,}")

# %%
paper_images = 100 * (94 * 64 * 3 + 25 * 64)  # 100 epochs: training (x3 for backward), validation
# Throughput assumed, not measured: mixed precision at about 25 % of the tensor-core peak.
for gpu, flops_per_second in (("T4", 65e12 * 0.25), ("A100", 312e12 * 0.25)):
    for k in (3, 7):
        hours = paper_images * vgg16_flops(224, k) / flops_per_second / 3600
        print(f"{gpu}: {k}x{k} run {vgg16_flops(224, k) / 1e9:.1f} GFLOP/image, about {hours:.1f} h (estimate)")

# %% [markdown] readonly grade_id="q_small_kernels"
# ### Exercise 5 (written)
#
# The paper found that 3x3 kernels train faster and overfit less than 7x7 kernels.
# (a) Two stacked 3x3 convolutions and three stacked 3x3 convolutions see how large a
# region of their input (receptive field)? (b) Compare the parameters of three 3x3
# convolutions with one 7x7 convolution from C to C channels, and say what else the stack
# adds. (c) Why would fewer parameters for the same receptive field reduce overfitting, and
# did your runs show it (use your gaps and intervals)?

# %% [markdown] manual grade_id="small_kernels" points=3
# === BEGIN MARK SCHEME ===
# (a) 5x5 and 7x7 (each 3x3 layer adds 2 to the side) (1). (b) 3·9·C² = 27C² against
# 49C², about 45 % fewer, plus two extra non-linearities between them (a more
# discriminative function for the same field) (1). (c) Fewer free parameters = a smaller
# hypothesis space / stronger built-in prior (locality, composition), so less capacity to
# memorise the training images; also less compute per step so more steps per hour. States
# their own 3x3 vs 7x7 gaps and whether the difference exceeds run-to-run noise / the AUC
# intervals overlap; accepts "did not hold here" when argued from the numbers (1).
# === END MARK SCHEME ===
#
# YOUR ANSWER HERE

# %% [markdown] readonly grade_id="q_elu"
# ### Exercise 6 (written)
#
# (a) Using your gradient-norm plot, explain why 3x3-Sigmoid trains so differently from the
# other runs, and compare your Sigmoid AUC with the paper's 0.91. (b) Give two properties of
# ELU that help a deep network train compared with Sigmoid and Tanh (and one compared with
# ReLU). (c) The paper concludes that ELU "prevents overfitting" from one run per
# activation. What would you need to show before believing it?

# %% [markdown] manual grade_id="elu_and_sigmoid" points=3
# === BEGIN MARK SCHEME ===
# (a) Sigmoid's slope ≤ ¼ multiplies the gradient at every layer, so early blocks get
# gradients orders of magnitude smaller (their plot: block1 ≪ fc2) and outputs are
# not zero-centred; without normalisation the network stays near ln 2 loss / AUC 0.5 in
# their run, unlike the paper's 0.91, so the paper's setup must have differed (BN,
# pretraining, longer training...) (1). (b) ELU: identity for x > 0 (slope 1, no
# saturation for positive inputs, gradients pass through many layers) and smooth negative
# outputs that push mean activations toward 0 (less bias shift, as tanh but without
# saturating for x > 0); versus ReLU, no dead units (non-zero gradient for x < 0) (1).
# (c) Several seeds per setting with the spread, a held-out test with CIs, gaps measured
# at equal training loss / over the same epochs, the same data and budget for all
# activations; a difference larger than the seed-to-seed variation (1).
# === END MARK SCHEME ===
#
# YOUR ANSWER HERE

# %% [markdown]
# ## Key points
#
# - VGG-16 is five blocks of 3x3 convolutions and 2x2 poolings, then 4096-4096-1 dense
#   layers; with a 1-channel 224² input it has 134,263,489 parameters (199,638,209 with 7x7
#   kernels), 103 million of them in `fc1`.
# - Stacked small kernels see as far as one large kernel with fewer parameters, less
#   compute and more non-linearities.
# - An ROC curve has one point per distinct score; its trapezoid area is the probability
#   that an abnormal image outscores a normal one, ties counting ½.
# - A single AUC needs an interval; resample patients, not images.
# - Deep sigmoid networks without normalisation have vanishing gradients; check gradient
#   norms per block before blaming the data. State what the paper left open (optimiser,
#   normalisation, steps) and decide it explicitly.
# - Grad-CAM and the pointing game test whether a good AUC comes from the lesion or from
#   somewhere else.
#
# ## Further reading
#
# - Simonyan, Zisserman (2015). [Very deep convolutional networks for large-scale image
#   recognition](https://arxiv.org/abs/1409.1556).
# - Clevert, Unterthiner, Hochreiter (2016). [Fast and accurate deep network learning by
#   exponential linear units (ELUs)](https://arxiv.org/abs/1511.07289).
# - Glorot, Bengio (2010). [Understanding the difficulty of training deep feedforward
#   neural networks](https://proceedings.mlr.press/v9/glorot10a.html).
# - Fawcett (2006). [An introduction to ROC analysis](https://doi.org/10.1016/j.patrec.2005.10.010).
# - Selvaraju et al. (2017). [Grad-CAM: visual explanations from deep networks via
#   gradient-based localization](https://arxiv.org/abs/1610.02391).
# - Zhang et al. (2018). [Top-down neural attention by excitation
#   backprop](https://arxiv.org/abs/1608.00507) (the pointing game).
