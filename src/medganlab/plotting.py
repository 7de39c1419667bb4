"""Plotting helpers so notebooks show results in one line (figures are not graded)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["show_images", "plot_history"]


def show_images(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    cmap: str = "gray",
    vmin: float | None = None,
    vmax: float | None = None,
    size: float = 3.0,
    suptitle: str | None = None,
):
    """Show 2-D images side by side (grayscale by default) and return the figure."""
    images = [np.asarray(img).squeeze() for img in images]
    if not images:
        raise ValueError("show_images: expected at least one image, got none")
    ncols = ncols or min(len(images), 6)
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for index, (ax, img) in enumerate(zip(axes.flat, images, strict=False)):
        ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        if titles is not None and index < len(titles):
            ax.set_title(titles[index], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_history(
    history: Mapping[str, Sequence[float]] | object,
    keys: Sequence[str] | None = None,
    title: str = "Training curves",
):
    """Plot the curves of a Keras ``History`` (or a dict of lists) against the epoch."""
    data = getattr(history, "history", history)
    if not isinstance(data, Mapping) or not data:
        raise ValueError("plot_history: expected a keras History or a non-empty dict of lists")
    keys = list(keys or data.keys())
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key in keys:
        values = list(data[key])
        ax.plot(range(1, len(values) + 1), values, marker="o", ms=3, label=key)
    ax.set_xlabel("epoch")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
