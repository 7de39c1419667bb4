"""The twelve segmentation runs of assignment 08: scenarios, training data, loss, resumable runs.

The KiTS augmentation paper (Choe et al. 2023) trains three segmenters in four scenarios:

====  =======================  ==================  ======================
  #   scenario                 synthetic slices    geometric augmentation
====  =======================  ==================  ======================
  1   none                     no                  no
  2   geometric                no                  yes
  3   synthetic                yes (07's set)      no
  4   synthetic + geometric    yes                 yes
====  =======================  ==================  ======================

Synthetic slices only ever join the *training* split (they come from notebook 07's artifact,
which :func:`medganlab.training.synthetic_set.load_synthetic_set` refuses when any source
patient is outside the caller's training split). Validation and test slices are real.

Runs are resumable: :func:`train_run` wraps :func:`medganlab.training.runs.fit_resumable`
(the runs of assignment 05), so a disconnect resumes at the last finished epoch and a
finished run is reloaded instead of trained again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers, ops
from scipy import ndimage

from medganlab.data.ct_slices import check_label_map
from medganlab.paths import artifacts_dir
from medganlab.training import runs, synthetic_set

__all__ = [
    "Scenario",
    "SCENARIOS",
    "MODELS",
    "LOSSES",
    "FULL_SIZE_FLOPS",
    "resize_pairs",
    "load_synthetic",
    "training_arrays",
    "make_dataset",
    "SegmentationLoss",
    "compile_segmenter",
    "predict_labels",
    "TRAINING_KNOBS",
    "config_tag",
    "run_folder",
    "KeepBest",
    "train_run",
    "forward_flops",
    "gpu_hours",
]


@dataclass(frozen=True)
class Scenario:
    """One of the paper's four training scenarios (its Table 1)."""

    number: int
    name: str
    synthetic: bool  # 07's synthetic slices join the training split
    geometric: bool  # rotation, translation and zoom, the same for slice and label map


SCENARIOS: dict[int, Scenario] = {
    1: Scenario(1, "none", synthetic=False, geometric=False),
    2: Scenario(2, "geometric", synthetic=False, geometric=True),
    3: Scenario(3, "synthetic", synthetic=True, geometric=False),
    4: Scenario(4, "synthetic + geometric", synthetic=True, geometric=True),
}
MODELS = ("U-Net1", "U-Net2", "FPN")  # light U-Net, heavy U-Net, feature pyramid network
LOSSES = ("ce", "dice", "ce+dice")
# Forward FLOPs per 256x256 slice of the given models at full width (heavy_unet() and fpn()
# with their defaults; tested), so a notebook can estimate GPU time without building 46 M
# parameters.
FULL_SIZE_FLOPS = {"U-Net2": 96_200_556_544, "FPN": 15_092_154_368}


def resize_pairs(
    images: np.ndarray, labels: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Resize slices (bilinear, clipped to [-1, 1]) and label maps (nearest) to ``size``.

    The same resampling as :func:`medganlab.data.kits.slice_arrays` uses for real slices, so
    synthetic slices from 07 (at 07's size) match the real ones of 08.
    """
    images = np.asarray(images, np.float32)
    labels = check_label_map(labels, like=images)
    if images.ndim != 4 or images.shape[-1] != 1:
        raise ValueError(f"images: expected (N, S, S, 1), got {images.shape}")
    if images.shape[1:3] == (size, size):
        return images, labels
    factors = (1.0, size / images.shape[1], size / images.shape[2], 1.0)
    resized = ndimage.zoom(images, factors, order=1, mode="nearest", grid_mode=True)
    masks = ndimage.zoom(labels, factors, order=0, mode="nearest", grid_mode=True)
    return np.clip(resized, -1.0, 1.0).astype(np.float32), masks.astype(np.uint8)


def load_synthetic(
    profile: str, train_patients: list[str], dataset: str, size: int
) -> dict[str, Any] | None:
    """07's synthetic slices for this training split, resized to ``size``; None if absent.

    Looks in your own artifacts, then the course's reference artifacts. When neither holds
    the set, prints what to do and returns None (the notebook then skips scenarios 3 and 4).

    Returns:
        ``images``, ``labels``, ``manifest`` and ``source`` (``"own"`` or ``"reference"``).

    Raises:
        ValueError: the set was made from patients outside ``train_patients`` or from another
            data set (see :func:`medganlab.training.synthetic_set.load_synthetic_set`).
    """
    name = synthetic_set.synthetic_set_name(profile)
    try:
        images, labels, manifest = synthetic_set.load_synthetic_set(
            name, train_patients, dataset=dataset
        )
    except FileNotFoundError as error:
        print(f"No synthetic set: {error}\nScenarios 3 and 4 are skipped.")
        return None
    own = (artifacts_dir() / name / "manifest.json").is_file()
    images, labels = resize_pairs(images, labels, size)
    return {
        "images": images,
        "labels": labels,
        "manifest": manifest,
        "source": "own" if own else "reference",
    }


def training_arrays(
    images: np.ndarray,
    labels: np.ndarray,
    synthetic: dict[str, Any] | None,
    scenario: Scenario,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training slices of a scenario: real ones, plus synthetic ones in scenarios 3 and 4.

    Returns:
        ``(images, labels, is_synthetic)``.

    Raises:
        ValueError: the scenario needs synthetic slices and ``synthetic`` is None.
    """
    flags = np.zeros(len(images), bool)
    if not scenario.synthetic:
        return images, labels, flags
    if synthetic is None:
        raise ValueError(
            f"scenario {scenario.number} ({scenario.name}) needs 07's synthetic slices; "
            "run notebook 07 to the end first"
        )
    return (
        np.concatenate([images, synthetic["images"]]),
        np.concatenate([labels, synthetic["labels"]]),
        np.concatenate([flags, np.ones(len(synthetic["images"]), bool)]),
    )


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    augment=None,
    shuffle: bool = True,
    repeat: bool = False,
    seed: int = 0,
):
    """A ``tf.data`` pipeline of (slice, label map) batches.

    Args:
        augment: ``augment(images, labels) -> (images, labels)`` on a batch (notebook 08's
            paired augmenter), applied on the fly: a new transformation every epoch.
        shuffle: reshuffle every epoch (seeded).
        repeat: repeat forever (for a fixed ``steps_per_epoch``).
    """
    import tensorflow as tf

    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(
            f"expected as many label maps as slices (and at least one), got {len(images)} "
            f"and {len(labels)}"
        )
    data = tf.data.Dataset.from_tensor_slices(
        (np.asarray(images, np.float32), check_label_map(labels, like=images))
    )
    if shuffle:
        data = data.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        data = data.repeat()
    data = data.batch(batch_size)
    if augment is not None:
        # one call at a time: a seeded augmenter then replays the same transformations
        # (parallel calls would draw from its generator in a varying order)
        data = data.map(augment)
    return data.prefetch(tf.data.AUTOTUNE)


@keras.saving.register_keras_serializable(package="medganlab")
class SegmentationLoss(keras.losses.Loss):
    """Cross-entropy, soft Dice, or their sum, on softmax outputs and integer label maps.

    ``"ce"``: mean pixel-wise cross-entropy; ``"dice"``: 1 − the soft Dice of the
    foreground classes (kidney, tumour; background left out), each computed over the whole
    batch (a batch without tumour then still has a defined Dice) and averaged; ``"ce+dice"``:
    their sum — cross-entropy gives smooth gradients everywhere, Dice keeps the small tumour
    from drowning in background pixels.
    """

    def __init__(
        self, kind: str = "ce+dice", smooth: float = 1.0, name: str | None = None, **kwargs
    ):
        if kind not in LOSSES:
            raise ValueError(f"kind: expected one of {LOSSES}, got {kind!r}")
        super().__init__(name=name or f"loss_{kind.replace('+', '_')}", **kwargs)
        self.kind, self.smooth = kind, float(smooth)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        labels = ops.cast(ops.reshape(y_true, ops.shape(y_pred)[:-1]), "int32")
        total = ops.zeros(())
        if self.kind in ("ce", "ce+dice"):
            total = total + ops.mean(keras.losses.sparse_categorical_crossentropy(labels, y_pred))
        if self.kind in ("dice", "ce+dice"):
            onehot = ops.one_hot(labels, ops.shape(y_pred)[-1], dtype="float32")[..., 1:]
            probs = y_pred[..., 1:]
            axes = (0, 1, 2)
            inter = ops.sum(onehot * probs, axis=axes)
            sizes = ops.sum(onehot, axis=axes) + ops.sum(probs, axis=axes)
            dice = (2.0 * inter + self.smooth) / (sizes + self.smooth)
            total = total + 1.0 - ops.mean(dice)
        return total

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "kind": self.kind, "smooth": self.smooth}


def compile_segmenter(
    model: keras.Model,
    learning_rate: float = 1e-3,
    loss: str = "ce+dice",
    jit_compile: bool | str = "auto",
    run_eagerly: bool = False,
) -> keras.Model:
    """Compile with Adam (the paper: learning rate 1e-3) and :class:`SegmentationLoss`."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=SegmentationLoss(loss),
        jit_compile=jit_compile and not run_eagerly,
        run_eagerly=run_eagerly,
    )
    return model


def predict_labels(model: keras.Model, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Predicted label maps (N, H, W, 1) uint8: the argmax of the softmax per pixel."""
    out = []
    for start in range(0, len(images), batch_size):
        probs = model(np.asarray(images[start : start + batch_size], np.float32), training=False)
        out.append(np.argmax(ops.convert_to_numpy(probs), axis=-1).astype(np.uint8))
    return np.concatenate(out)[..., None]


TRAINING_KNOBS = (
    "cases", "data_size", "ct_slice_thickness_mm", "data_seed", "image_size", "light_width",
    "light_depth", "heavy_width", "heavy_depth", "fpn_encoder", "fpn_encoder_width",
    "fpn_pyramid", "fpn_head", "batch_size", "epochs", "steps_per_epoch", "learning_rate",
    "loss", "keep_best", "rotation_degrees", "translation", "zoom",
)  # fmt: skip


def config_tag(config: Any, knobs: tuple[str, ...] = TRAINING_KNOBS) -> str:
    """A short name for the knobs that shape a run (``cfg-1a2b3c4d``): runs trained with other
    values live in another folder, so a changed knob never reloads a stale run."""
    values = {k: getattr(config, k) for k in knobs if hasattr(config, k)}
    digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()
    return f"cfg-{digest[:8]}"


def run_folder(root: str | os.PathLike, model_name: str, scenario: int, seed: int) -> Path:
    """Where one run keeps its weights, logs and ``done.json``: ``<root>/<model>_s<n>_seed<k>``."""
    if model_name not in MODELS or scenario not in SCENARIOS:
        raise ValueError(
            f"expected a model in {MODELS} and a scenario in {sorted(SCENARIOS)}, "
            f"got {model_name!r}, {scenario!r}"
        )
    slug = model_name.lower().replace("-", "")
    return Path(root) / f"{slug}_s{scenario}_seed{seed}"


class KeepBest(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the lowest ``monitor`` and puts them back at the end.

    The weights and the best value live in ``folder`` (``best.weights.h5``, ``best.json``), so
    a run resumed after a disconnect still knows its best epoch so far.
    """

    def __init__(self, folder: str | os.PathLike, monitor: str = "val_loss"):
        super().__init__()
        self.folder, self.monitor = Path(folder), monitor
        self.weights, self.state = self.folder / "best.weights.h5", self.folder / "best.json"
        self.best = float("inf")

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.state.is_file() and self.weights.is_file():
            self.best = float(json.loads(self.state.read_text())["value"])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is not None and float(value) < self.best:
            self.best = float(value)
            self.model.save_weights(self.weights)
            self.state.write_text(json.dumps({"epoch": epoch + 1, "value": self.best}))

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.weights.is_file():
            self.model.load_weights(self.weights)


def train_run(
    model: keras.Model,
    train,
    validation,
    folder: str | os.PathLike,
    epochs: int,
    steps_per_epoch: int | None = None,
    verbose: int | str = 0,
    keep_best: bool = True,
) -> dict[str, Any]:
    """Train (or resume, or reload) one run: see :func:`medganlab.training.runs.fit_resumable`.

    With ``keep_best`` the run ends with the weights of its epoch with the lowest validation
    loss (:class:`KeepBest`; the validation split's job), else with the last epoch's.

    Returns:
        the record of ``fit_resumable`` plus ``best_epoch`` (None without ``keep_best``).
    """
    extra = [KeepBest(folder)] if keep_best else []
    record = runs.fit_resumable(
        model, train, validation, folder, epochs, steps_per_epoch, verbose=verbose, callbacks=extra
    )
    state = Path(folder) / "best.json"
    best = json.loads(state.read_text())["epoch"] if keep_best and state.is_file() else None
    return {**record, "best_epoch": best}


def forward_flops(model: keras.Model) -> int:
    """Forward-pass FLOPs per image of the convolutions, transposed ones included (multiply-add = 2)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2DTranspose):
            _, height, width, cin = layer.input.shape
            kh, kw = layer.kernel_size
            total += 2 * height * width * cin * kh * kw * layer.filters
        elif isinstance(layer, layers.Conv2D):
            _, height, width, cout = layer.output.shape
            kh, kw = layer.kernel_size
            total += 2 * height * width * cout * kh * kw * layer.input.shape[-1]
    return int(total)


def gpu_hours(
    flops_per_image: float,
    train_images: int,
    val_images: int,
    epochs: int,
    peak_flops: float = 65e12,
    utilisation: float = 0.25,
) -> float:
    """Estimated hours of one run: training ≈ 3 forward passes per image, validation one.

    The default is a T4 (65 TFLOPS float16 tensor-core peak) at 25 % utilisation — an
    assumption, not a measurement (the course's 05 uses the same).
    """
    work = epochs * (3 * train_images + val_images) * flops_per_image
    return float(work / (peak_flops * utilisation) / 3600)
