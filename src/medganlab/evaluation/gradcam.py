"""Grad-CAM and the pointing game: where does a binary classifier look? (assignment 05)

Grad-CAM (Selvaraju et al. 2017): weight each channel of a convolutional layer by the
spatial mean of the gradient of the class score, sum, keep the positive part, upsample to
the input. The class score is the *logit* of the "abnormal" output (the sigmoid saturates,
its gradient vanishes for confident predictions), recomputed from the input of the final
``Dense`` layer named ``predictions``.

Pointing game (Zhang et al. 2016): a hit when the map's maximum falls inside a lesion box.
:func:`chance_rate` gives the hit rate of a point drawn uniformly over the image.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["grad_cam", "peaks", "pointing_game", "chance_rate", "show_grad_cam"]


def grad_cam(
    model,
    images: np.ndarray,
    layer: str = "block5_conv3",
    output_layer: str = "predictions",
    batch: int = 32,
) -> np.ndarray:
    """Grad-CAM maps (N, H, W) in [0, 1] at the input's resolution (bilinear upsampling).

    Raises:
        ValueError: the model has no layer named ``layer`` or ``output_layer``.
    """
    import keras
    import tensorflow as tf

    names = [lay.name for lay in model.layers]
    for name in (layer, output_layer):
        if name not in names:
            raise ValueError(f"no layer {name!r} in the model; its layers are {names}")
    if len(images) == 0:
        return np.zeros((0, *np.shape(images)[1:3]), np.float32)
    head = model.get_layer(output_layer)
    probe = keras.Model(model.inputs, [model.get_layer(layer).output, head.input])
    kernel = tf.cast(head.kernel, tf.float32)
    bias = tf.cast(head.bias, tf.float32)
    maps = []
    for start in range(0, len(images), batch):
        x = tf.convert_to_tensor(images[start : start + batch], tf.float32)
        with tf.GradientTape() as tape:
            conv, features = probe(x, training=False)
            logit = tf.matmul(tf.cast(features, tf.float32), kernel) + bias
        grads = tf.cast(tape.gradient(logit, conv), tf.float32)
        conv = tf.cast(conv, tf.float32)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * conv, axis=-1, keepdims=True))
        cam = tf.image.resize(cam, images.shape[1:3], method="bilinear")[..., 0]
        top = tf.reduce_max(cam, axis=(1, 2), keepdims=True)
        maps.append((cam / tf.maximum(top, 1e-12)).numpy())
    return np.concatenate(maps).astype(np.float32)


def peaks(maps: np.ndarray) -> np.ndarray:
    """(N, 2) peak positions ``(x, y)`` as fractions of the width and height (pixel centres)."""
    maps = np.asarray(maps)
    n, height, width = maps.shape
    flat = maps.reshape(n, -1).argmax(axis=1)
    rows, cols = np.divmod(flat, width)
    return np.stack([(cols + 0.5) / width, (rows + 0.5) / height], axis=1)


def pointing_game(maps: np.ndarray, boxes: Sequence[Sequence[Sequence[float]]]) -> np.ndarray:
    """Per image: True when the map's peak lies inside one of its boxes ``[x0, y0, x1, y1]``.

    Raises:
        ValueError: not one box list per map.
    """
    if len(maps) != len(boxes):
        raise ValueError(f"expected one box list per map, got {len(maps)} maps, {len(boxes)}")
    hits = []
    for (x, y), image_boxes in zip(peaks(maps), boxes, strict=True):
        hits.append(any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in image_boxes))
    return np.array(hits, bool)


def chance_rate(boxes: Sequence[Sequence[Sequence[float]]], grid: int = 128) -> float:
    """Hit rate of a uniformly random point: the mean share of the image its boxes cover."""
    centres = (np.arange(grid) + 0.5) / grid
    xs, ys = np.meshgrid(centres, centres)
    shares = []
    for image_boxes in boxes:
        inside = np.zeros_like(xs, bool)
        for x0, y0, x1, y1 in image_boxes:
            inside |= (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
        shares.append(inside.mean())
    return float(np.mean(shares)) if shares else float("nan")


def show_grad_cam(
    images,
    maps,
    boxes,
    titles: Sequence[str] | None = None,
    size: float = 2.2,
    suptitle: str | None = None,
):
    """Rows of images with the Grad-CAM overlay, the lesion boxes (green) and the peak (x)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    n = len(images)
    ncols = min(n, 6)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    points = peaks(np.asarray(maps))
    for k, ax in enumerate(axes.flat[:n]):
        side = images[k].shape[0]
        ax.imshow(np.squeeze(images[k]), cmap="gray")
        ax.imshow(maps[k], cmap="jet", alpha=0.35, vmin=0, vmax=1)
        for x0, y0, x1, y1 in boxes[k]:
            xy = (x0 * side - 0.5, y0 * side - 0.5)
            rect = Rectangle(xy, (x1 - x0) * side, (y1 - y0) * side, fill=False, ec="lime", lw=1)
            ax.add_patch(rect)
        ax.plot(points[k, 0] * side - 0.5, points[k, 1] * side - 0.5, "wx", ms=7, mew=2)
        if titles is not None:
            ax.set_title(titles[k], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
