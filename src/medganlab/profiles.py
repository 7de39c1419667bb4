"""Run profiles: one switch (``MEDGANLAB_PROFILE``) sizes every notebook.

``smoke``  seconds per notebook: CI, nbval and autograding. Proves the code runs.
``cpu``    a 2-core laptop: minutes per notebook, recognisable results.
``gpu``    the papers' scale (256x256 GAN outputs, VGG-16 at 224, 512x512 CT).

Unset, the profile is ``smoke`` when ``NBGRADER_EXECUTION`` or ``CI`` is set, ``gpu`` when
TensorFlow sees a GPU, else ``cpu``. Every notebook reads its knobs from one cell::

    cfg = medganlab.profile_for("01_dcgan")

The same code runs in all three profiles; only the numbers below change.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PROFILES",
    "ASSIGNMENTS",
    "active_profile",
    "profile_for",
    "profile_overrides",
    "SetupAndDataConfig",
    "DcganConfig",
    "ConditionalGanConfig",
    "MultiscaleGanConfig",
    "FddConfig",
    "VggConfig",
    "GanAugmentationConfig",
    "Pix2PixConfig",
    "SegmentationConfig",
    "SurveyConfig",
]

PROFILES = ("smoke", "cpu", "gpu")


def _gpu_visible() -> bool:
    """True when TensorFlow sees a GPU (imports TensorFlow only when it is installed)."""
    try:
        import tensorflow as tf
    except ImportError:
        return False
    return bool(tf.config.list_physical_devices("GPU"))


def active_profile(environ: dict[str, str] | None = None, gpu: bool | None = None) -> str:
    """Return the active profile name.

    Args:
        environ: the environment to read (default ``os.environ``).
        gpu: whether a GPU is visible (default: ask TensorFlow, only if needed).

    Raises:
        ValueError: ``MEDGANLAB_PROFILE`` holds a name that is not a profile.
    """
    env = os.environ if environ is None else environ
    name = env.get("MEDGANLAB_PROFILE", "").strip().lower()
    if name:
        if name not in PROFILES:
            raise ValueError(
                f"MEDGANLAB_PROFILE={env['MEDGANLAB_PROFILE']!r} is not a run profile; "
                f"expected one of: {', '.join(PROFILES)}"
            )
        return name
    if env.get("NBGRADER_EXECUTION") or env.get("CI"):
        return "smoke"
    if gpu is None:
        gpu = _gpu_visible()
    return "gpu" if gpu else "cpu"


@dataclass(frozen=True)
class _Config:
    """Knobs common to every assignment."""

    assignment: str
    profile: str
    seed: int = 42

    def replace(self, **changes: Any) -> _Config:
        """Return a copy with some knobs changed (for experiments in a notebook)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """All knobs as a plain dict (for reports)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SetupAndDataConfig(_Config):
    """00_setup_and_data: the data tour and the Keras warm-up."""

    cxr_images: int = 64  # chest X-ray phantoms generated for the tour
    cxr_size: int = 128  # their side in pixels
    ct_cases: int = 2  # kidney-CT phantom cases generated for the tour
    ct_size: int = 128  # in-plane side in pixels
    ct_slice_thickness_mm: float = 5.0
    warmup_samples: int = 512  # toy data points for the Keras warm-up
    warmup_epochs: int = 5
    batch_size: int = 64


class _GanRates:
    """Adam rates of a GAN config: ``learning_rate`` for G, ``d_learning_rate`` for D."""

    learning_rate: float
    d_learning_rate: float | None

    @property
    def discriminator_learning_rate(self) -> float:
        """D's rate: its own when set (a recipe's choice), else G's (as the papers train)."""
        return self.learning_rate if self.d_learning_rate is None else self.d_learning_rate


@dataclass(frozen=True)
class DcganConfig(_GanRates, _Config):
    """01_dcgan: unconditional DCGAN on the chest X-ray phantom."""

    image_size: int = 64
    train_images: int = 4000
    latent_dim: int = 100
    generator_width: int = 64  # filters of the last generator block (doubles per block)
    discriminator_width: int = 64
    batch_size: int = 64
    epochs: int = 10
    steps_per_epoch: int | None = None  # None: one pass over the images
    learning_rate: float = 2e-4  # G's Adam rate (and D's unless d_learning_rate is set)
    d_learning_rate: float | None = None  # D's Adam rate; None = learning_rate (as published)
    beta_1: float = 0.5
    sample_grid: int = 8  # the fixed-noise grid is sample_grid x sample_grid
    # Recipe levers for small step budgets (medganlab.training.recipes); off = DCGAN as
    # published. diff_augment: transforms of DiffAugment applied to every image D sees in
    # training, e.g. ("color", "translation", "cutout"); ema_decay: draw and export samples
    # from a moving average of G's weights (e.g. 0.999), None = the trained G itself.
    diff_augment: tuple[str, ...] = ()
    ema_decay: float | None = None


@dataclass(frozen=True)
class ConditionalGanConfig(DcganConfig):
    """02_conditional_gan: one-hot conditioning on the 8 findings."""

    num_classes: int = 8
    per_finding_samples: int = 8  # columns of the per-finding sample grid
    classifier_images: int = 2400  # reference finding classifier: training set size
    classifier_epochs: int = 8
    eval_per_finding: int = 64  # generated images per finding for the conditional accuracy
    # discriminator of the main (exported) run: "concat" (the paper: label tiled as channels,
    # the graded one) or "projection" (Miyato & Koyama 2018, medganlab.models; an extension)
    discriminator: str = "concat"
    # also train a second run with the other discriminator (same epochs, recipe and data) so
    # the notebook charts both conditional accuracies side by side
    compare_discriminators: bool = False
    # AC-GAN (Odena et al. 2017; medganlab.training.auxiliary): a class head on the projection
    # discriminator learns the findings from the reals and G's loss asks it for the label, with
    # this weight; None = off (as published). Never added to the paper's concatenation run.
    auxiliary_weight: float | None = None
    # class-balanced sampling (nih.make_dataset(balance=True)): every finding as often as the
    # commonest in the training batches, for D, G's labels and the class head; False = the
    # data's own frequencies (as published). An epoch stays one pass's worth of steps.
    balance: bool = False


@dataclass(frozen=True)
class MultiscaleGanConfig(_GanRates, _Config):
    """03_multiscale_attention_gan (SPEC §A): the paper's tree generator, LSGAN, tau, 1:5."""

    image_size: int = 256  # the top scale; the tree draws image_size/4, /2 and /1
    train_images: int = 100_000  # generated images; about a third carry exactly one finding
    latent_dim: int = 100
    num_classes: int = 8
    generator_width: int = 64  # StackGAN-v2 GF_DIM: 16*w channels at 4x4, w at image_size/4
    discriminator_width: int = 64  # StackGAN-v2 DF_DIM: first conv, doubling up to 8*w
    batch_size: int = 16
    epochs: int = 20
    steps_per_epoch: int | None = None  # None: one pass over the images
    learning_rate: float = 2e-5  # G's Adam rate (and D's unless d_learning_rate is set)
    d_learning_rate: float | None = None  # D's Adam rate; None = learning_rate (the paper)
    beta_1: float = 0.5
    d_steps_per_g_step: int = 5  # G:D updates 1:5
    tau_step: float = 0.1  # tau rises by tau_step every tau_every_epochs epochs (max 1)
    tau_every_epochs: int = 5
    attention_pool: int = 2  # keys/values max-pooled 2x2 as in the official SAGAN code
    # tau gates a learnable gamma (starts at 1); False: tau replaces it, as the paper reads
    learnable_gamma: bool = True
    per_finding_samples: int = 8  # columns of the per-finding sample grid
    eval_per_finding: int = 500  # generated images per finding for the conditional accuracy
    # not the paper: an auxiliary class head on the top scale's D, trained on the reals, and
    # this weight x its cross-entropy in D's and G's losses (AC-GAN); None: the paper's losses
    auxiliary_weight: float | None = None
    # not the paper: a projection term (Miyato & Koyama 2018) added to the conditional head
    # of "all" scales or the "top" one (medganlab.training.scale_projection); None: the
    # paper's heads. Losses and train step stay the paper's (the student's own step, unless
    # auxiliary_weight is also set)
    projection: str | None = None
    # not the paper: draw, judge and export a moving average of G's weights (e.g. 0.999,
    # medganlab.training.recipes.GeneratorEMA); None: the trained G itself
    ema_decay: float | None = None


@dataclass(frozen=True)
class FddConfig(_Config):
    """04_evaluating_gans (SPEC FDD): Fréchet DenseNet Distance per finding, 02 vs 03."""

    feature_size: int = 128  # DenseNet-121 input side; generated images are area-resized to it
    feature_train_images: int = 20_000  # NIH-prevalence phantoms (80 % train, 20 % validation)
    feature_epochs: int = 12
    feature_batch: int = 32
    feature_learning_rate: float = 1e-3
    feature_train_backbone: bool = True  # False: train the head only (smoke: tracing is slow)
    imagenet_weights: bool = False  # True needs the internet (3-channel input); never required
    count_scale: float = 1.0  # x the paper's per-finding counts (Atelectasis 1000 ...)
    min_per_finding: int = 200  # floor on the scaled counts
    real_images: int = 9_500  # balanced single-finding phantoms: the real side (~n/9 per finding)
    pca_components: int = 128  # FDD in the top principal axes of the real features (< min count)
    bias_start: int = 50  # sample-size study: n = bias_start, 2x, 4x ... up to half the validation


@dataclass(frozen=True)
class VggConfig(_Config):
    """05_vgg16_kernels_activations (SPEC §B): VGG-16, 3x3 vs 7x7, Sigmoid/Tanh/ELU, ROC/AUC."""

    image_size: int = 224  # input side (1 channel)
    images_per_class: int = 10_000  # normal + as many abnormal images, split 60/20/20 by patient
    data_size: int = 256  # side of the generated phantoms (area-resized to image_size)
    width: float = 1.0  # multiplies every conv and dense width (1.0: 64 ... 512 and 4096)
    batch_size: int = 64
    epochs: int = 100
    # The paper's 94 steps x 64 = 6,016 images per epoch: about half of the 12,000 training
    # images (60 % of 20,000), so an "epoch" here is half a pass. None: one full pass.
    steps_per_epoch: int | None = 94
    validation_steps: int | None = 25  # None: the whole validation split
    optimizer: str = "adam"  # the paper is silent; Adam with Keras' defaults otherwise
    learning_rate: float = 3e-4
    batch_norm: bool = (
        False  # the paper is silent and VGG-16 has none; True: BN before each activation
    )
    dropout: float = 0.5  # after fc1 and fc2, as in VGG-16
    gap_window: int = 3  # the generalisation gap: mean over the last gap_window epochs
    # smoke: tracing the train step costs ~7 s of CPU per run, more than two eager steps
    run_eagerly: bool = False
    bootstrap: int = 2000  # patient-level bootstrap resamples for the 95 % CIs
    gradient_images: int = 64  # one batch for the gradient norms at initialisation
    gradcam_images: int = 500  # abnormal test images scored in the pointing game
    data_seed: int = 5


@dataclass(frozen=True)
class GanAugmentationConfig(_Config):
    """06_gan_augmentation: do GAN samples of rare findings help an imbalanced classifier?"""

    images: int = 112_120  # NIH-prevalence multi-label phantoms (ChestX-ray14's size)
    data_size: int = 128  # generated side (the phantom renders 64 px and up)
    image_size: int = 128  # classifier input; real and generated images are area-resized to it
    classifier_width: int = 32  # filters of the first block (doubling, at most 8x)
    batch_size: int = 64
    steps: int = 10_000  # optimiser steps per arm: the same budget for every arm
    evaluations: int = 10  # validation passes during training (points of the loss curves)
    learning_rate: float = 1e-3
    # minority findings that get synthetic images (the four rarest in ChestX-ray14)
    minority: tuple[str, ...] = ("Cardiomegaly", "Mass", "Pneumonia", "Pneumothorax")
    ratios: tuple[float, ...] = (0.5, 1.0, 2.0)  # synthetic per real training image of a finding
    seeds: tuple[int, ...] = (0, 1, 2)  # every arm is trained once per seed
    class_weight_cap: float = 50.0  # positive weight neg/pos of a finding, at most this
    rotation_degrees: float = 5.0  # geometric augmentation: rotation, shift, zoom
    shift: float = 0.05  # fraction of the side
    zoom: float = 0.1
    tstr_per_finding: int = 2000  # synthetic images per finding for "train on synthetic"
    bootstrap: int = 1000  # patient-level bootstrap resamples for the 95 % CIs
    eval_per_finding: int = 500  # generated images per finding for 02's conditional accuracy
    run_eagerly: bool = False  # smoke: tracing costs more than two eager steps


@dataclass(frozen=True)
class Pix2PixConfig(_Config):
    """07_pix2pix_ct (SPEC §C): Pix2Pix label map -> kidney CT slice, synthetic set for 08."""

    cases: int = 100  # phantom patients (the paper: 6,400 slices of 100 KiTS19 patients)
    data_size: int = 256  # generated in-plane size
    ct_slice_thickness_mm: float = 3.0
    data_seed: int = 0  # the phantom set shared with 08
    image_size: int = 256  # Pix2Pix input/output side
    # "labels": the paper's input, the label map alone; "labels+body": plus the body outline
    condition: str = "labels+body"
    compare_conditions: bool = True  # also train the other condition and show both
    generator_width: int = 64  # U-Net encoder 64-128-256-512-512...
    discriminator_width: int = 64  # PatchGAN 64-128-256-512 (70x70 receptive field)
    batch_size: int = 8  # the TF tutorial uses 1; 8 keeps batch norm statistics stable
    epochs: int = 40
    steps_per_epoch: int | None = 1000  # 40 x 1000: the tutorial's 40k steps
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    l1_weight: float = 100.0
    triptych_slices: int = 4  # fixed validation slices drawn every epoch
    edit_fraction: float = 0.5  # share of synthetic slices whose tumour is resized/moved
    tumour_scale: tuple[float, float] = (0.7, 1.4)  # tumour size factor range (edited maps)
    tumour_shift: float = 0.04  # maximum tumour shift, fraction of the image side


@dataclass(frozen=True)
class SegmentationConfig(_Config):
    """08_kidney_segmentation (SPEC §C): U-Net1, U-Net2 and FPN in four scenarios, per-slice IoU."""

    # the phantom of 07 in the same profile (same folder: same patients, same split)
    cases: int = 100
    data_size: int = 256
    ct_slice_thickness_mm: float = 3.0
    data_seed: int = 0
    image_size: int = 256  # segmenter input side (07's synthetic slices are resized to it)
    light_width: int = 16  # U-Net1: widths w, 2w, 4w and an 8w bottleneck (16-32-64-128)
    light_depth: int = 3
    heavy_width: int = 64  # U-Net2: Ronneberger's 64 ... 1024 (31 M parameters)
    heavy_depth: int = 4
    fpn_encoder: str = "resnet18"  # FPN: ResNet-18 64 ... 512, from scratch
    fpn_encoder_width: int = 64
    fpn_pyramid: int = 256
    fpn_head: int = 128
    batch_size: int = 16
    epochs: int = 100  # the paper's 100 epochs, Adam 1e-3
    steps_per_epoch: int | None = None  # None: one pass over the training slices
    learning_rate: float = 1e-3
    loss: str = "ce+dice"  # "ce", "dice" or "ce+dice" (the paper is silent)
    keep_best: bool = True  # end each run with its best validation epoch (False: the last)
    rotation_degrees: float = 15.0  # geometric augmentation (the paper gives no ranges)
    translation: float = 0.1  # fraction of the side
    zoom: float = 0.1
    seeds: tuple[int, ...] = (0, 1, 2)  # every run once per seed
    empty: str = "one"  # empty-vs-empty slices score 1 ("one") or are left out ("exclude")
    bootstrap: int = 2000  # patient-level bootstrap resamples for the 95 % CIs
    run_eagerly: bool = False  # smoke: tracing costs more than two eager steps
    overlay_slices: int = 4  # test slices shown across scenarios
    gallery: int = 6  # worst slices in the failure gallery


@dataclass(frozen=True)
class SurveyConfig(_Config):
    """09_course_survey: nothing to train; where answers go and whether to prefill them."""

    # smoke (CI, nbval): fill the form with an example and save into a throw-away folder,
    # so every cell runs without anyone clicking; never the course's inbox.
    example_answers: bool = False
    scratch_inbox: bool = False

    def inbox(self):
        """Folder the response is written to (see ``medganlab.survey.responses``)."""
        import tempfile
        from pathlib import Path

        if self.scratch_inbox:
            return Path(tempfile.mkdtemp(prefix="medganlab-survey-"))
        from medganlab.survey.responses import default_inbox

        return default_inbox()


# Each assignment: its config class and the knobs that differ per profile.
_TABLE: dict[str, tuple[type[_Config], dict[str, dict[str, Any]]]] = {
    "00_setup_and_data": (
        SetupAndDataConfig,
        {
            "smoke": dict(
                cxr_images=16,
                cxr_size=64,
                ct_cases=1,
                ct_size=64,
                ct_slice_thickness_mm=10.0,
                warmup_samples=256,
                warmup_epochs=2,
            ),
            "cpu": dict(
                cxr_images=64,
                cxr_size=256,
                ct_cases=2,
                ct_size=256,
                ct_slice_thickness_mm=5.0,
                warmup_samples=2048,
                warmup_epochs=10,
            ),
            "gpu": dict(
                cxr_images=256,
                cxr_size=512,
                ct_cases=4,
                ct_size=512,
                ct_slice_thickness_mm=3.0,
                warmup_samples=8192,
                warmup_epochs=20,
            ),
        },
    ),
    "01_dcgan": (
        DcganConfig,
        {
            "smoke": dict(
                image_size=32,
                train_images=128,
                generator_width=16,
                discriminator_width=16,
                batch_size=32,
                epochs=1,
                steps_per_epoch=2,
                sample_grid=4,
                # the recipe levers' code path runs in CI (off in cpu and gpu: DCGAN as
                # published, until the quality bench shows they help at the cpu budget)
                diff_augment=("color", "translation", "cutout"),
                ema_decay=0.999,
            ),
            # 32-wide networks, 620 updates: 0.17-0.33 s a step at 64x64, batch 64, on 2 cores
            # with bf16 (the whole notebook 3 min); about 0.8 s in float32 on an older CPU
            "cpu": dict(
                image_size=64,
                train_images=4000,
                generator_width=32,
                discriminator_width=32,
                epochs=10,
                # G at four times D's rate (issue 18, gan_recipes 01 rows): with DCGAN's 2e-4
                # for both D won (d_loss 0.09-0.54, g_loss 4.7-6.1) and the samples looked
                # alike (diversity 0.67-0.81 of the real images'); G 4e-4 / D 2e-4: d_loss
                # 0.2-0.8, diversity 0.71-0.92; G 4e-4 / D 1e-4: d_loss 0.75-0.98, g_loss
                # 1.7-2.2, diversity 0.81-0.97 (four runs), Fréchet 14-25 (before 22-74).
                # DiffAugment (0.33-0.46) and the average alone (0.78) made them more alike
                learning_rate=4e-4,
                d_learning_rate=1e-4,
            ),
            "gpu": dict(
                image_size=128,
                train_images=20_000,
                generator_width=128,
                discriminator_width=128,
                epochs=25,
            ),
        },
    ),
    "02_conditional_gan": (
        ConditionalGanConfig,
        {
            # train_images counts generated images; about a third carry exactly one finding
            "smoke": dict(
                image_size=32,
                train_images=160,
                generator_width=16,
                discriminator_width=16,
                batch_size=16,
                epochs=1,
                steps_per_epoch=2,
                sample_grid=4,
                per_finding_samples=2,
                classifier_images=180,
                classifier_epochs=1,
                eval_per_finding=4,
                # the recipe's code path runs in CI; the comparison run is skipped (its
                # XLA compile alone would add ~15 s to the smoke notebook)
                diff_augment=("color", "translation", "cutout"),
                ema_decay=0.999,
            ),
            "cpu": dict(
                image_size=64,
                train_images=8000,
                generator_width=32,
                discriminator_width=32,
                # 8 epochs: two runs fit the 15 minutes (10 epochs: 17.8). Batch 32 (gpu: 64)
                # makes 8 x 81 = 648 updates of the same images at the same cost (issue 18,
                # gan_recipes *_b32 rows, G / EMA): AC run 0.38 / 0.37 -> 0.57 / 0.53,
                # concatenation 0.17 / 0.16 -> 0.19 / 0.20, Fréchet about halved
                batch_size=32,
                # G at twice D's rate: AC run -> 0.61 / 0.64 (Pneumonia at 0 in EMA; the
                # notebook: 0.63 in bf16, 0.59 in float32 with every finding above 0);
                # the reverse, D faster (G 1e-4, D 4e-4), measured no gain; D slower still
                # (1e-4, 01's rates) 0.48 / 0.56 with class-balanced batches: a loss
                learning_rate=4e-4,
                d_learning_rate=2e-4,
                epochs=8,
                classifier_images=3600,
                classifier_epochs=8,
                eval_per_finding=64,
                # a second run with the projection discriminator (~7-8 min on 2 idle cores)
                compare_discriminators=True,
                # the projection run also gets an auxiliary classifier: mean conditional
                # accuracy 0.17-0.24 -> 0.39-0.42 at 400 updates of batch 64 (issue 18)
                auxiliary_weight=1.0,
                # a few hundred updates on ~2,600 images: DiffAugment keeps D from memorising
                # them (Fréchet 146 -> 18 with the projection D, issue 18); EMA smooths the
                # samples. No cutout: the erased square often hides the finding; without it
                # (at batch 64) the AC run gave 0.35-0.38 instead of 0.26-0.36
                diff_augment=("color", "translation"),
                ema_decay=0.999,
                # every finding as often as the commonest (issue 18, *_bal rows, G / EMA): AC
                # run 0.33 / 0.61 -> 0.56 / 0.80 (seed 43: 0.72 / 0.68; the notebook 0.69 in
                # bf16), none at 0 (Pneumonia 0.02 -> 0.38-0.64), at the same steps and cost;
                # the concatenation 0.17 / 0.17 -> 0.17 / 0.21 (the notebook 0.22)
                balance=True,
            ),
            "gpu": dict(
                image_size=128,
                train_images=80_000,
                generator_width=128,
                discriminator_width=128,
                epochs=25,
                per_finding_samples=16,
                classifier_images=20_000,
                classifier_epochs=15,
                eval_per_finding=500,
            ),
        },
    ),
    "03_multiscale_attention_gan": (
        MultiscaleGanConfig,
        {
            # smoke: 8/16/32 px, 2 steps; reuses 02's smoke images
            "smoke": dict(
                image_size=32,
                train_images=160,
                generator_width=4,
                discriminator_width=4,
                batch_size=8,
                epochs=1,
                steps_per_epoch=2,
                per_finding_samples=2,
                eval_per_finding=4,
            ),
            # cpu: 16/32/64 px; ~1,300 single-finding training images = 80 steps per epoch,
            # about 0.1 s per step on 2 cores with bf16 (7.2 GFLOP with G every 2nd step) ->
            # about 5 min of training, ~1 min of data
            "cpu": dict(
                image_size=64,
                train_images=4000,
                generator_width=8,
                discriminator_width=8,
                per_finding_samples=6,
                eval_per_finding=64,
                # the paper's 2e-5 is for 25,000 G updates; for ~320 it leaves blotches
                # (Fréchet 106 on the judge's features, every row read as Effusion); 2e-4,
                # DCGAN's rate: chests with lung fields, domes, mediastinum (Fréchet 50)
                learning_rate=2e-4,
                # not the paper (gan_recipes 03 rows, bf16 CPU; G / EMA, mean share read as
                # asked by the judge): the paper's heads 0.10-0.17; an AC head at weight 3
                # 0.20-0.36 but mostly signalled by grey levels (0.11-0.16 once matched) and
                # blurred (Fréchet 56-76); a projection term in every conditional head at 40
                # epochs 0.22-0.29, drawn (0.20-0.24 matched), Fréchet 16-36 for the average;
                # with G every 2nd step (1,600 G updates, 1.5x the time) 0.35-0.40 (0.27-0.31
                # matched), Fréchet 17-19, at most one finding at 0. The trained G swings
                # (Fréchet up to 114) where its average stays steady
                projection="all",
                # not taken: G at twice D's rate (01 and 02's lever; d_learning_rate=2e-4,
                # learning_rate=4e-4): the average 0.54 and 0.36 in two bench seeds, but 0.14
                # in the notebook's run (every request read as Pneumothorax): unsteady. D
                # slowed instead (d_learning_rate=1e-4, 01's direction): 0.21, a loss
                epochs=40,  # tau every 10 epochs still ends at 0.3
                tau_every_epochs=10,
                ema_decay=0.999,
                d_steps_per_g_step=2,
            ),
            "gpu": dict(),  # the paper: 64/128/256, 100k images, batch 16, 20 epochs
        },
    ),
    "04_evaluating_gans": (
        FddConfig,
        {
            "smoke": dict(
                feature_size=32,
                feature_train_images=200,
                feature_epochs=1,
                feature_train_backbone=False,
                count_scale=0.01,
                min_per_finding=8,
                real_images=120,
                pca_components=4,
                bias_start=8,
            ),
            # ~12 min first run on 2 busy cores (DenseNet 6, phantoms 4; both cached), rerun ~1 min
            "cpu": dict(
                feature_size=48,
                feature_train_images=3000,
                feature_epochs=3,
                count_scale=0.25,
                min_per_finding=60,
                real_images=2300,
                pca_components=32,
                bias_start=25,
            ),
            "gpu": dict(),  # the paper's counts; about 40 min on a T4 (estimate, not measured)
        },
    ),
    "05_vgg16_kernels_activations": (
        VggConfig,
        {
            # smoke: 32 px (the smallest input five poolings allow), 1/16 width, 2 steps
            "smoke": dict(
                image_size=32,
                images_per_class=48,
                data_size=64,
                width=0.0625,
                batch_size=16,
                epochs=1,
                steps_per_epoch=2,
                validation_steps=1,
                gap_window=1,
                run_eagerly=True,
                bootstrap=50,
                gradient_images=8,
                gradcam_images=8,
            ),
            # cpu: 64 px, 1/8 width (625k parameters with 3x3), full passes; five runs in
            # about 10 min on 2 idle cores (the 7x7 run is the slowest)
            "cpu": dict(
                image_size=64,
                images_per_class=1500,
                data_size=64,
                width=0.125,
                epochs=8,
                steps_per_epoch=None,
                validation_steps=None,
                bootstrap=1000,
                gradient_images=64,
                gradcam_images=200,
            ),
            "gpu": dict(),  # the paper: 224 px, 10,000 + 10,000, batch 64, 94 steps, 100 epochs
        },
    ),
    "06_gan_augmentation": (
        GanAugmentationConfig,
        {
            # smoke: 300 images, 32 px, a 4-wide classifier, 1 eager step per arm
            "smoke": dict(
                images=300,
                data_size=64,
                image_size=32,
                classifier_width=4,
                batch_size=16,
                steps=1,
                evaluations=1,
                ratios=(1.0,),
                seeds=(0,),
                tstr_per_finding=8,
                bootstrap=50,
                eval_per_finding=4,
                run_eagerly=True,
            ),
            # cpu: 6,000 images at 48 px, 9 arms x 500 steps, one seed: 0.14 s per step on 2
            # shared cores, 13.4 min in all (course/schedule.md); needs 02 and 03's cpu runs
            "cpu": dict(
                images=6000,
                data_size=64,
                image_size=48,
                classifier_width=16,
                steps=500,
                evaluations=5,
                ratios=(1.0, 4.0),
                seeds=(0,),
                tstr_per_finding=300,
                eval_per_finding=64,
            ),
            "gpu": dict(),  # NIH scale, 3 seeds x 11 arms (T4 time: see the notebook)
        },
    ),
    "07_pix2pix_ct": (
        Pix2PixConfig,
        {
            # smoke: 32 px, 5 patients, tiny networks, 2 steps per condition
            "smoke": dict(
                cases=5,
                data_size=64,
                ct_slice_thickness_mm=10.0,
                image_size=32,
                generator_width=4,
                discriminator_width=4,
                batch_size=4,
                epochs=1,
                steps_per_epoch=2,
                triptych_slices=2,
                compare_conditions=False,  # one model: tracing dominates the smoke time
            ),
            # cpu: 128 px, 24 patients (430 training slices), 16-wide networks, batch 8;
            # two conditions x 500 steps (0.35-0.45 s/step on 2 busy cores; the spine appears
            # between 300 and 500 steps). See course/schedule.md for the measured time.
            "cpu": dict(
                cases=24,
                data_size=128,
                ct_slice_thickness_mm=5.0,
                image_size=128,
                generator_width=16,
                discriminator_width=16,
                batch_size=8,
                epochs=10,
                steps_per_epoch=50,
            ),
            "gpu": dict(),  # 256 px, 100 patients, batch 8, 40k steps (T4 time: see the notebook)
        },
    ),
    "08_kidney_segmentation": (
        SegmentationConfig,
        {
            # smoke: 07's smoke phantom at 32 px, 4-wide and shallow networks, one eager step per run
            "smoke": dict(
                cases=5,
                data_size=64,
                ct_slice_thickness_mm=10.0,
                image_size=32,
                light_width=4,
                light_depth=2,
                heavy_width=4,
                heavy_depth=2,
                fpn_encoder="resnet10",
                fpn_encoder_width=4,
                fpn_pyramid=8,
                fpn_head=4,
                batch_size=8,
                epochs=1,
                steps_per_epoch=1,
                keep_best=False,  # one epoch: nothing to choose (tests/test_segmentation_runs.py)
                seeds=(0,),
                bootstrap=50,
                run_eagerly=True,
                overlay_slices=2,
                gallery=3,
            ),
            # cpu: 07's cpu phantom (24 patients, 429 training slices) at 64 px, one seed, batch
            # 8, 12 epochs (kidney IoU levels off after 9-12); U-Net1 123k, U-Net2 488k, FPN
            # 244k parameters; about 10, 10 and 3 s per epoch on 2 busy cores (08's notebook).
            "cpu": dict(
                cases=24,
                data_size=128,
                ct_slice_thickness_mm=5.0,
                image_size=64,
                light_width=8,
                heavy_width=8,
                fpn_encoder_width=8,
                fpn_pyramid=32,
                fpn_head=16,
                batch_size=8,
                epochs=12,
                seeds=(0,),
                bootstrap=1000,
            ),
            "gpu": dict(),  # 256 px, 100 patients, paper widths, 100 epochs, 3 seeds
        },
    ),
    "09_course_survey": (
        SurveyConfig,
        {"smoke": dict(example_answers=True, scratch_inbox=True), "cpu": dict(), "gpu": dict()},
    ),
}

ASSIGNMENTS = tuple(sorted(_TABLE))


def profile_for(assignment: str, profile: str | None = None) -> _Config:
    """Return every knob of ``assignment`` (its folder name) in the active profile.

    Args:
        assignment: the assignment folder name, e.g. ``"01_dcgan"``.
        profile: force a profile instead of the active one.

    Raises:
        ValueError: unknown assignment or profile name.
    """
    if assignment not in _TABLE:
        raise ValueError(
            f"unknown assignment {assignment!r}; expected one of: {', '.join(ASSIGNMENTS)}"
        )
    name = active_profile() if profile is None else profile
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; expected one of: {', '.join(PROFILES)}")
    config_class, per_profile = _TABLE[assignment]
    return config_class(assignment=assignment, profile=name, **per_profile[name])


def profile_overrides(assignment: str, profile: str) -> dict:
    """What ``profile`` itself sets for ``assignment``: its knobs that leave the defaults.

    E.g. the settings only ``cpu`` sets (its recipe branches) are the keys of
    ``profile_overrides(a, "cpu")`` that ``profile_overrides(a, "smoke")`` lacks.

    Raises:
        ValueError: unknown assignment or profile name.
    """
    profile_for(assignment, profile)  # the same errors for unknown names
    return dict(_TABLE[assignment][1][profile])
