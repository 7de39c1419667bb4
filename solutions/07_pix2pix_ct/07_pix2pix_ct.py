# %% [markdown]
# # Translate kidney label maps into CT slices with Pix2Pix
#
# Train Pix2Pix (Isola et al. 2017) to turn a kidney/tumour label map into an abdominal CT
# slice, measure how close the synthetic slices come to real ones, and write the synthetic
# training set that notebook 08 adds to its segmenters — the pipeline of the KiTS
# augmentation paper (Choe et al. 2023).
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({{ colab_url }})
# [![View the repository](https://img.shields.io/badge/GitHub-medganlab-blue?logo=github)]({{ repository_url }})

# %% [markdown]
# **What you'll do** (about 130 minutes)
#
# | Section | Teaching | Exercises |
# |---|---|---|
# | Load the kidney CT slices and split by patient | 10 min | — |
# | Choose the condition | 5 min | — |
# | Read the U-Net generator | 10 min | — |
# | Build the PatchGAN discriminator | 10 min | 15 min |
# | Write the losses | 10 min | 10 min |
# | Write the train step | 5 min | 15 min |
# | Train, and watch the triptychs | 5 min | — |
# | Measure the synthetic slices | 10 min | — |
# | Edit a tumour and regenerate | 5 min | — |
# | Write the synthetic set for notebook 08 | 5 min | — |
# | Written questions | — | 15 min |
#
# **What you'll learn**
#
# - how a conditional GAN translates one image into another: a U-Net generator with skip
#   connections and a PatchGAN discriminator that judges 70x70 patches of (input, output) pairs;
# - why Pix2Pix adds λ·L1 (λ = 100) to the adversarial loss, and what each term does;
# - what the generator must invent when its input is only a label map, and what a body
#   outline changes;
# - how to measure synthetic CT: SSIM, PSNR, MAE in HU and HU histograms per label region;
# - how to make a synthetic training set that cannot leak test patients into training.
#
# **What you'll need**: notebook 00 (Hounsfield units, the W400/L0 window) and 01 (GAN losses,
# the train step, `apply_gradients`). Runs in under a minute (`smoke`), about 10 minutes on
# two idle cores (`cpu`: 128x128, both conditions, 500 steps each; 24 minutes on a busy
# shared machine), or about an hour per condition on a T4 (`gpu`:
# 256x256, batch 8, 40k steps; an estimate from the FLOPs, not measured — see Key points).

# %% [markdown]
# ## Setup

# %%
import sys

if "google.colab" in sys.modules:
    # %pip install --quiet "medganlab @ git+{{ repository_url }}@{{ course_ref }}"
    pass

# %%
import ipywidgets as widgets
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from keras import layers

import medganlab
from medganlab.data import catalog, ct_slices
from medganlab.evaluation import fdd, image_quality
from medganlab.paths import run_dir
from medganlab.plotting import plot_history
from medganlab.report import show_metrics
from medganlab.training import (
    GAN,
    LossHistory,
    apply_gradients,
    export_generator,
    fit_gan,
    pix2pix,
    synthetic_set,
)

info = medganlab.setup()

# %% [markdown]
# ## Configuration
#
# The course's decisions, each a knob of `cfg` (change one with `cfg = cfg.replace(...)`):
#
# - **Condition** `cfg.condition`: the paper gives the generator the label map alone, which
#   leaves it to invent the whole abdomen — body size, spine, liver, bowel — from two small
#   blobs. The course's default, `"labels+body"`, adds the body outline as a third channel;
#   `"labels"` is the paper's input. With `cfg.compare_conditions` the notebook trains both
#   and shows them side by side.
# - **Generator**: the U-Net of Pix2Pix is *given* (read it below); you build the
#   discriminator, the losses and the train step.
# - **Losses**: binary cross-entropy on the patch logits, plus `cfg.l1_weight` (λ = 100) times
#   the L1 distance for the generator; the discriminator's loss is halved, as in the paper.
#   Adam, learning rate 2e-4, β₁ = 0.5.
# - **Split**: 70/20/10 by patient with `ct_slices.split_patients`, the same function and seed
#   as notebook 08, so a patient is in the same split in both notebooks.
# - **Synthetic set**: slices from *training* label maps with kidney or tumour, at the paper's
#   ratio of 1,333 synthetic to 4,480 real training slices; in `cfg.edit_fraction` of them
#   (default 0.5) the tumour is resized and moved first, so they are not re-renderings of
#   anatomy the segmenter already sees.

# %%
cfg = medganlab.profile_for("07_pix2pix_ct")
cfg

# %% [markdown]
# ## Load the kidney CT slices and split by patient
#
# The kidney CT phantom (`datasets/kidney_ct_phantom.md`) is written in the KiTS19 layout:
# one folder per patient with the CT series and a label volume (0 background, 1 kidney,
# 2 tumour). Set `MEDGANLAB_CT_ROOT` to a real KiTS19 folder and the same code reads its
# NIfTI files. Split the **patients** first — never the slices, or neighbouring slices of
# one patient would sit in training and test.

# %%
data_root = catalog.ct_dataset(cfg.cases, cfg.data_size, seed=cfg.data_seed,
                               slice_thickness_mm=cfg.ct_slice_thickness_mm)
split = ct_slices.split_patients(data_root)
{name: len(patients) for name, patients in split.items()}

# %% [markdown]
# Load the axial slices that show kidney or tumour (as the paper did), windowed W400/L0
# (HU -200..200 → [-1, 1]), with their label maps and the body outline (everything above
# -300 HU, holes filled).

# %%
slices = {name: ct_slices.load_slices(data_root, patients, cfg.image_size)
          for name, patients in split.items()}
for name, part in slices.items():
    print(f"{name:5s}: {len(part):4d} slices from {len(set(part.cases))} patients, "
          f"{int((part.labels == 2).any(axis=(1, 2, 3)).sum())} with tumour")

# %%
val = slices["val"]
fixed = np.linspace(0, len(val) - 1, cfg.triptych_slices).round().astype(int)  # fixed slices
fig = pix2pix.triptych_figure(val.labels[fixed], val.body[fixed], val.images[fixed], {})
plt.show()

# %% [markdown]
# ## Choose the condition
#
# The generator's input is the label map as channels in {-1, 1}: kidney, tumour, and — for
# `"labels+body"` — the body outline. A label map with any value besides 0, 1 and 2, or a
# shape that differs from the slices', is refused with a message that says what was expected:

# %%
conditions = {name: ct_slices.encode_condition(part.labels, part.body, cfg.condition)
              for name, part in slices.items()}
print(conditions["train"].shape, conditions["train"].min(), conditions["train"].max())
try:
    ct_slices.encode_condition(val.labels[:1] + 2, val.body[:1], cfg.condition)
except ValueError as error:
    print("refused:", error)

# %% [markdown]
# ## Read the U-Net generator
#
# The generator is an encoder–decoder with **skip connections** (a U-Net): the encoder halves
# the side with stride-2 convolutions (kernel 4) down to 1x1, with 64-128-256-512-512…
# filters for a width of 64; the decoder doubles it back with transposed convolutions, and
# each decoder block is concatenated with the encoder block of the same size, so fine detail
# (edges of the kidneys) need not squeeze through the 1x1 bottleneck. The first three decoder
# blocks use dropout 0.5 — Pix2Pix's only source of randomness: it has no noise vector. The
# output is one channel through `tanh` (float32 under mixed precision).
#
# This part is given: read it, you reuse `downsample` in Exercise 1.

# %%
init = keras.initializers.RandomNormal(0.0, 0.02)


def downsample(x, filters, batchnorm=True):
    """Conv 4x4 stride 2 -> [batch norm] -> LeakyReLU(0.2): halves the side."""
    x = layers.Conv2D(filters, 4, 2, padding="same", kernel_initializer=init,
                      use_bias=not batchnorm)(x)
    if batchnorm:
        x = layers.BatchNormalization()(x)
    return layers.LeakyReLU(0.2)(x)


def upsample(x, filters, dropout=False):
    """Transposed conv 4x4 stride 2 -> batch norm -> [dropout 0.5] -> ReLU: doubles the side."""
    x = layers.Conv2DTranspose(filters, 4, 2, padding="same", kernel_initializer=init,
                               use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    return layers.ReLU()(x)

# %%
def build_unet(image_size: int, channels: int, width: int = 64) -> keras.Model:
    """Pix2Pix U-Net: (batch, S, S, channels) condition -> (batch, S, S, 1) slice in [-1, 1]."""
    condition = keras.Input((image_size, image_size, channels), name="condition")
    x, skips = condition, []
    for i in range(int(np.log2(image_size))):  # down to 1x1
        x = downsample(x, width * min(2**i, 8), batchnorm=i > 0)
        skips.append(x)
    for i, skip in enumerate(reversed(skips[:-1])):
        x = upsample(x, skip.shape[-1], dropout=i < 3)
        x = layers.Concatenate()([x, skip])
    image = layers.Conv2DTranspose(1, 4, 2, padding="same", activation="tanh",
                                   kernel_initializer=init, dtype="float32")(x)
    return keras.Model(condition, image, name="unet_generator")

# %% [markdown]
# Build it and run it, untrained, on a few training conditions:

# %%
channels = ct_slices.condition_channels(cfg.condition)
generator = build_unet(cfg.image_size, channels, cfg.generator_width)
untrained = generator(conditions["train"][:2], training=False)
print(f"{generator.count_params():,} parameters; output {tuple(untrained.shape)}, "
      f"range [{float(tf.reduce_min(untrained)):.3f}, {float(tf.reduce_max(untrained)):.3f}]")

# %% [markdown]
# ## Build the PatchGAN discriminator
#
# The discriminator does not say "real or fake" once per image: it outputs a grid of logits,
# one per overlapping **patch**, and each judges whether that patch of the slice fits that
# patch of the label map. It sees both: its input is `concat(condition, image)` along the
# channels. Pix2Pix's 70x70 PatchGAN:
#
# 1. `Concatenate` the two inputs (condition first);
# 2. three `downsample` blocks with `w`, `2w`, `4w` filters — no batch norm in the first;
# 3. `ZeroPadding2D()`, `Conv2D(8w, 4)` (stride 1, no bias), batch norm, LeakyReLU(0.2);
# 4. `ZeroPadding2D()` and a last `Conv2D(1, 4)` (stride 1): the logits, no activation,
#    `dtype="float32"`.
#
# Each output unit then sees a **70x70** window of the input: the receptive field
# `1 + Σ (kernel − 1) × (product of the earlier strides)` = 1 + 3·(1 + 2 + 4 + 8 + 8) = 70.
# At 256x256 the output is 30x30 logits, at 128x128 it is 14x14.
#
# ### Exercise 1
#
# Implement `build_patchgan` (use `downsample` and `init` from above).

# %% solution grade_id="build_patchgan"
def build_patchgan(image_size: int, channels: int, width: int = 64) -> keras.Model:
    """PatchGAN on concat(condition, image): -> (batch, P, P, 1) patch logits."""
    condition = keras.Input((image_size, image_size, channels), name="condition")
    image = keras.Input((image_size, image_size, 1), name="image")
    ### BEGIN SOLUTION
    x = layers.Concatenate()([condition, image])
    x = downsample(x, width, batchnorm=False)
    x = downsample(x, 2 * width)
    x = downsample(x, 4 * width)
    x = layers.ZeroPadding2D()(x)
    x = layers.Conv2D(8 * width, 4, kernel_initializer=init, use_bias=False)(x)
    x = layers.LeakyReLU(0.2)(layers.BatchNormalization()(x))
    x = layers.ZeroPadding2D()(x)
    logits = layers.Conv2D(1, 4, kernel_initializer=init, dtype="float32")(x)
    ### END SOLUTION
    return keras.Model([condition, image], logits, name="patchgan")

# %%
discriminator = build_patchgan(cfg.image_size, channels, cfg.discriminator_width)
patch_logits = discriminator([conditions["train"][:2], slices["train"].images[:2]])
print(f"patch logits {tuple(patch_logits.shape)}, receptive field "
      f"{pix2pix.receptive_field(discriminator)} px")

# %% tests grade_id="test_patchgan_shape" points=2
"""The PatchGAN returns a grid of logits for (condition, image) pairs, and reads the condition."""
d = build_patchgan(image_size=64, channels=3, width=4)
rng = np.random.default_rng(0)
cond, img = rng.uniform(-1, 1, (2, 64, 64, 3)).astype("float32"), rng.uniform(-1, 1, (2, 64, 64, 1)).astype("float32")
out = d([cond, img], training=False)
assert tuple(out.shape) == (2, 6, 6, 1), f"expected patch logits of shape (2, 6, 6, 1) at 64x64, got {tuple(out.shape)}"
assert out.dtype == tf.float32, f"expected float32 logits (dtype='float32' on the last layer), got {out.dtype}"
other = d([-cond, img], training=False)
assert not np.allclose(out, other), "the logits do not change with the condition: concatenate condition and image"
assert d.layers[-1].get_config().get("activation") == "linear", "expected logits: no activation on the last layer"
### BEGIN HIDDEN TESTS
convs = [l for l in d.layers if isinstance(l, layers.Conv2D)]
assert [c.filters for c in convs] == [4, 8, 16, 32, 1], "filters should be w, 2w, 4w, 8w, then 1"
assert [c.strides[0] for c in convs] == [2, 2, 2, 1, 1], "three stride-2 blocks, then two stride-1 convolutions"
assert sum(isinstance(l, layers.BatchNormalization) for l in d.layers) == 3, \
    "batch norm in every block except the first and the logit layer"
assert all(abs(l.negative_slope - 0.2) < 1e-6 for l in d.layers if isinstance(l, layers.LeakyReLU)), \
    "PatchGAN uses LeakyReLU(0.2)"
assert build_patchgan(256, 2, 8).output_shape == (None, 30, 30, 1), "at 256x256 expect 30x30 patch logits"
### END HIDDEN TESTS

# %% tests grade_id="test_patchgan_receptive_field" points=2
"""Each patch logit sees a 70x70 window of the input (Pix2Pix's 70x70 PatchGAN)."""
rf = pix2pix.receptive_field(build_patchgan(image_size=128, channels=2, width=4))
assert rf == 70, f"expected a receptive field of 70 pixels (kernels 4, three stride-2 blocks, two stride-1 convolutions), got {rf}"
### BEGIN HIDDEN TESTS
d = build_patchgan(128, 2, 4)
cond = tf.Variable(tf.zeros((1, 128, 128, 2)))
with tf.GradientTape() as tape:
    centre = d([cond, tf.zeros((1, 128, 128, 1))], training=False)[0, 7, 7, 0]
grad = np.abs(tape.gradient(centre, cond).numpy()).sum(axis=(0, 3))
rows, cols = np.flatnonzero(grad.sum(axis=1) > 0), np.flatnonzero(grad.sum(axis=0) > 0)
assert rows[-1] - rows[0] + 1 <= 70 and cols[-1] - cols[0] + 1 <= 70, \
    "one patch logit depends on more than a 70x70 window of the input"
### END HIDDEN TESTS

# %% [markdown]
# ## Write the losses
#
# With `bce(labels, logits)` (given: the mean of the *function*
# `keras.losses.binary_crossentropy` over every patch, in float32):
#
# - **Discriminator**: real pairs → 1, fake pairs → 0, every patch;
#   `L_D = ½ · (BCE(1, D(c, x)) + BCE(0, D(c, G(c))))`. Pix2Pix halves it to slow D down
#   relative to G. A confused D (logits 0) scores ½ · 2 log 2 = log 2 ≈ 0.693.
# - **Generator**: fool D on every patch, and stay close to the real slice:
#   `L_G = BCE(1, D(c, G(c))) + λ · mean|x − G(c)|`, λ = 100. The L1 term gets the
#   low frequencies right (where the kidneys are, how bright); the adversarial term makes
#   the texture sharp instead of the blur L1 alone produces. L1 rather than L2, because L2
#   blurs more.
#
# ### Exercise 2

# %% solution grade_id="losses"
def bce(labels, logits):
    """Mean binary cross-entropy of logits against labels over all patches, float32 (given)."""
    logits = tf.cast(logits, "float32")
    return tf.reduce_mean(keras.losses.binary_crossentropy(labels, logits, from_logits=True))


def discriminator_loss(real_logits, fake_logits):
    """½ (BCE of real patch logits against 1 + BCE of fake patch logits against 0)."""
    ### BEGIN SOLUTION
    real = bce(tf.ones_like(real_logits), real_logits)
    fake = bce(tf.zeros_like(fake_logits), fake_logits)
    return 0.5 * (real + fake)
    ### END SOLUTION


def generator_loss(fake_logits, fake_images, real_images, l1_weight=100.0):
    """Returns (total, adversarial, l1): BCE of fake logits against 1, mean |real - fake|."""
    ### BEGIN SOLUTION
    adversarial = bce(tf.ones_like(fake_logits), fake_logits)
    fake_images = tf.cast(fake_images, "float32")
    l1 = tf.reduce_mean(tf.abs(tf.cast(real_images, "float32") - fake_images))
    return adversarial + l1_weight * l1, adversarial, l1
    ### END SOLUTION

# %% tests grade_id="test_discriminator_loss" points=2
"""L_D = ½ (BCE(1, real) + BCE(0, fake)) on patch logits; a confused D scores log 2."""
softplus = lambda v: float(np.mean(np.log1p(np.exp(v))))
zero = tf.zeros((2, 6, 6, 1))
got = float(discriminator_loss(zero, zero))
assert np.isclose(got, np.log(2), atol=1e-5), f"with logits 0 expected ½·(log 2 + log 2) = 0.693, got {got:.4f}"
real, fake = tf.fill((2, 6, 6, 1), 2.0), tf.fill((2, 6, 6, 1), -1.0)
want = 0.5 * (softplus(-2.0) + softplus(-1.0))
got = float(discriminator_loss(real, fake))
assert np.isclose(got, want, atol=1e-5), \
    f"with real logits 2 and fake logits -1 expected ½·(BCE(1, 2) + BCE(0, -1)) = {want:.4f}, got {got:.4f}"
### BEGIN HIDDEN TESTS
real = tf.constant(np.linspace(-3, 3, 8).reshape(2, 2, 2, 1), tf.float32)
fake = tf.constant(np.linspace(2, -2, 8).reshape(2, 2, 2, 1), tf.float32)
want = 0.5 * (softplus(-real.numpy()) + softplus(fake.numpy()))
assert np.isclose(float(discriminator_loss(real, fake)), want, atol=1e-5), \
    "L_D must average the BCE over every patch of every image"
### END HIDDEN TESTS

# %% tests grade_id="test_generator_loss" points=2
"""L_G = BCE(1, fake logits) + λ·mean|real − fake| with λ = 100; returns (total, adversarial, l1)."""
softplus = lambda v: float(np.mean(np.log1p(np.exp(v))))
logits = tf.fill((2, 6, 6, 1), 2.0)
fake, real = tf.zeros((2, 16, 16, 1)), tf.fill((2, 16, 16, 1), 0.5)
total, adversarial, l1 = (float(v) for v in generator_loss(logits, fake, real))
assert np.isclose(adversarial, softplus(-2.0), atol=1e-5), \
    f"expected the adversarial term BCE(1, logits) = {softplus(-2.0):.4f} with logits 2, got {adversarial:.4f}"
assert np.isclose(l1, 0.5, atol=1e-6), f"expected the L1 term mean|real - fake| = 0.5, got {l1:.4f}"
assert np.isclose(total, softplus(-2.0) + 100 * 0.5, atol=1e-4), \
    f"expected total = adversarial + λ·L1 with λ = 100 by default = {softplus(-2.0) + 50:.3f}, got {total:.3f}"
### BEGIN HIDDEN TESTS
total, _, l1 = (float(v) for v in generator_loss(logits, fake, tf.fill((2, 16, 16, 1), -0.25), l1_weight=10.0))
assert np.isclose(l1, 0.25, atol=1e-6), "L1 is the mean absolute difference (no sign, no square)"
assert np.isclose(total, softplus(-2.0) + 2.5, atol=1e-4), "use the l1_weight argument, not a fixed 100"
half = tf.concat([tf.zeros((1, 16, 16, 1)), tf.ones((1, 16, 16, 1))], axis=0)
assert np.isclose(float(generator_loss(logits, half, tf.zeros_like(half))[2]), 0.5, atol=1e-6), \
    "L1 is a mean over every pixel of the batch"
### END HIDDEN TESTS

# %% [markdown]
# ## Write the train step
#
# One step updates both networks from **one** forward pass, as the Pix2Pix tutorial does:
#
# 1. Open two `tf.GradientTape`s in one `with` statement: one for G, one for D.
# 2. Generate `fake = gan.generator(conditions, training=True)` (dropout and batch norm in
#    training mode).
# 3. Score real and fake pairs with **one** discriminator call on the concatenated batch:
#    `gan.discriminator([concat([c, c]), concat([real, fake])], training=True)`, then split
#    the logits into the real half and the fake half. (One call: batch norm then sees real and
#    fake pairs together, and D cannot tell them apart by their batch statistics.)
# 4. Compute `L_G` (with `cfg.l1_weight`) and `L_D`.
# 5. Apply each loss to its own network with the course's helper
#    `apply_gradients(optimizer, tape, loss, variables)` — `gan.g_optimizer` with the
#    generator's tape, loss and trainable variables, then the same for D. It handles the
#    mixed-precision loss scale.
# 6. Return a dict: `g_loss` (total), `g_gan`, `g_l1`, `d_loss`.
#
# The `GAN` harness calls it from `fit()` as `train_step(gan, real_images, conditions)` inside
# a `tf.function` (graph mode: no `.numpy()`, no Python `if` on tensors).
#
# ### Exercise 3

# %% solution grade_id="train_step"
def train_step(gan, real_images, conditions):
    """One Pix2Pix update of G and D from one forward pass; returns the tracked losses."""
    ### BEGIN SOLUTION
    batch_size = tf.shape(real_images)[0]
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake_images = gan.generator(conditions, training=True)
        logits = gan.discriminator(
            [tf.concat([conditions, conditions], axis=0),
             tf.concat([real_images, fake_images], axis=0)], training=True)
        real_logits, fake_logits = logits[:batch_size], logits[batch_size:]
        g_total, g_gan, g_l1 = generator_loss(fake_logits, fake_images, real_images, cfg.l1_weight)
        d_loss = discriminator_loss(real_logits, fake_logits)
    apply_gradients(gan.g_optimizer, g_tape, g_total, gan.generator.trainable_variables)
    apply_gradients(gan.d_optimizer, d_tape, d_loss, gan.discriminator.trainable_variables)
    return {"g_loss": g_total, "g_gan": g_gan, "g_l1": g_l1, "d_loss": d_loss}
    ### END SOLUTION

# %% [markdown]
# The tests train a tiny Pix2Pix on 32x32 pairs: your PatchGAN and a three-layer stand-in for
# the U-Net (with batch norm and dropout, so training mode matters), to keep them fast.

# %%
def tiny_pix2pix(g_learning_rate=2e-4, d_learning_rate=2e-4):
    """A compiled 32x32 Pix2Pix with a small generator and a 4-wide PatchGAN (for the tests)."""
    keras.utils.set_random_seed(0)
    condition = keras.Input((32, 32, 3))
    x = layers.ReLU()(layers.Dropout(0.5)(layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same")(condition))))
    small_g = keras.Model(condition, layers.Conv2D(1, 3, padding="same", activation="tanh", dtype="float32")(x))
    gan = GAN(small_g, build_patchgan(32, 3, 4), latent_dim=1, train_step_fn=train_step)
    gan.compile(g_optimizer=keras.optimizers.Adam(g_learning_rate, beta_1=0.5),
                d_optimizer=keras.optimizers.Adam(d_learning_rate, beta_1=0.5))
    gan.build_optimizers()
    return gan


rng = np.random.default_rng(1)
test_reals = tf.constant(rng.uniform(-1, 1, (4, 32, 32, 1)).astype("float32"))
test_conditions = tf.constant(np.sign(rng.uniform(-1, 1, (4, 32, 32, 3))).astype("float32"))

# %% tests grade_id="test_train_step_updates" points=2
"""Two graph-mode steps change both networks (training mode) and report the losses."""
tiny = tiny_pix2pix()
step = tf.function(lambda reals, conds: train_step(tiny, reals, conds))
g_before = [w.numpy().copy() for w in tiny.generator.trainable_weights]
d_before = [w.numpy().copy() for w in tiny.discriminator.trainable_weights]
g_stats = [w.numpy().copy() for w in tiny.generator.non_trainable_weights]
for _ in range(2):
    logs = step(test_reals, test_conditions)
assert {"g_loss", "g_gan", "g_l1", "d_loss"} <= set(logs), f"expected g_loss, g_gan, g_l1 and d_loss, got {sorted(logs)}"
assert any(not np.allclose(a, b.numpy()) for a, b in zip(g_before, tiny.generator.trainable_weights)), \
    "expected the generator's weights to change: apply L_G to gan.generator.trainable_variables"
assert any(not np.allclose(a, b.numpy()) for a, b in zip(d_before, tiny.discriminator.trainable_weights)), \
    "expected the discriminator's weights to change: apply L_D to gan.discriminator.trainable_variables"
assert any(not np.allclose(a, b.numpy()) for a, b in zip(g_stats, tiny.generator.non_trainable_weights)), \
    "the generator's batch-norm statistics did not move: call it with training=True"
### BEGIN HIDDEN TESTS
assert np.isclose(float(logs["g_loss"]), float(logs["g_gan"]) + 100 * float(logs["g_l1"]), rtol=1e-3), \
    "g_loss should be g_gan + λ·g_l1 with the notebook's λ"
### END HIDDEN TESTS

# %% tests grade_id="test_train_step_one_d_call" points=1
"""The discriminator is called once per step, on the concatenated real and fake pairs."""
import types


class CountCalls:
    def __init__(self, model):
        self.model, self.calls, self.batches = model, 0, []
    def __call__(self, inputs, *args, **kwargs):
        self.calls += 1
        self.batches.append(int(inputs[1].shape[0]))
        return self.model(inputs, *args, **kwargs)
    def __getattr__(self, name):
        return getattr(self.model, name)
tiny = tiny_pix2pix()
probe = types.SimpleNamespace(generator=tiny.generator, discriminator=CountCalls(tiny.discriminator),
                              g_optimizer=tiny.g_optimizer, d_optimizer=tiny.d_optimizer)
tf.function(lambda reals, conds: train_step(probe, reals, conds))(test_reals, test_conditions)
assert probe.discriminator.calls == 1, \
    f"expected one discriminator call on the concatenated real/fake pairs, got {probe.discriminator.calls}"
assert probe.discriminator.batches == [8], f"expected one call on 4 real + 4 fake pairs, got batch sizes {probe.discriminator.batches}"

# %% tests grade_id="test_train_step_learns" points=2
"""Against a frozen, blind D the L1 term falls; against a frozen G the discriminator's loss falls."""
tiny = tiny_pix2pix(g_learning_rate=2e-3, d_learning_rate=0.0)
last = [l for l in tiny.discriminator.layers if isinstance(l, layers.Conv2D)][-1]
last.kernel.assign(tf.zeros_like(last.kernel))  # constant logits: no adversarial gradient
step = tf.function(lambda reals, conds: train_step(tiny, reals, conds))
l1 = [float(step(test_reals, test_conditions)["g_l1"]) for _ in range(8)]
assert l1[-1] < 0.98 * l1[0], \
    f"expected the generator's L1 term to fall over 8 steps (λ·L1 belongs in the generator's update), got {l1[0]:.4f} -> {l1[-1]:.4f}"
### BEGIN HIDDEN TESTS
frozen_g = tiny_pix2pix(g_learning_rate=0.0, d_learning_rate=2e-3)
d_step = tf.function(lambda r, c: train_step(frozen_g, r, c))
d = [float(d_step(test_reals, test_conditions)["d_loss"]) for _ in range(8)]
assert d[-1] < d[0], "against a frozen generator the discriminator's loss must fall"
### END HIDDEN TESTS

# %% [markdown]
# ## Train, and watch the triptychs
#
# `train_pix2pix` puts the networks into the course's `GAN` model (Pix2Pix has no noise
# vector: `latent_dim` is unused) and trains with `fit_gan`, which checkpoints every epoch —
# run the cell again after a disconnect and it resumes. Every epoch the `Triptychs` callback
# draws the same validation slices: label map, real slice, synthetic slice.

# %%
run = run_dir("07_pix2pix_ct", cfg.profile)  # re-running resumes (fresh in smoke/grading)


def train_pix2pix(condition):
    """Build, compile and train (or resume) Pix2Pix for one condition."""
    keras.utils.set_random_seed(cfg.seed)
    n = ct_slices.condition_channels(condition)
    gan = GAN(build_unet(cfg.image_size, n, cfg.generator_width),
              build_patchgan(cfg.image_size, n, cfg.discriminator_width),
              latent_dim=1, train_step_fn=train_step)
    gan.compile(g_optimizer=keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1),
                d_optimizer=keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1))
    train = slices["train"]
    cond = ct_slices.encode_condition(train.labels, train.body, condition)
    dataset = pix2pix.pair_dataset(train.images, cond, cfg.batch_size, seed=cfg.seed)
    folder = run / condition.replace("+", "_")
    val_cond = ct_slices.encode_condition(val.labels[fixed], val.body[fixed], condition)
    triptychs = pix2pix.Triptychs(val_cond, val.labels[fixed], val.body[fixed],
                                  val.images[fixed], folder / "triptychs")
    losses = LossHistory(folder)
    fit_gan(gan, dataset, epochs=cfg.epochs, steps_per_epoch=cfg.steps_per_epoch,
            checkpoint_dir=folder / "checkpoints", data_root=data_root,
            callbacks=[triptychs, losses])
    return {"generator": gan.generator, "triptychs": triptychs, "losses": losses}

# %%
other = "labels" if cfg.condition == "labels+body" else "labels+body"
trained_conditions = [cfg.condition] + ([other] if cfg.compare_conditions else [])
models = {condition: train_pix2pix(condition) for condition in trained_conditions}
generator = models[cfg.condition]["generator"]

# %% [markdown]
# The last triptych of the main condition (left to right: label map with the body outline in
# grey, kidney red, tumour yellow; real slice; synthetic slice). Open the PNGs of earlier
# epochs in the run folder to see the anatomy appear: first the body and the bright kidneys,
# then the spine, then texture.

# %%
frames = models[cfg.condition]["triptychs"]
plt.figure(figsize=(7, 2.4 * cfg.triptych_slices))
plt.imshow(frames.frames[-1])
plt.axis("off")
plt.title(f"{cfg.condition}, epoch {cfg.epochs}")
plt.show()

# %%
for condition, model in models.items():
    plot_history(model["losses"].history, keys=["d_loss", "g_gan", "g_l1"], title=condition)
    plt.axhline(np.log(2), ls="--", c="C0", lw=0.8)
    plt.show()

# %% [markdown]
# Read the curves: `d_loss` near log 2 means D is still confused; `g_l1` (mean absolute
# error in window units; ×200 for HU) should fall steadily — it carries most of `g_loss`.

# %% [markdown]
# ## Measure the synthetic slices
#
# Generate a slice for every **test-split** label map and compare it with the real one:
# SSIM and PSNR from `tf.image` (on the [-1, 1] images, `max_val=2`), MAE in HU, and the HU
# means per label region (background: whole slice; kidney, tumour: their bounding boxes for
# SSIM/PSNR, their pixels for MAE and means). Voxel-wise agreement is a harsh test for a GAN
# — it may draw a plausible bowel loop where the real patient had none — so read the kidney
# and tumour rows first.

# %%
test = slices["test"]
synthetic_test = {condition: pix2pix.generate(model["generator"], ct_slices.encode_condition(
    test.labels, test.body, condition)) for condition, model in models.items()}
rows = []
for condition, fakes in synthetic_test.items():
    whole = image_quality.slice_quality(test.images, fakes)
    print(f"{condition:12s} SSIM {whole['ssim'].mean():.3f}  PSNR {whole['psnr'].mean():.1f} dB  "
          f"MAE {whole['mae_hu'].mean():.1f} HU  ({len(fakes)} test slices)")
    for row in image_quality.region_quality(test.images, fakes, test.labels):
        rows.append({"profile": cfg.profile, "condition": condition, **row})

# %%
csv_path, _ = fdd.write_table(rows, f"07_pix2pix_{cfg.profile}", meta={"test_patients": split["test"]})
print(csv_path)
[{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]

# %% [markdown]
# The HU histograms per region show what the averages hide: is the kidney's two-peaked
# cortex/medulla distribution there, or one blurred peak in between?

# %%
fig = pix2pix.hu_histogram_figure(test.images, test.labels, synthetic_test)
fig.savefig(run / "hu_histograms.png", dpi=80)
plt.show()

# %% [markdown]
# The two conditions side by side on the same test slices:

# %%
show = np.linspace(0, len(test) - 1, min(4, len(test))).round().astype(int)
fig = pix2pix.triptych_figure(test.labels[show], test.body[show], test.images[show],
                              {c: f[show] for c, f in synthetic_test.items()})
fig.savefig(run / "conditions_side_by_side.png", dpi=80)
plt.show()

# %%
kidney = {r["condition"]: r for r in rows if r["region"] == "kidney"}[cfg.condition]
ssim = float(image_quality.slice_quality(test.images, synthetic_test[cfg.condition])["ssim"].mean())
show_metrics("07_pix2pix_ct", {
    "condition": cfg.condition, "test slices": len(test), "SSIM (test, whole slice)": ssim,
    "kidney HU mean real": kidney["hu_mean_real"], "kidney HU mean synthetic": kidney["hu_mean_synthetic"],
    "kidney MAE (HU)": kidney["mae_hu"], "kidney SSIM (box)": kidney["ssim"],
})

# %% [markdown]
# ## Edit a tumour and regenerate
#
# The label map is a handle on the anatomy: grow, shrink or move the tumour with the sliders
# and the generator draws the new slice (`ct_slices.edit_tumour` scales the tumour about its
# centre and moves it; kidney fills where it was). Try a tumour that leaves the kidney: does
# the generator still draw a tumour there?

# %%
pick = int(np.argmax((test.labels == 2).sum(axis=(1, 2, 3)) * 10 + (test.labels == 1).sum(axis=(1, 2, 3))))
limit = cfg.image_size // 8


def regenerate(scale=1.0, down=0, right=0):
    """Edit the tumour of the chosen test slice and show label map, real and synthetic."""
    edited = ct_slices.edit_tumour(test.labels[pick], scale, (down, right))[None]
    cond = ct_slices.encode_condition(edited, test.body[pick : pick + 1], cfg.condition)
    fake = pix2pix.generate(generator, cond)
    pix2pix.triptych_figure(edited, test.body[pick : pick + 1], test.images[pick : pick + 1],
                            {"synthetic (edited)": fake}, size=3.0)
    plt.show()


editor = widgets.interact(
    regenerate, scale=widgets.FloatSlider(1.0, min=0.5, max=2.0, step=0.1),
    down=widgets.IntSlider(0, min=-limit, max=limit), right=widgets.IntSlider(0, min=-limit, max=limit))

# %% [markdown]
# ## Write the synthetic set for notebook 08
#
# The paper added 1,333 synthetic slices to 4,480 real training slices, generated only from
# label maps with kidney or tumour. Here: the same ratio of this run's training slices, from
# **training-split** label maps only, with the tumour resized (×0.7–1.4) and moved in
# `cfg.edit_fraction` of them. The artifact's manifest records the source patients, the split
# seed, the generator and the count; notebook 08 refuses it if any source patient is outside
# its training split.

# %%
train = slices["train"]
count = ct_slices.synthetic_count(len(train))
pick_rng = np.random.default_rng(cfg.seed)
chosen = pick_rng.choice(len(train), size=min(count, len(train)), replace=False)
labels_out, edited = train.labels[chosen].copy(), 0
for i in range(len(chosen)):
    if pick_rng.uniform() < cfg.edit_fraction and (labels_out[i] == 2).any():
        shift = pick_rng.uniform(-1, 1, 2) * cfg.tumour_shift * cfg.image_size
        labels_out[i] = ct_slices.edit_tumour(labels_out[i], pick_rng.uniform(*cfg.tumour_scale), shift)
        edited += 1
synthetic = pix2pix.generate(generator, ct_slices.encode_condition(labels_out, train.body[chosen], cfg.condition))
print(f"{len(synthetic)} synthetic slices for {len(train)} real training slices ({edited} edited)")

# %%
generator_folder = export_generator(generator, f"07_pix2pix_ct_{cfg.profile}",
                                    {"image_size": cfg.image_size, "condition": cfg.condition,
                                     "profile": cfg.profile, "assignment": "07_pix2pix_ct"},
                                    saved_model=False)
set_folder = synthetic_set.write_synthetic_set(
    synthetic_set.synthetic_set_name(cfg.profile), synthetic, labels_out,
    [train.cases[i] for i in chosen],
    split={"seed": ct_slices.SPLIT_SEED, "fractions": ct_slices.SPLIT_FRACTIONS, "train": split["train"]},
    generator={"artifact": str(generator_folder), "epochs": cfg.epochs, "steps_per_epoch": cfg.steps_per_epoch},
    metadata={"profile": cfg.profile, "condition": cfg.condition, "edited": edited,
              "dataset": data_root.name, "real_training_slices": len(train)})
set_folder

# %% [markdown]
# Load it back the way notebook 08 will — and see it refused by a "training split" that does
# not contain its source patients:

# %%
images_08, labels_08, manifest = synthetic_set.load_synthetic_set(
    synthetic_set.synthetic_set_name(cfg.profile), split["train"], dataset=data_root.name)
print(images_08.shape, manifest["count"], manifest["source_patients"][:5])
try:
    synthetic_set.load_synthetic_set(synthetic_set.synthetic_set_name(cfg.profile), split["test"])
except ValueError as error:
    print("refused:", str(error)[:160], "...")

# %% [markdown] readonly grade_id="q_condition"
# ### Exercise 4 (written)
#
# Compare the two conditions in your side-by-side figure and table. What does the generator
# invent when it sees only the label map, and what does the body outline fix? Which
# condition would you use to make training data for a kidney segmenter, and what is the risk
# of your choice?

# %% [markdown] manual grade_id="condition" points=3
# === BEGIN MARK SCHEME ===
# 1 mark: label-only — the body size/shape, spine position, liver, bowel are invented (often
# an "average" abdomen, blurred, or inconsistent with the kidney position); cite the figure or
# a number (SSIM / background MAE lower or higher). 1 mark: the outline fixes body extent and
# fat/air boundary, which raises whole-slice SSIM and lowers background MAE; kidney HU mostly
# unaffected. 1 mark: a justified choice with a risk (outline: needs a real body outline, so
# synthetic slices are tied to real patients' shapes, less diversity; label-only: unrealistic
# context may teach the segmenter shortcuts / domain shift).
# === END MARK SCHEME ===
#
# YOUR ANSWER HERE

# %% [markdown] readonly grade_id="q_synthetic_set"
# ### Exercise 5 (written)
#
# Explain why the synthetic set may only be generated from training-split label maps, and
# why the generator itself must not have seen test patients either. Then say what editing
# the tumours adds over re-rendering the training label maps, and one way it could hurt.

# %% [markdown] manual grade_id="synthetic_set" points=3
# === BEGIN MARK SCHEME ===
# 1 mark: a synthetic slice from a test label map carries the test patient's anatomy/labels
# into training → leakage, optimistic IoU. 1 mark: the generator was trained on training
# patients only; trained on test patients it could memorise and reproduce them (same leak).
# 1 mark: editing gives new tumour sizes/positions (more variety, more tumour pixels, helps
# the imbalance) while re-rendering adds little beyond texture; risk: implausible anatomy
# (tumour outside the kidney, unrealistic shapes) or labels that no longer match what the
# generator draws.
# === END MARK SCHEME ===
#
# YOUR ANSWER HERE

# %% [markdown]
# ## Key points
#
# - Pix2Pix is a conditional GAN for image-to-image translation: a U-Net generator with skip
#   connections and a PatchGAN discriminator that judges 70x70 patches of (input, output) pairs.
# - The generator's loss is BCE on the patch logits plus λ·L1 (λ = 100): L1 places the
#   anatomy, the adversarial term keeps it sharp.
# - What the condition leaves out, the generator invents: a label map alone says nothing
#   about the rest of the abdomen.
# - Judge synthetic CT per region and in HU, not only by eye; SSIM and PSNR come from a
#   library.
# - Synthetic data joins the training split only, from training patients only — the manifest
#   makes that checkable.
#
# With the `gpu` profile (256x256, 100 patients, 40k steps) expect the triptychs to show renal
# cortex and medulla, vertebral bodies with a cortical rim, and bowel gas; at 128x128 on a
# CPU the body, the bright kidneys and the spine appear within a few hundred steps, with
# blurred texture. The `gpu` time is an estimate: one step costs about 86 GFLOP per image
# (U-Net 6.0 GMAC and PatchGAN 3.2 GMAC per pair forward, about three times that with the
# backward passes), so 40k steps of batch 8 are 2.8·10¹⁶ FLOP — about an hour per
# condition on a T4 at 8–10 TFLOPS sustained in mixed precision (generating the 100-patient
# phantom at 256x256 adds about ten minutes on Colab's two cores).
#
# ## Further reading
#
# - Isola, Zhu, Zhou, Efros (2017). [Image-to-image translation with conditional adversarial
#   networks](https://arxiv.org/abs/1611.07004).
# - [TensorFlow tutorial: pix2pix](https://www.tensorflow.org/tutorials/generative/pix2pix).
# - Ronneberger, Fischer, Brox (2015). [U-Net](https://arxiv.org/abs/1505.04597).
# - Heller et al. (2019). [The KiTS19 challenge data](https://arxiv.org/abs/1904.00445).
# - Wang, Bovik et al. (2004). [Image quality assessment: from error visibility to structural
#   similarity](https://doi.org/10.1109/TIP.2003.819861) (SSIM).
