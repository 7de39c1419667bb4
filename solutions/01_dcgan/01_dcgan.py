# %% [markdown]
# # Train a DCGAN on chest X-rays
#
# Build the deep convolutional GAN of Radford et al. (2015) — the baseline of the chest X-ray
# GAN paper — and train it on phantom chest radiographs.
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({{ colab_url }})
# [![View the repository](https://img.shields.io/badge/GitHub-medganlab-blue?logo=github)]({{ repository_url }})

# %% [markdown]
# **What you'll do** (about 110 minutes)
#
# | Section | Teaching | Exercises |
# |---|---|---|
# | Load the chest X-ray phantoms | 5 min | — |
# | Build the generator | 10 min | 15 min |
# | Build the discriminator | 10 min | 10 min |
# | Write the losses | 10 min | 10 min |
# | Write the train step | 10 min | 15 min |
# | Train, watch the samples, read the losses | 10 min | 5 min |
#
# **What you'll learn**
#
# - the DCGAN design rules: strided (transposed) convolutions, batch normalisation, ReLU in
#   the generator, LeakyReLU(0.2) in the discriminator, `tanh` output, N(0, 0.02) weights;
# - the two binary cross-entropy losses of a GAN, and what their values mean (the log 2 line);
# - how one train step updates two networks with two optimisers;
# - how healthy training and mode collapse look in samples and curves.
#
# **What you'll need**: notebook 00 (Keras `fit()`, windows and the `[-1, 1]` range).
# Training runs in seconds (`smoke`), about 3 minutes (`cpu`, 2 cores with bfloat16, a
# 16-bit number format that newer CPUs compute natively; up to about 12 on an older CPU
# without it) or 15 minutes on a T4 (`gpu`, 128x128 images, 25 epochs).

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
from medganlab.data import catalog, nih
from medganlab.paths import run_dir
from medganlab.plotting import plot_history, show_images
from medganlab.report import show_metrics
from medganlab.training import (
    GAN,
    GeneratorEMA,
    HealthMonitor,
    LossHistory,
    SampleGrid,
    apply_gradients,
    augmented_discriminator,
    export_generator,
    fit_gan,
)

info = medganlab.setup()

# %% [markdown]
# ## Configuration

# %%
cfg = medganlab.profile_for("01_dcgan")
cfg

# %% [markdown]
# ## Load the chest X-ray phantoms
#
# The course generates its chest radiographs (see `datasets/cxr_phantom.md`): the first call
# makes them, later calls reuse them. A DCGAN ignores the labels, so take every image.

# %%
data_root = catalog.cxr_dataset(n=cfg.train_images, size=cfg.image_size, seed=cfg.seed)
index = nih.load_index(data_root)
train_ds = nih.make_dataset(index, size=cfg.image_size, batch=cfg.batch_size, shuffle=True,
                            cache=True, seed=cfg.seed, drop_remainder=True)
real_batch, _ = next(iter(train_ds))  # (images, labels): the DCGAN ignores the labels
real_batch.shape, float(tf.reduce_min(real_batch)), float(tf.reduce_max(real_batch))

# %%
show_images(real_batch[:8], ncols=8, size=1.6, vmin=-1, vmax=1, suptitle="Real (phantom) radiographs")
plt.show()

# %% [markdown]
# ## Build the generator
#
# The generator maps a noise vector `z` (length `latent_dim`) to an image. DCGAN starts from a
# small 4x4 feature map and doubles its side with each transposed convolution
# (kernel 4, stride 2, `same` padding) while halving the channels:
#
# `Dense → 4x4x(8w) → 8x8x(4w) → 16x16x(2w) → 32x32x(w) → 64x64x1` for a 64x64 image and width `w`.
#
# Every block but the last has batch normalisation and ReLU; the last transposed convolution
# outputs one channel through `tanh`, so images lie in `[-1, 1]` like the data. All kernels
# start from N(0, 0.02). Generally: `n = log2(image_size / 4)` up-sampling layers, the first
# feature map has `w · 2^(n-1)` channels.
#
# ### Exercise 1
#
# Implement `build_generator`. Give the output layer `dtype="float32"` (mixed precision keeps
# the images exact).

# %% solution grade_id="build_generator"
def build_generator(latent_dim: int, image_size: int, width: int) -> keras.Model:
    """DCGAN generator: (batch, latent_dim) -> (batch, image_size, image_size, 1) in [-1, 1]."""
    init = keras.initializers.RandomNormal(0.0, 0.02)
    ### BEGIN SOLUTION
    n_up = int(np.log2(image_size // 4))
    channels = width * 2 ** (n_up - 1)
    z = keras.Input((latent_dim,))
    x = layers.Dense(4 * 4 * channels, use_bias=False, kernel_initializer=init)(z)
    x = layers.Reshape((4, 4, channels))(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    for _ in range(n_up - 1):
        channels //= 2
        x = layers.Conv2DTranspose(channels, 4, 2, padding="same", use_bias=False,
                                   kernel_initializer=init)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    image = layers.Conv2DTranspose(1, 4, 2, padding="same", activation="tanh",
                                   kernel_initializer=init, dtype="float32")(x)
    ### END SOLUTION
    return keras.Model(z, image, name="dcgan_generator")

# %%
generator = build_generator(cfg.latent_dim, cfg.image_size, cfg.generator_width)
generator.summary()

# %% tests grade_id="test_generator" points=2
"""The generator maps noise to one-channel images of the right size, through tanh."""
g = build_generator(latent_dim=16, image_size=32, width=8)
z = np.random.default_rng(0).normal(size=(3, 16)).astype("float32")
out = np.asarray(g(z, training=False))
assert out.shape == (3, 32, 32, 1), f"expected shape (3, 32, 32, 1), got {out.shape}"
loud = build_generator(latent_dim=16, image_size=32, width=8)
for w in [w for w in loud.trainable_weights if "kernel" in w.path]:
    w.assign(w * 30.0)  # 30x larger kernels drive the output layer to saturation
loud = np.asarray(loud(z, training=False))
assert np.abs(loud).max() <= 1.0, f"outputs must lie in [-1, 1]: got {np.abs(loud).max():.3g} (end in tanh)"
assert loud.min() < -0.5 and loud.max() > 0.5, (
    f"images in [-1, 1] need an output that takes both signs (tanh); got values from {loud.min():.3g} "
    f"to {loud.max():.3g}")
### BEGIN HIDDEN TESTS
convs = [l for l in g.layers if isinstance(l, layers.Conv2DTranspose)]
assert len(convs) == 3, "32x32 from 4x4 takes three stride-2 transposed convolutions"
assert [c.filters for c in convs] == [16, 8, 1], "channels should halve each block, ending in 1"
assert sum(isinstance(l, layers.BatchNormalization) for l in g.layers) == 3, \
    "batch normalisation after the dense layer and every hidden block, not on the output"
assert 0.015 < float(np.std(convs[0].kernel.numpy())) < 0.025, "weights should start from N(0, 0.02)"
g_big = build_generator(100, 128, 128)
assert g_big.output_shape == (None, 128, 128, 1), "the gpu-profile generator must build at 128x128"
### END HIDDEN TESTS

# %% tests grade_id="test_generator_float32" points=1
"""Under mixed precision the generator still returns float32 images."""
policy = keras.config.dtype_policy()
keras.config.set_dtype_policy("mixed_bfloat16")  # as under mixed precision
try:
    mixed = build_generator(latent_dim=16, image_size=32, width=8)
finally:
    keras.config.set_dtype_policy(policy)
assert mixed.output.dtype == "float32", f"expected float32 images under mixed precision (dtype='float32' on the output layer), got {mixed.output.dtype}"

# %% [markdown]
# ## Build the discriminator
#
# The discriminator mirrors the generator: strided convolutions (kernel 4, stride 2, `same`)
# double the channels while halving the side, from `w` up, until the map is 4x4; then
# `Flatten` and one `Dense(1)` *logit* (no sigmoid: the loss applies it, which is numerically
# safer). LeakyReLU(0.2) after every convolution; batch normalisation on every block except
# the first (DCGAN keeps the discriminator's input layer free of it).
#
# ### Exercise 2

# %% solution grade_id="build_discriminator"
def build_discriminator(image_size: int, width: int, channels: int = 1) -> keras.Model:
    """DCGAN discriminator: (batch, image_size, image_size, channels) -> (batch, 1) logits."""
    init = keras.initializers.RandomNormal(0.0, 0.02)
    ### BEGIN SOLUTION
    image = keras.Input((image_size, image_size, channels))
    x, filters = image, width
    for block in range(int(np.log2(image_size // 4))):
        x = layers.Conv2D(filters, 4, 2, padding="same", kernel_initializer=init)(x)
        if block > 0:
            x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
        filters *= 2
    logit = layers.Dense(1, kernel_initializer=init, dtype="float32")(layers.Flatten()(x))
    ### END SOLUTION
    return keras.Model(image, logit, name="dcgan_discriminator")

# %%
discriminator = build_discriminator(cfg.image_size, cfg.discriminator_width)
discriminator.summary()

# %% tests grade_id="test_discriminator" points=2
"""The discriminator returns one float32 logit per image (no sigmoid) from a 4x4 map."""
d = build_discriminator(image_size=32, width=8)
logits = d(np.zeros((5, 32, 32, 1), "float32"), training=False)
assert tuple(logits.shape) == (5, 1), f"expected one logit per image, shape (5, 1), got {tuple(logits.shape)}"
flat = [l for l in d.layers if isinstance(l, layers.Flatten)]
assert flat and tuple(flat[0].input.shape[1:3]) == (4, 4), (
    f"down-sample with stride-2 convolutions to a 4x4 map before Flatten, got {flat[0].input.shape if flat else 'no Flatten'}")
loud = build_discriminator(image_size=32, width=8)
for w in [w for w in loud.trainable_weights if "kernel" in w.path]:
    w.assign(w * 30.0)  # 30x larger kernels: logits far from 0
scores = np.asarray(loud(np.random.default_rng(0).uniform(-1, 1, (16, 32, 32, 1)).astype("float32")))
assert scores.min() < 0 or scores.max() > 1, (
    f"return logits (any real number; the loss applies the sigmoid): all 16 scores lie in [0, 1] "
    f"({scores.min():.3g} to {scores.max():.3g}), as after a sigmoid")
### BEGIN HIDDEN TESTS
convs = [l for l in d.layers if isinstance(l, layers.Conv2D)]
assert [c.strides for c in convs] == [(2, 2)] * 3, "down-sample with stride-2 convolutions to 4x4"
assert [c.filters for c in convs] == [8, 16, 32], "channels should double each block"
assert all(abs(l.negative_slope - 0.2) < 1e-6 for l in d.layers if isinstance(l, layers.LeakyReLU)), \
    "DCGAN's discriminator uses LeakyReLU with slope 0.2"
assert d.layers[-1].activation.__name__ == "linear", "return logits: no sigmoid on the last layer"
assert sum(isinstance(l, layers.BatchNormalization) for l in d.layers) == 2, \
    "no batch normalisation on the first block, on every other block"
### END HIDDEN TESTS

# %% tests grade_id="test_discriminator_float32" points=1
"""Under mixed precision the discriminator still returns float32 logits."""
policy = keras.config.dtype_policy()
keras.config.set_dtype_policy("mixed_bfloat16")  # as under mixed precision
try:
    mixed = build_discriminator(image_size=32, width=8)
finally:
    keras.config.set_dtype_policy(policy)
assert mixed.output.dtype == "float32", f"expected float32 logits under mixed precision (dtype='float32' on the last layer), got {mixed.output.dtype}"

# %% [markdown]
# ## Write the losses
#
# With logits `D(x)`, binary cross-entropy with `from_logits=True`:
#
# - the discriminator wants real → 1 and fake → 0:
#   `L_D = BCE(1, D(x)) + BCE(0, D(G(z)))`;
# - the generator wants its fakes called real (the *non-saturating* loss):
#   `L_G = BCE(1, D(G(z)))`.
#
# When D cannot tell real from fake it outputs probability ½ everywhere, so
# `L_D = 2·log 2 ≈ 1.386` and `L_G = log 2 ≈ 0.693`: the reference lines of the loss plot.
#
# Write both with the given `bce(labels, logits)`: the mean over the batch of
# `keras.losses.binary_crossentropy`, the *function*. (The class
# `keras.losses.BinaryCrossentropy` would also work on one device, but when several GPUs train
# together it divides its result by their number, and `apply_gradients` below already does.)
#
# ### Exercise 3

# %% solution grade_id="losses"
def bce(labels, logits):
    """Mean binary cross-entropy of logits against labels, in float32 (given)."""
    logits = tf.cast(logits, "float32")
    return tf.reduce_mean(keras.losses.binary_crossentropy(labels, logits, from_logits=True))



def discriminator_loss(real_logits, fake_logits):
    """BCE of real logits against 1 plus BCE of fake logits against 0 (batch means)."""
    ### BEGIN SOLUTION
    return bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits)
    ### END SOLUTION


def generator_loss(fake_logits):
    """Non-saturating generator loss: BCE of fake logits against 1."""
    ### BEGIN SOLUTION
    return bce(tf.ones_like(fake_logits), fake_logits)
    ### END SOLUTION

# %% tests grade_id="test_losses" points=3
"""Losses equal hand-computed values: a confused D gives 2 log 2 and log 2."""
zero = tf.zeros((4, 1))
d_zero, g_zero = float(discriminator_loss(zero, zero)), float(generator_loss(zero))
assert np.isclose(d_zero, 2 * np.log(2), atol=1e-5), (
    f"with logits 0 everywhere L_D = BCE(1, 0) + BCE(0, 0) should be the sum 2 log 2 = 1.386, got "
    f"{d_zero:.4f} (pass the logits to bce as they are: it applies the sigmoid)")
assert np.isclose(g_zero, np.log(2), atol=1e-5), (
    f"with logits 0 the non-saturating L_G = BCE(1, D(G(z))) should be log 2 = 0.693, got {g_zero:.4f}")
real, fake = tf.constant([[4.0], [2.0]]), tf.constant([[-3.0], [1.0]])
d_hand = (np.log1p(np.exp(-4)) + np.log1p(np.exp(-2))) / 2 + (np.log1p(np.exp(-3)) + np.log1p(np.exp(1))) / 2
assert np.isclose(float(discriminator_loss(real, fake)), d_hand, atol=1e-5), (
    f"real logits [4, 2], fake [-3, 1]: L_D = BCE(1, real) + BCE(0, fake) = {d_hand:.4f} (reals are "
    f"labelled 1, fakes 0), got {float(discriminator_loss(real, fake)):.4f}")
g_hand = (np.log1p(np.exp(3)) + np.log1p(np.exp(-1))) / 2
assert np.isclose(float(generator_loss(fake)), g_hand, atol=1e-5), (
    f"fake logits [-3, 1]: the non-saturating L_G = BCE(1, fake) = {g_hand:.4f}, got {float(generator_loss(fake)):.4f}")
### BEGIN HIDDEN TESTS
real, fake = tf.constant([[2.0], [0.0]]), tf.constant([[-1.0], [3.0]])
softplus = lambda v: np.log1p(np.exp(v))
expected_d = np.mean(softplus(-np.array([2.0, 0.0]))) + np.mean(softplus(np.array([-1.0, 3.0])))
assert np.isclose(float(discriminator_loss(real, fake)), expected_d, atol=1e-5), \
    "L_D must be the mean BCE of reals against 1 plus the mean BCE of fakes against 0"
assert np.isclose(float(generator_loss(fake)), np.mean(softplus(-np.array([-1.0, 3.0]))), atol=1e-5), \
    "L_G must be the mean BCE of the fake logits against 1 (non-saturating)"
### END HIDDEN TESTS

# %% [markdown]
# ## Write the train step
#
# One step updates both networks on one batch of real images, first D, then G:
#
# 1. **Discriminator.** Generate fakes from `gan.sample_noise(batch_size)`. Under a
#    `tf.GradientTape`, score reals and fakes with **one** discriminator call on
#    `tf.concat([real, fake])` (`training=True`), split the logits, compute `L_D`, then
#    update D with `apply_gradients`: D's optimiser, the tape, `L_D` and D's trainable variables.
# 2. **Generator.** Under a second tape, generate fresh fakes, score them with the *updated*
#    discriminator (again one call on the concatenated batch), compute `L_G`, and apply its
#    gradients the same way with `gan.g_optimizer` and the generator's variables.
# 3. Return a dict of numbers to track: `d_loss`, `g_loss`, and the discriminator's accuracy
#    on reals (`d_real_accuracy`: share of real logits > 0) and on fakes (`d_fake_accuracy`).
#
# Why one call on the concatenated batch? Batch normalisation then normalises reals and fakes
# together; with two separate calls D can tell them apart by their batch statistics alone.
# Why D first, then G? On this data, updating both from the same forward pass let D win at
# once and the generator collapse to a single image (try it: the health monitor warns).
#
# **`apply_gradients` (from `medganlab.training`)** takes the gradients of the loss from the
# tape and hands them to the optimiser. Use it instead of `tape.gradient` +
# `optimizer.apply_gradients`: on a GPU the course trains in `mixed_float16`, where the
# optimiser divides every gradient by a *loss scale* (2¹⁵ at the start) that protects small
# float16 gradients from rounding to zero, so the loss must be multiplied by that scale first.
# Forget it and the GAN learns 32,768 times too slowly, with no error. With several GPUs it
# also divides each GPU's loss by their number, because the optimiser adds their gradients.
#
# **Graph mode.** The course's `GAN` model calls your function from Keras `fit()`, which
# compiles it into a TensorFlow graph (`tf.function`): the tensors have no values yet, so
# `.numpy()`, `float(...)` and Python `if` on a tensor fail there. Use `tf.` operations only.
# The test below runs your step the same way. **Float32 logits.** The discriminator's last
# layer has `dtype="float32"`: under mixed precision the losses are then computed in float32,
# where `log(1 + e^-x)` does not overflow or round away.
#
# ### Exercise 4

# %% solution grade_id="train_step"
def train_step(gan, real_images, labels=None):
    """One DCGAN update of D, then of G, on a batch of real images; returns the tracked numbers."""
    ### BEGIN SOLUTION
    batch_size = tf.shape(real_images)[0]
    fake_images = gan.generator(gan.sample_noise(batch_size), training=True)
    with tf.GradientTape() as tape:
        logits = gan.discriminator(tf.concat([real_images, fake_images], axis=0), training=True)
        real_logits, fake_logits = logits[:batch_size], logits[batch_size:]
        d_loss = discriminator_loss(real_logits, fake_logits)
    apply_gradients(gan.d_optimizer, tape, d_loss, gan.discriminator.trainable_variables)
    with tf.GradientTape() as tape:
        fake_images = gan.generator(gan.sample_noise(batch_size), training=True)
        logits = gan.discriminator(tf.concat([real_images, fake_images], axis=0), training=True)
        g_loss = generator_loss(logits[batch_size:])
    apply_gradients(gan.g_optimizer, tape, g_loss, gan.generator.trainable_variables)
    return {
        "d_loss": d_loss,
        "g_loss": g_loss,
        "d_real_accuracy": tf.reduce_mean(tf.cast(real_logits > 0, "float32")),
        "d_fake_accuracy": tf.reduce_mean(tf.cast(fake_logits < 0, "float32")),
    }
    ### END SOLUTION

# %% tests grade_id="test_train_step" points=4
"""One train step, in graph mode as fit() runs it, updates both networks and reports the losses."""
keras.utils.set_random_seed(0)
tiny = GAN(build_generator(8, 16, 4), build_discriminator(16, 4), latent_dim=8, train_step_fn=train_step)
tiny.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
tiny.build_optimizers()
reals = tf.constant(np.random.default_rng(1).uniform(-1, 1, (8, 16, 16, 1)).astype("float32"))
before = {w.path: w.numpy().copy() for w in tiny.generator.weights + tiny.discriminator.weights}
try:
    logs = tf.function(lambda r: train_step(tiny, r))(reals)  # what fit() does
except Exception as error:
    raise AssertionError(f"your step fails in graph mode (tf.function, as inside fit()): {type(error).__name__}: {error}; use tf operations only: no .numpy() or NumPy on a tensor") from None
assert {"d_loss", "g_loss"} <= set(logs), f"return d_loss and g_loss, got keys {sorted(logs)}"
moved = lambda ws: any(not np.allclose(before[w.path], w.numpy()) for w in ws)
for net in (tiny.generator, tiny.discriminator):
    assert moved(net.trainable_weights), f"{net.name}: the weights did not change"
    assert moved(net.non_trainable_weights), f"{net.name}: batch-norm statistics did not move: call it with training=True"
assert float(logs["d_loss"]) > 0 and float(logs["g_loss"]) > 0, f"losses are BCEs, never negative: got {logs}"
### BEGIN HIDDEN TESTS
assert 0.0 <= float(logs["d_real_accuracy"]) <= 1.0, "accuracies are shares between 0 and 1"
frozen = GAN(build_generator(8, 16, 4), build_discriminator(16, 4), latent_dim=8, train_step_fn=train_step)
frozen.compile(g_optimizer=keras.optimizers.SGD(0.0), d_optimizer=keras.optimizers.Adam(1e-3))
d0 = float(train_step(frozen, reals)["d_loss"])
d_last = [float(train_step(frozen, reals)["d_loss"]) for _ in range(10)][-1]
assert d_last < d0, "against a frozen generator the discriminator loss must fall"
### END HIDDEN TESTS

# %% [markdown]
# ## Train, watch the samples, read the losses
#
# Put your networks into the course's `GAN` model and train with `fit_gan`, which wraps
# `fit()` with a checkpoint: run the cell again after a disconnect and it continues where it
# stopped. The checkpoint also records the optimisers' settings and the data set (its
# `data_root`); a re-run with other learning rates or regenerated data stops with a message
# saying what changed, instead of resuming a different run. The callbacks save a sample grid of fixed noise every epoch, the loss history and
# a health check (diversity of the samples).
#
# Three recipe settings from `cfg` leave your networks, losses and step exactly as they
# are (`cfg` shows which are on in your profile):
#
# - **Learning rates** (`cfg.learning_rate` for G, `cfg.d_learning_rate` for D, which uses
#   G's rate when `None`): DCGAN's 2e-4 for both in `gpu`. In `cpu` G learns four times as
#   fast as D (4e-4 and 1e-4). In a short run D learns its easier task first and wins: with
#   2e-4 for both, D's loss ended at 0.09–0.54 and G's at 4.7–6.1, far from the log 2 lines,
#   and the samples looked alike (diversity 0.67–0.81 of the real images'). With G at twice
#   D's rate (4e-4 and 2e-4): D's loss 0.2–0.8, G's 2.9–5.2, diversity 0.71–0.92. With D
#   slowed to 1e-4 as well: D's loss 0.75–0.98, G's 1.7–2.2 (the nearest to the log 2 lines),
#   diversity 0.81–0.97, and the samples' Fréchet distance (how far their statistics in a
#   classifier's features lie from the real images', lower is better; notebook 04 builds it)
#   14–25 instead of 22–74.
# - **Differentiable augmentation** (`cfg.diff_augment`, Zhao et al. 2020): every image the
#   discriminator sees in training, real or generated, gets the same kind of random
#   brightness/contrast change, shift and erased square. With a few thousand images D can
#   otherwise memorise the training set and win; the transforms are differentiable, so G
#   still gets its gradient through them.
# - **A moving average of G's weights** (`cfg.ema_decay`): the samples you look at and export
#   come from an average of the generator over the last steps, which smooths the
#   step-to-step oscillation of adversarial training.
#
# To try the last two yourself: `cfg = cfg.replace(diff_augment=("color", "translation",
# "cutout"), ema_decay=0.999)` before this cell, in a new run folder.
#
# Why `cpu` changes only the rates, measured on the `cpu` profile (620 updates) by the
# course's benchmark (`make bench`: the course's own training runs, outside this notebook;
# "G / average" where the run kept a moving average; a range where the same settings
# trained twice, and such twins differed by up to 3.4x in Fréchet distance):
#
# | recipe | Fréchet (G / average) | diversity (real = 1) |
# |---|---|---|
# | DCGAN as published (2e-4 for both) | 22–74 | 0.78–0.81 |
# | … with the average | 74 / 33 | 0.81 / 0.78 |
# | … with DiffAugment and the average | 7.5 / 8.6 | 0.46 / 0.46 |
# | … the same without the brightness/contrast transform | 12 / 10 | 0.42 / 0.38 |
# | G at twice D's rate (4e-4 and 2e-4) | 24–30 | 0.86–0.91 |
# | … with the average | 13 / 26 | 0.92 / 0.89 |
# | … with DiffAugment (no cutout) and the average | 17 / 14 | 0.33 / 0.37 |
# | **G at four times D's rate** (4e-4 and 1e-4, `cpu`) | 14–25 | 0.81–0.88 (this notebook's runs: 0.85–0.97) |
#
# At DCGAN's rates DiffAugment draws sharper chests (a lower Fréchet distance); with G at
# twice D's rate only the moving average's samples came out sharper (26 to 14; G's own went
# from 13 to 17). Either way the samples come out much more
# alike, with or without its brightness change. For a first GAN, varied samples matter more
# than slightly sharper ones, and the rates alone gave the most variety. This notebook's own
# runs: 0.67 with DCGAN's rates, 0.71 with G at twice D's rate, 0.97 with the `cpu` rates
# (0.85 in float32).
# Notebook 02, which learns eight findings from about 2,600 images, turns both levers on.

# %%
d_for_training = (augmented_discriminator(discriminator, cfg.diff_augment, seed=cfg.seed)
                  if cfg.diff_augment else discriminator)
gan = GAN(generator, d_for_training, latent_dim=cfg.latent_dim, train_step_fn=train_step)
gan.compile(g_optimizer=keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1),
            d_optimizer=keras.optimizers.Adam(cfg.discriminator_learning_rate, beta_1=cfg.beta_1))
run = run_dir("01_dcgan", cfg.profile)  # re-running resumes (fresh in smoke/grading)
ema = GeneratorEMA(cfg.ema_decay, run / "ema") if cfg.ema_decay else None
samples = SampleGrid(run / "samples", num_samples=cfg.sample_grid**2, generator=ema)
losses = LossHistory(run)
health = HealthMonitor(reference_images=real_batch, generator=ema)

# %%
history = fit_gan(gan, train_ds, epochs=cfg.epochs, steps_per_epoch=cfg.steps_per_epoch,
                  checkpoint_dir=run / "checkpoints", data_root=data_root,
                  callbacks=[c for c in (ema, samples, losses, health) if c is not None])
# what the grids show and what is exported (a finished run reloads its saved average)
sampler = ema.attach(generator) if ema else generator

# %% [markdown]
# The grid of the last epoch (the same noise every epoch, so you can follow each sample). The
# grid maps the generator's `[-1, 1]` to `[0, 1]` (black to white) and is shown on that fixed
# range, so a grey image really is grey: an untrained generator (the `smoke` run) draws flat
# mid-grey squares. The `cpu` run draws chests: dark lung fields with a ribbed texture, the
# mediastinum between them widening into the heart shadow, the diaphragm domes over a bright
# abdomen, the shoulders and clavicles at the top, in some samples a white patch in a lung.
# The heart's border is a soft edge, not the sharp one of the real images. The samples vary
# in lung shape, exposure and findings: in our run the diversity (below) was 0.97 of the
# real images'.

# %%
show_images([samples.grids[-1]], size=6, vmin=0, vmax=1, suptitle=f"Generated after {cfg.epochs} epoch(s)")
plt.show()

# %% [markdown]
# Read the curves against the reference lines. Healthy training hovers near them: D's loss
# around 2·log 2, G's around log 2, neither running to 0. A discriminator loss that goes to 0
# while the generator's climbs means D has won and G gets no useful gradient; samples that all
# look alike while the losses oscillate mean *mode collapse*.
#
# What the `cpu` run looks like: D far ahead after the first epoch (its loss near 0.1, G's
# near 4–5), then the two settle. With the `cpu` rates D's loss ended at 0.75–0.98 and G's
# at 1.7–2.2 in our runs (with DCGAN's 2e-4 for both: 0.09–0.54 and 4.7–6.1). The course aims
# at a sample diversity of 0.8 of the real images' or more at this budget; our four runs of
# this recipe gave 0.81, 0.85 (this notebook in float32, as on a CPU without bfloat16), 0.88
# and 0.97 (this notebook's in bfloat16). Runs vary: with G at twice D's
# rate the course's benchmark gave 0.86–0.91 but one run of this notebook 0.71, with D's loss at
# 0.22. Below the aim the grid repeats a few chest shapes (partial mode collapse). A
# diversity that keeps falling, with the grid's samples converging on one chest, is full
# mode collapse; the health check warns below 0.1.

# %%
plot_history(losses.history, keys=["d_loss", "g_loss"], title="DCGAN losses")
plt.axhline(2 * np.log(2), ls="--", c="C0", lw=0.8)
plt.axhline(np.log(2), ls="--", c="C1", lw=0.8)
plt.show()

# %%
show_metrics("01_dcgan", {"epochs": cfg.epochs, "final d_loss": losses.history["d_loss"][-1],
                          "final g_loss": losses.history["g_loss"][-1],
                          "sample diversity": health.history[-1] if health.history else float("nan")})

# %% [markdown]
# Export the generator: notebook 04 loads it to measure it, without importing this notebook.

# %%
artifact = export_generator(sampler, f"01_dcgan_{cfg.profile}",
                            {"latent_dim": cfg.latent_dim, "image_size": cfg.image_size,
                             "profile": cfg.profile, "assignment": "01_dcgan"})
artifact

# %% [markdown] readonly grade_id="q_read_the_run"
# ### Exercise 5 (written)
#
# Look at your sample grids and loss curves. Is your run healthy? Name one sign in the curves
# and one in the samples that supports your answer, and say what you would change if it
# collapsed.

# %% [markdown] manual grade_id="read_the_run" points=2
# === BEGIN MARK SCHEME ===
# One curve sign (losses near the log 2 lines / D loss not at 0 / G loss not diverging) and one
# sample sign (diverse anatomy across the grid, lungs, heart, ribs, diaphragm visible; or their
# absence in a collapse). A fix for collapse: lower D's learning rate, label smoothing, fewer D
# steps, minibatch discrimination, or restart from an earlier checkpoint (1 mark each).
# === END MARK SCHEME ===
#
# YOUR ANSWER HERE

# %% [markdown]
# ## Key points
#
# - DCGAN: transposed convolutions up, strided convolutions down, batch normalisation,
#   ReLU/LeakyReLU(0.2), `tanh` output, N(0, 0.02) weights.
# - A GAN trains two networks against each other with two optimisers in one step.
# - The log 2 lines tell you what a confused discriminator scores; watch samples as well as
#   losses, because losses alone do not show mode collapse.
#
# ## Further reading
#
# - Radford, Metz, Chintala (2015). [Unsupervised representation learning with deep
#   convolutional GANs](https://arxiv.org/abs/1511.06434).
# - Goodfellow et al. (2014). [Generative adversarial nets](https://arxiv.org/abs/1406.2661).
# - [TensorFlow tutorial: DCGAN](https://www.tensorflow.org/tutorials/generative/dcgan).
# - [keras-io: DCGAN overriding `train_step`](https://keras.io/examples/generative/dcgan_overriding_train_step/).
