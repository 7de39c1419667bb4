"""Pix2Pix plumbing for notebook 07 (never a graded answer): receptive fields, generating in
batches, the per-epoch triptych callback and the figures (triptychs, HU histograms).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from medganlab.data.ct_slices import REGIONS, check_label_map, to_hu

__all__ = [
    "receptive_field",
    "generate",
    "label_rgb",
    "Triptychs",
    "triptych_figure",
    "hu_histogram_figure",
    "pair_dataset",
]

_COLOURS = np.array([[0, 0, 0], [220, 60, 50], [250, 210, 40]], np.float32) / 255.0
_BODY = np.array([0.25, 0.25, 0.3], np.float32)


def receptive_field(model: keras.Model) -> int:
    """Side in input pixels seen by one output unit of a chain of convolutions.

    ``r = 1 + sum((k - 1) * d * product of earlier strides)`` over the model's ``Conv2D``
    layers in order (padding and non-convolution layers do not change it).
    """
    size, jump = 1, 1
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D) and not isinstance(
            layer, keras.layers.Conv2DTranspose
        ):
            kernel, stride = layer.kernel_size[0], layer.strides[0]
            size += (kernel - 1) * layer.dilation_rate[0] * jump
            jump *= stride
    return size


def generate(generator: keras.Model, conditions: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Synthetic slices (float32, [-1, 1]) for ``conditions``, in inference mode, in batches."""
    conditions = np.asarray(conditions, np.float32)
    out = [
        np.asarray(generator(conditions[i : i + batch_size], training=False), np.float32)
        for i in range(0, len(conditions), batch_size)
    ]
    if not out:
        return np.zeros((0, *generator.output_shape[1:]), np.float32)
    return np.concatenate(out)


def label_rgb(labels: np.ndarray, body: np.ndarray | None = None) -> np.ndarray:
    """Label map (H, W[, 1]) as RGB: body grey, kidney red, tumour yellow."""
    labels = (
        check_label_map(labels).squeeze(-1) if np.ndim(labels) == 3 else check_label_map(labels)
    )
    rgb = _COLOURS[labels]
    if body is not None:
        inside = (np.asarray(body).reshape(labels.shape) > 0) & (labels == 0)
        rgb[inside] = _BODY
    return rgb


def _to_rgb(image: np.ndarray) -> np.ndarray:
    grey = (np.clip(np.asarray(image, np.float32).squeeze(), -1, 1) + 1) / 2
    return np.repeat(grey[..., None], 3, axis=-1)


def _triptych_rows(labels, body, reals, fakes, pad: int = 2) -> np.ndarray:
    rows = []
    for i in range(len(reals)):
        tiles = [
            label_rgb(labels[i], None if body is None else body[i]),
            _to_rgb(reals[i]),
            _to_rgb(fakes[i]),
        ]
        gap = np.ones((tiles[0].shape[0], pad, 3), np.float32)
        rows.append(np.concatenate([tiles[0], gap, tiles[1], gap, tiles[2]], axis=1))
        rows.append(np.ones((pad, rows[-1].shape[1], 3), np.float32))
    return np.concatenate(rows[:-1], axis=0)


class Triptychs(keras.callbacks.Callback):
    """Every epoch: label map, real and synthetic slice of fixed held-out slices, as a PNG.

    Args:
        conditions: the generator inputs of the fixed slices (N, S, S, C).
        labels, body, reals: their label maps, body masks and real slices.
        out_dir: folder of ``triptych_epoch_XXX.png``.
    """

    def __init__(self, conditions, labels, body, reals, out_dir: str | os.PathLike):
        super().__init__()
        self.conditions = np.asarray(conditions, np.float32)
        self.labels, self.body, self.reals = labels, body, reals
        self.out_dir = Path(out_dir)
        self.frames: list[np.ndarray] = []
        self.paths: list[Path] = []
        for path in sorted(self.out_dir.glob("triptych_epoch_*.png")):  # a resumed run
            with Image.open(path) as image:
                self.frames.append(np.asarray(image.convert("RGB"), np.float32) / 255.0)
            self.paths.append(path)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        fakes = generate(self.model.generator, self.conditions)
        frame = _triptych_rows(self.labels, self.body, self.reals, fakes)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"triptych_epoch_{epoch + 1:03d}.png"
        Image.fromarray((frame * 255).round().astype(np.uint8)).save(path)
        keep = [i for i, p in enumerate(self.paths) if p.name < path.name]  # drop retrained epochs
        self.frames = [self.frames[i] for i in keep] + [frame]
        self.paths = [self.paths[i] for i in keep] + [path]


def triptych_figure(labels, body, reals, fakes: Mapping[str, np.ndarray], size: float = 2.2):
    """Rows of slices: label map, real, then one synthetic column per entry of ``fakes``."""
    columns = ["label map", "real", *fakes]
    fig, axes = plt.subplots(
        len(reals), len(columns), figsize=(size * len(columns), size * len(reals)), squeeze=False
    )
    for i in range(len(reals)):
        tiles = [label_rgb(labels[i], None if body is None else body[i]), _to_rgb(reals[i])]
        tiles += [_to_rgb(images[i]) for images in fakes.values()]
        for ax, tile, title in zip(axes[i], tiles, columns, strict=True):
            ax.imshow(tile, interpolation="nearest")
            ax.axis("off")
            if i == 0:
                ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def hu_histogram_figure(reals, labels, fakes: Mapping[str, np.ndarray], bins: int = 40):
    """One panel per label region: HU histograms of the real and each synthetic set."""
    labels = check_label_map(labels, like=reals)
    fig, axes = plt.subplots(1, len(REGIONS), figsize=(4.2 * len(REGIONS), 3.2))
    edges = np.linspace(-200, 200, bins + 1)
    for ax, (value, name) in zip(axes, REGIONS.items(), strict=True):
        mask = labels == value
        for title, images in {"real": reals, **fakes}.items():
            hu = to_hu(np.asarray(images)[mask])
            if hu.size:
                ax.hist(hu, bins=edges, density=True, histtype="step", lw=1.5,
                        label=f"{title} (mean {hu.mean():.0f})")  # fmt: skip
        ax.set_title(f"{name} ({int(mask.sum())} px)")
        ax.set_xlabel("HU (W400/L0 window)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def pair_dataset(images: np.ndarray, conditions: np.ndarray, batch_size: int, seed: int = 0):
    """Endless shuffled ``(real slice, condition)`` batches for ``fit()`` (full batches only).

    No geometric augmentation: a left-right flip would put the liver on the wrong side, and
    the label map and the body outline must move with the slice.
    """
    import tensorflow as tf

    images, conditions = np.asarray(images, np.float32), np.asarray(conditions, np.float32)
    if images.shape[:3] != conditions.shape[:3]:
        raise ValueError(
            f"expected conditions with the slices' shape {images.shape[:3]} (+ channels), "
            f"got {conditions.shape}"
        )
    if len(images) < batch_size:
        raise ValueError(f"expected at least one batch of {batch_size} slices, got {len(images)}")
    dataset = tf.data.Dataset.from_tensor_slices((images, conditions))
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).repeat()
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
