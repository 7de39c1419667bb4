# %% [markdown]
# # Set up the course and read your first CT slice
#
# Check that your environment works, warm up with Keras, and turn the stored numbers of a
# real DICOM CT slice into Hounsfield units and a displayable window.
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({{ colab_url }})
# [![View the repository](https://img.shields.io/badge/GitHub-medganlab-blue?logo=github)]({{ repository_url }})

# %% [markdown]
# **What you'll do** (about 100 minutes)
#
# | Section | Teaching | Exercises |
# |---|---|---|
# | Set up and check the run profile | 5 min | — |
# | Warm up with Keras | 10 min | — |
# | Read a DICOM CT slice | 5 min | — |
# | Convert stored values to Hounsfield units | 5 min | 10 min |
# | Window the image for display | 5 min | 10 min |
# | Compare a soft-tissue and a lung window | 5 min | 5 min |
# | Tour the chest X-ray phantom | 10 min | 15 min |
# | Tour the kidney CT phantom | 10 min | 5 min |
#
# **What you'll learn**
#
# - how the course sizes every run with one switch, the *run profile*;
# - how a Keras model is built, trained with `fit()` and checked with a loss curve;
# - what a DICOM file stores, and how `RescaleSlope` and `RescaleIntercept` give Hounsfield units (HU);
# - how a window (width *W*, level *L*) maps HU to the range `[-1, 1]` that the course's networks use;
# - what the course's two data sets look like: chest radiographs with eight findings at NIH's
#   (very unequal) prevalence, and kidney-tumour CT volumes with KiTS19's labels.
#
# **What you'll need**: Python and NumPy; no medical background. Every file you read here is
# generated or ships with the course's libraries: nothing is downloaded.

# %% [markdown]
# ## Setup
#
# On Colab, the next cell installs the course package (Colab already has TensorFlow).
# Everywhere else it does nothing: `make setup` installed everything.

# %%
import sys

if "google.colab" in sys.modules:
    # %pip install --quiet "medganlab @ git+{{ repository_url }}@{{ course_ref }}"
    pass

# %% [markdown]
# Import what this notebook uses.

# %%
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pydicom
from pydicom.data import get_testdata_file

import medganlab
from medganlab.data import catalog, cxr_phantom, dicom, kits, nih
from medganlab.plotting import plot_history, show_images
from medganlab.report import show_metrics

# %% [markdown]
# Let `medganlab.setup()` seed every random generator, pick the device and the numeric
# precision, and print what it chose; then import Keras. Only the Keras warm-up needs them (the
# autograder skips the cells tagged `medganlab-skip` unless your answers use what they define).

# %% tags=["medganlab-skip"]
info = medganlab.setup()

import keras
from keras import layers

# %% [markdown]
# ## Configuration
#
# Every number this notebook uses comes from one place. The *profile* decides the sizes:
# `smoke` runs in seconds (CI and autograding), `cpu` in minutes on a laptop, `gpu` at the
# papers' scale. Set `MEDGANLAB_PROFILE` before starting Jupyter to choose one.

# %%
cfg = medganlab.profile_for("00_setup_and_data")
cfg

# %% [markdown]
# ## Warm up with Keras
#
# Before any GAN, train the smallest useful network: a classifier that separates two
# interleaved spirals. Make the data first.


# %%
def make_spirals(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals in 2-D with labels 0 and 1."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.25, 3.0 * np.pi, size=n)
    label = rng.integers(0, 2, size=n)
    angle = t + np.pi * label
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1) / (3 * np.pi)
    return (x + rng.normal(0, 0.02, x.shape)).astype("float32"), label.astype("float32")


x_train, y_train = make_spirals(cfg.warmup_samples, cfg.seed)
x_train.shape, y_train.mean()

# %%
plt.figure(figsize=(3.5, 3.5))
plt.scatter(x_train[:, 0], x_train[:, 1], c=y_train, s=4, cmap="coolwarm")
plt.title("Two spirals")
plt.axis("equal")
plt.show()

# %% [markdown]
# Build a small multilayer perceptron with the functional API: two inputs, two hidden
# layers, one sigmoid output. The last layer computes in `float32`, which keeps the loss
# exact even when the rest of the model runs in mixed precision.

# %% tags=["medganlab-skip"]
inputs = keras.Input(shape=(2,))
h = layers.Dense(64, activation="relu")(inputs)
h = layers.Dense(64, activation="relu")(h)
outputs = layers.Dense(1, activation="sigmoid", dtype="float32")(h)
warmup_model = keras.Model(inputs, outputs, name="spiral_classifier")
warmup_model.summary()

# %% [markdown]
# Train it with `fit()`. `verbose=2` prints one line per epoch, which keeps logs short.

# %% tags=["medganlab-skip"]
warmup_model.compile(
    optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=["accuracy"]
)
history = warmup_model.fit(
    x_train,
    y_train,
    batch_size=cfg.batch_size,
    epochs=cfg.warmup_epochs,
    validation_split=0.2,
    verbose=2,
)

# %% tags=["medganlab-skip"]
plot_history(history, keys=["loss", "val_loss"], title="Spiral classifier: loss")
plt.show()

# %% [markdown]
# In the `cpu` and `gpu` profiles the validation accuracy climbs above 0.9; the `smoke`
# profile trains for two epochs only, to prove the code runs.

# %% tags=["medganlab-skip"]
show_metrics(
    "Keras warm-up",
    {"epochs": cfg.warmup_epochs, "val_accuracy": history.history["val_accuracy"][-1]},
)

# %% [markdown]
# ## Read a DICOM CT slice
#
# DICOM is the file format of medical images: a header of tagged attributes plus pixel
# data. pydicom ships a real, anonymised CT slice for its tests; read it.

# %%
ct_path = get_testdata_file("CT_small.dcm")
ct = pydicom.dcmread(ct_path)
for keyword in [
    "Modality",
    "Rows",
    "Columns",
    "PixelSpacing",
    "SliceThickness",
    "BitsStored",
    "PixelRepresentation",
    "RescaleSlope",
    "RescaleIntercept",
]:
    print(f"{keyword:>20}: {ct.get(keyword)}")

# %% [markdown]
# The pixel data holds *stored values*, integers whose meaning depends on the scanner. Look
# at their range: they are not yet Hounsfield units.

# %%
stored = ct.pixel_array
stored.dtype, stored.min(), stored.max()

# %% [markdown]
# ## Convert stored values to Hounsfield units
#
# CT measures X-ray attenuation relative to water. The Hounsfield scale fixes water at 0 HU
# and air at −1000 HU; fat is about −100, soft tissue 10–80, bone several hundred to 1000+.
# DICOM stores a linear rescale: `HU = stored × RescaleSlope + RescaleIntercept`.
#
# ### Exercise 1
#
# Implement `stored_to_hu`. Return `float32` values, and make sure the multiplication cannot
# overflow the integer type of the input (cast before you compute).


# %% solution grade_id="stored_to_hu"
def stored_to_hu(stored: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    """Convert DICOM stored values to Hounsfield units (float32, same shape)."""
    ### BEGIN SOLUTION
    hu = np.asarray(stored).astype(np.float32) * np.float32(slope) + np.float32(intercept)
    return hu
    ### END SOLUTION


# %% tests grade_id="test_stored_to_hu" points=3
"""stored_to_hu applies HU = stored * slope + intercept, in float32, without overflow."""
got = stored_to_hu(np.array([[0, 1024], [2048, 24]], dtype=np.uint16), 1.0, -1024.0)
assert got.shape == (2, 2), f"expected shape (2, 2), got {got.shape}"
assert got.dtype == np.float32, f"expected dtype float32, got {got.dtype}"
assert np.allclose(got, [[-1024, 0], [1024, -1000]]), f"HU = stored * slope + intercept: expected [[-1024, 0], [1024, -1000]], got {got.tolist()}"
try:  # int16 stored values, integer slope: 32767 * 2 does not fit in int16
    big = stored_to_hu(np.array([30000, 32767], dtype=np.int16), 2, -1024)
except OverflowError as error:
    raise AssertionError(f"integer overflow ({error}): cast to float32 before you multiply") from None
assert np.allclose(big, [58976, 64510]), (
    f"int16 values [30000, 32767], slope 2, intercept -1024: expected [58976, 64510], got {big.tolist()}"
    " (integer overflow: cast to float32 before you multiply)")
### BEGIN HIDDEN TESTS
big = stored_to_hu(np.array([30000, 32767], dtype=np.int16), 2.0, -1024.0)
assert np.allclose(big, [58976, 64510]), "large stored values must not overflow"
assert np.allclose(stored_to_hu(np.array([10, 20]), 0.5, 3.0), [8.0, 13.0]), (
    "the slope must multiply the stored value before the intercept is added"
)
from pydicom.pixels import apply_modality_lut

reference = apply_modality_lut(ct.pixel_array, ct)
assert np.allclose(stored_to_hu(ct.pixel_array, ct.RescaleSlope, ct.RescaleIntercept), reference), (
    "the CT slice converted to HU differs from the DICOM standard"
)
### END HIDDEN TESTS

# %% [markdown]
# Convert the slice and look at its histogram: the peak near −1000 is the air around the
# patient; the soft-tissue peak lies near +40 HU.

# %%
hu = stored_to_hu(ct.pixel_array, ct.RescaleSlope, ct.RescaleIntercept)
plt.figure(figsize=(6, 3))
plt.hist(hu.ravel(), bins=100, color="0.3")
plt.xlabel("Hounsfield units")
plt.ylabel("pixels")
plt.show()

# %% [markdown]
# ## Window the image for display
#
# A screen shows about 256 grey levels; CT spans more than 4000 HU. A *window* of width `W`
# centred on level `L` maps `[L − W/2, L + W/2]` to the full grey range and clips the rest.
# The course feeds networks values in `[-1, 1]`, so the window maps to that range.
#
# ### Exercise 2
#
# Implement `window_to_unit`: clip `hu` to the window, then map it linearly so the lower edge
# gives −1, the level gives 0 and the upper edge gives +1. Return `float32`. A width that is
# not positive is not a window: raise `ValueError`.


# %% solution grade_id="window_to_unit"
def window_to_unit(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """Clip HU to the window [center - width/2, center + width/2] and map it to [-1, 1]."""
    ### BEGIN SOLUTION
    if width <= 0:
        raise ValueError(f"window width must be positive, got {width}")
    low = center - width / 2.0
    high = center + width / 2.0
    clipped = np.clip(np.asarray(hu, dtype=np.float32), low, high)
    return (2.0 * (clipped - low) / (high - low) - 1.0).astype(np.float32)
    ### END SOLUTION


# %% tests grade_id="test_window_to_unit" points=3
"""window_to_unit maps the soft-tissue window W400/L0 onto [-1, 1] and clips outside it."""
inside = window_to_unit(np.array([-200.0, -100.0, 0.0, 100.0, 200.0]), 0.0, 400.0)
assert inside.dtype == np.float32, f"expected dtype float32, got {inside.dtype}"
assert np.allclose(inside, [-1.0, -0.5, 0.0, 0.5, 1.0]), (
    f"W400/L0 spans -200..200 HU: lower edge -1, level 0, upper edge +1 (the range [-1, 1]); "
    f"for [-200, -100, 0, 100, 200] expected [-1, -0.5, 0, 0.5, 1], got {inside.tolist()}")
outside = window_to_unit(np.array([-1000.0, 1000.0]), 0.0, 400.0)
assert np.allclose(outside, [-1.0, 1.0]), f"clip outside the window: expected [-1, 1], got {outside.tolist()}"
try:
    window_to_unit(np.zeros(3), 40.0, 0.0)
except ValueError:
    pass
else:
    raise AssertionError("a window of width 0 is not a window: raise ValueError")
### BEGIN HIDDEN TESTS
lung = window_to_unit(np.array([[-1350.0, -600.0], [150.0, -975.0]]), -600.0, 1500.0)
assert lung.shape == (2, 2), "the window must keep the input's shape"
assert np.allclose(lung, [[-1.0, 0.0], [1.0, -0.5]]), "a lung window W1500/L-600 is mapped wrongly"
sweep = window_to_unit(np.linspace(-500, 500, 101), 40.0, 80.0)
assert np.all(np.diff(sweep) >= 0) and sweep.min() == -1.0 and sweep.max() == 1.0, (
    "a window must be monotonic and reach exactly -1 and +1"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Compare a soft-tissue and a lung window
#
# Show the same slice through the soft-tissue window (W400/L0, the window of the kidney
# segmentation paper) and a lung window (W1500/L−600).

# %%
soft = window_to_unit(hu, center=0, width=400)
lung = window_to_unit(hu, center=-600, width=1500)
show_images([soft, lung], ["soft tissue W400/L0", "lung W1500/L-600"], vmin=-1, vmax=1)
plt.show()

# %%
show_metrics(
    "CT_small.dcm",
    {
        "HU min": float(hu.min()),
        "HU max": float(hu.max()),
        "fraction inside W400/L0": float(np.mean(np.abs(hu) <= 200)),
    },
)

# %% [markdown] readonly grade_id="q_explain_windows"
# ### Exercise 3 (written)
#
# In two or three sentences: which structures can you tell apart in the soft-tissue window
# but not in the lung window, and why does a window that is narrower show more contrast?

# %% [markdown] manual grade_id="explain_windows" points=2
# === BEGIN MARK SCHEME ===
# Soft-tissue window separates fat (−100), fluid/muscle (10–50) and enhanced organs
# (60–200): they span many grey levels. In the lung window the same 300 HU range covers only
# about 50 grey levels, so they look alike; air-filled lung, in turn, is only visible in the
# lung window. Contrast per HU is 2/W: halving W doubles it (1 mark each point).
# === END MARK SCHEME ===
#
# YOUR ANSWER HERE

# %% [markdown]
# ## Tour the chest X-ray phantom
#
# The chest X-ray paper trained on NIH ChestX-ray14 (112,120 radiographs). The course cannot
# ship it, so it *generates* a stand-in: PA radiographs formed as X-ray attenuation through a
# body with lungs, heart, ribs and diaphragm, with the eight findings drawn from their
# radiographic signs, written in NIH's folder layout. The first call makes the set; later calls
# reuse it. (To use the real data, set `MEDGANLAB_CXR_ROOT` to a ChestX-ray14 folder.)

# %%
cxr_root = catalog.cxr_dataset(n=cfg.cxr_images, size=cfg.cxr_size, seed=cfg.seed)
print(nih.describe(cxr_root))

# %% [markdown]
# Look at one patient with each finding. Find the sign: the heart wider than half the chest
# (Cardiomegaly), the meniscus at the lung base (Effusion), the pleural line with no vessels
# beyond it (Pneumothorax), a round opacity over 3 cm (Mass) or under (Nodule).

# %%
names = ["No Finding", *cxr_phantom.FINDINGS]
gallery = [cxr_phantom.render_case(cfg.seed, [] if n == "No Finding" else [n], size=cfg.cxr_size)
           for n in names]
show_images([case.image for case in gallery], names, ncols=5, size=2.6)
plt.show()

# %% [markdown]
# Browse patients yourself: choose a finding and a seed (each seed is a different patient).

# %%
def show_patient(finding="Effusion", seed=0):
    case = cxr_phantom.render_case(seed, [] if finding == "No Finding" else [finding], size=256)
    show_images([case.image], [f"{finding} (CTR {case.meta['ctr']:.2f})"], size=4.5)
    plt.show()


widgets.interact(show_patient, finding=names, seed=(0, 99))

# %% [markdown]
# The labels follow NIH's prevalence. Count them: most radiographs show no finding and the
# rarest finding is about 14 times rarer than the commonest. A classifier trained on such data
# sees few examples of the rare findings — the problem this course's GANs try to relieve.

# %%
counts = nih.dataset_info(cxr_root)["counts"]
plt.figure(figsize=(8, 3))
plt.bar(list(counts), list(counts.values()), color=["0.6"] + ["C0"] * 8)
plt.xticks(rotation=40, ha="right")
plt.ylabel("images")
plt.title("Labels in the phantom set (NIH prevalence)")
plt.show()

# %% [markdown]
# The labels live in `Data_Entry_2017.csv`, with the real file's columns; an image can carry
# several findings, separated by `|`.

# %%
print("\n".join((cxr_root / "Data_Entry_2017.csv").read_text().splitlines()[:5]))

# %% [markdown]
# ### Exercise 4: the cardiothoracic ratio
#
# Radiologists call the heart enlarged when the *cardiothoracic ratio* (CTR) — the widest
# horizontal extent of the heart divided by the widest horizontal extent of the thorax
# (outer edge of the right lung to outer edge of the left) — exceeds 0.5.
#
# Implement `cardiothoracic_ratio(heart_mask, lung_mask)` for boolean masks of shape
# `(rows, columns)`: in each row, a mask's extent is `last column − first column + 1`; take the
# widest row of each mask (they need not be the same row).

# %% solution grade_id="cardiothoracic_ratio"
def cardiothoracic_ratio(heart_mask: np.ndarray, lung_mask: np.ndarray) -> float:
    """Widest horizontal extent of the heart over the widest extent of the lungs."""
    ### BEGIN SOLUTION
    def widest(mask: np.ndarray) -> int:
        best = 0
        for row in np.asarray(mask, dtype=bool):
            columns = np.flatnonzero(row)
            if columns.size:
                best = max(best, int(columns[-1] - columns[0] + 1))
        return best

    thorax = widest(lung_mask)
    if thorax == 0:
        raise ValueError("the lung mask is empty")
    return widest(heart_mask) / thorax
    ### END SOLUTION

# %% tests grade_id="test_cardiothoracic_ratio" points=3
"""The CTR is the widest heart row over the widest lung row (first to last column)."""
lungs = np.zeros((6, 10), bool)
lungs[1, 1:9] = True  # 8 wide
lungs[3, [0, 9]] = True  # two separate lungs in one row still span 10 columns
heart = np.zeros((6, 10), bool)
heart[4, 3:7] = True  # 4 wide
ratio = cardiothoracic_ratio(heart, lungs)
assert np.isclose(ratio, 0.4), (f"heart width / thorax width (widest horizontal extents): expected 4 / 10 = 0.4, got {ratio:.3f} "
                                "(a row's extent is last column - first column + 1, gaps included)")
heart[2, 1:5] = True  # a second row, 4 wide, shifted left: the whole mask spans 1..6
ratio = cardiothoracic_ratio(heart, lungs)
assert np.isclose(ratio, 0.4), (f"heart rows at columns 1-4 and 3-6: the widest row is 4 wide, the whole "
                                f"mask 6; expected 4 / 10 = 0.4, got {ratio:.3f}")
tall = np.tile(np.arange(10) == 5, (6, 1))  # one column wide, six rows tall
ratio = cardiothoracic_ratio(tall, lungs)
assert np.isclose(ratio, 0.1), f"a heart 1 column wide and 6 rows tall is 1 wide (horizontal extent): expected 0.1, got {ratio:.3f}"
### BEGIN HIDDEN TESTS
case = cxr_phantom.render_case(3, ["Cardiomegaly"], size=128, masks=True)
measured = cardiothoracic_ratio(case.masks["heart"], case.masks["lungs"])
assert abs(measured - case.meta["ctr"]) < 0.02, "the phantom's recorded CTR is measured the same way"
assert measured > 0.5, "a Cardiomegaly case must measure above 0.5"
normal = cxr_phantom.render_case(3, [], size=128, masks=True)
assert cardiothoracic_ratio(normal.masks["heart"], normal.masks["lungs"]) < 0.5, \
    "a normal heart measures below 0.5"
### END HIDDEN TESTS

# %% [markdown]
# Check your function on the phantom's masks: normals below 0.5, cardiomegaly above.

# %%
for seed in range(3):
    for finding in [[], ["Cardiomegaly"]]:
        case = cxr_phantom.render_case(seed, finding, size=128, masks=True)
        ratio = cardiothoracic_ratio(case.masks["heart"], case.masks["lungs"])
        print(f"patient {seed}, {finding[0] if finding else 'normal':>12}: CTR {ratio:.3f}")

# %% [markdown]
# ## Tour the kidney CT phantom
#
# The kidney-tumour paper used KiTS19: arterial-phase abdominal CT with labels 0 background,
# 1 kidney, 2 tumour. The course's phantom writes the same things — a DICOM CT series per
# patient plus a label volume — from a 3-D model of the upper abdomen. (To use real KiTS19,
# set `MEDGANLAB_CT_ROOT` to its folder.)

# %%
ct_root = catalog.ct_dataset(cases=cfg.ct_cases, size=cfg.ct_size, seed=cfg.seed,
                             slice_thickness_mm=cfg.ct_slice_thickness_mm)
print(kits.describe(ct_root))

# %% [markdown]
# Read one patient's series. The package's reader does what you did by hand above — stored
# values to HU — for every slice, and sorts the slices by their position in the patient.

# %%
volume, spacing, series = dicom.read_ct_series(ct_root / "case_00000" / "dicom")
labels = kits.load_labels(ct_root / "case_00000")
print(f"volume {volume.shape} (slices, rows, columns); voxel {spacing} mm")

# %% [markdown]
# Browse the volume. Move through the slices and change the window: W400/L0 shows the kidneys'
# bright cortex and darker medulla; W1500/L300 shows bone. Red is kidney, yellow tumour.

# %%
def show_ct_slice(index=len(volume) // 2, center=0, width=400):
    plt.figure(figsize=(4.5, 4.5))
    plt.imshow(window_to_unit(volume[index], center, width), cmap="gray", vmin=-1, vmax=1)
    plt.imshow(np.ma.masked_equal(labels[index], 0), cmap="autumn", alpha=0.35, vmin=1, vmax=2)
    plt.axis("off")
    plt.show()


widgets.interact(show_ct_slice, index=(0, len(volume) - 1), center=(-200, 400, 10),
                 width=(50, 2000, 50))

# %% [markdown]
# ### Exercise 5: Hounsfield units per label
#
# Implement `hu_per_label(volume, labels)`: for every label value present, return its median
# HU and its 5th and 95th percentiles as a tuple `(median, p5, p95)` of floats, in a dict keyed
# by the label (an `int`).

# %% solution grade_id="hu_per_label"
def hu_per_label(volume: np.ndarray, labels: np.ndarray) -> dict[int, tuple[float, float, float]]:
    """Median, 5th and 95th percentile of HU for each label value present."""
    ### BEGIN SOLUTION
    if volume.shape != labels.shape:
        raise ValueError(f"volume {volume.shape} and labels {labels.shape} differ in shape")
    table = {}
    for value in np.unique(labels):
        voxels = volume[labels == value]
        table[int(value)] = tuple(float(v) for v in np.percentile(voxels, [50, 5, 95]))
    return table
    ### END SOLUTION

# %% tests grade_id="test_hu_per_label" points=3
"""hu_per_label summarises the HU of each label present: (median, p5, p95)."""
vol = np.array([[0.0, 10.0, 200.0], [100.0, 200.0, 300.0]])
lab = np.array([[0, 0, 0], [1, 1, 1]])
table = hu_per_label(vol, lab)
assert sorted(table) == [0, 1], f"expected labels [0, 1], got {sorted(table)}"
assert all(type(k) is int for k in table), f"keys must be plain Python ints, got {[type(k).__name__ for k in table]}"
assert np.isclose(table[0][0], 10.0), (f"label 0 holds [0, 10, 200]: its median is 10 (the mean, 70, "
                                       f"follows the outlier), got {table[0][0]}")
assert np.allclose(table[1], [200.0, 110.0, 300.0 - 10.0]), (
    f"label 1 holds [100, 200, 300]: expected (median, 5th percentile, 95th percentile) = "
    f"(200, 110, 290) with numpy's linear percentiles, got {table[1]}")
### BEGIN HIDDEN TESTS
table = hu_per_label(volume, labels)
assert all(isinstance(k, int) for k in table), "keys must be plain ints"
assert set(table) == set(np.unique(labels).tolist()), "one entry per label present"
assert np.isclose(table[1][0], np.median(volume[labels == 1])), "kidney median is wrong"
assert table[1][0] > 100 > table[0][0], "enhanced kidney must be brighter than the background"
### END HIDDEN TESTS

# %%
{label: tuple(round(v) for v in stats) for label, stats in hu_per_label(volume, labels).items()}

# %% [markdown]
# Kidney voxels are bright (corticomedullary phase: cortex 170–200 HU, medulla 90–130 HU);
# tumour (renal cell carcinoma) enhances less and has a necrotic core near 20 HU.
# When the course trains on slices, it always splits by **patient**: slices of one patient are
# nearly identical, so a slice-level split would put the same kidney in training and test.

# %% [markdown]
# ## Key points
#
# - One configuration cell, `cfg = medganlab.profile_for(...)`, sizes every run; the code is
#   the same in the `smoke`, `cpu` and `gpu` profiles.
# - A Keras model is built with the functional API, trained with `fit()` and judged by its
#   loss curves, never by one number.
# - DICOM pixel data are stored values: `HU = stored × slope + intercept` gives physics.
# - A window `W/L` chooses which tissues get contrast; the course maps it to `[-1, 1]`.
# - The chest X-ray data are imbalanced like NIH ChestX-ray14: most images are normal and
#   Pneumonia is rare — the problem the course's GANs try to relieve.
# - Medical data are split by patient, never by image or slice, or the test set leaks.
#
# ## Further reading
#
# - [DICOM standard, Part 3, C.11.1: Modality LUT](https://dicom.nema.org/medical/dicom/current/output/chtml/part03/sect_C.11.html)
# - [pydicom user guide](https://pydicom.github.io/pydicom/stable/)
# - [Keras: the functional API](https://keras.io/guides/functional_api/)
# - Wang et al. (2017). [ChestX-ray8](https://arxiv.org/abs/1705.02315): the NIH data set the
#   chest X-ray phantom stands in for.
# - Heller et al. (2019). [The KiTS19 challenge data](https://arxiv.org/abs/1904.00445).
# - `datasets/cxr_phantom.md` and `datasets/kidney_ct_phantom.md`: how the phantoms are made.
# - Hounsfield, G. N. (1973). Computerized transverse axial scanning. *Br J Radiol* 46.
