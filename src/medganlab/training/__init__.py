"""The GAN training harness: a ``keras.Model`` GAN, callbacks, checkpoint/resume, artifacts.

Infrastructure only: the train step a student writes is passed in as ``train_step_fn``.
"""

from medganlab.training.artifacts import (
    artifact_path,
    export_generator,
    find_artifact,
    install_reference_artifacts,
    load_generator,
    pack_reference_artifacts,
)
from medganlab.training.callbacks import (
    HealthMonitor,
    LossHistory,
    ModeCollapseWarning,
    SampleGrid,
    default_verbose,
    images_to_grid,
    mean_pairwise_distance,
)
from medganlab.training.checkpoints import GanCheckpoint, fit_gan, restore_latest
from medganlab.training.gan import GAN, reference_train_step, tile_labels
from medganlab.training.recipes import DiffAugment, GeneratorEMA, augmented_discriminator
from medganlab.training.updates import apply_gradients, loss_scale_factor, update_if

__all__ = [
    "GAN",
    "apply_gradients",
    "loss_scale_factor",
    "update_if",
    "reference_train_step",
    "tile_labels",
    "DiffAugment",
    "augmented_discriminator",
    "GeneratorEMA",
    "SampleGrid",
    "LossHistory",
    "HealthMonitor",
    "ModeCollapseWarning",
    "default_verbose",
    "images_to_grid",
    "mean_pairwise_distance",
    "GanCheckpoint",
    "restore_latest",
    "fit_gan",
    "export_generator",
    "load_generator",
    "find_artifact",
    "pack_reference_artifacts",
    "install_reference_artifacts",
    "artifact_path",
]
