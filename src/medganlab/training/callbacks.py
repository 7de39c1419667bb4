"""Callbacks for :class:`~medganlab.training.gan.GAN`: sample grids, loss curves, health.

``SampleGrid`` draws the same fixed noise every epoch (PNG per epoch, an animated GIF at the
end); ``LossHistory`` keeps the per-epoch logs (``history.json``, ``loss_curves.png``);
``HealthMonitor`` measures sample diversity and warns when the generator collapses.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path

import keras
import numpy as np
from PIL import Image

__all__ = [
    "SampleGrid",
    "LossHistory",
    "HealthMonitor",
    "ModeCollapseWarning",
    "default_verbose",
    "images_to_grid",
    "mean_pairwise_distance",
]


class ModeCollapseWarning(UserWarning):
    """Warned by :class:`HealthMonitor` when the samples lose their diversity."""


def default_verbose() -> int | str:
    """``fit()`` verbosity: 2 (one line per epoch) under nbgrader, CI or ``MEDGANLAB_QUIET``
    (headless runs such as ``make reproduce``), else ``"auto"`` (a live progress bar)."""
    from medganlab.parallel import quiet

    if quiet() or os.environ.get("CI"):
        return 2
    return "auto"


def images_to_grid(images: np.ndarray, ncols: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile images ``(n, h, w, c)`` in [-1, 1] into one float32 grid in [0, 1].

    Returns ``(rows*h + pads, cols*w + pads)`` for one channel, else with a channel axis.

    Raises:
        ValueError: ``images`` is not 4-D.
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4:
        raise ValueError(
            f"images_to_grid: expected images (n, height, width, channels), got {images.shape}"
        )
    n, h, w, c = images.shape
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    grid = np.ones((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), dtype="float32")
    scaled = np.clip((images + 1.0) / 2.0, 0.0, 1.0)
    for index in range(n):
        row, col = divmod(index, ncols)
        top, left = pad + row * (h + pad), pad + col * (w + pad)
        grid[top : top + h, left : left + w] = scaled[index]
    return grid[..., 0] if c == 1 else grid


def _save_png(grid: np.ndarray, path: Path) -> None:
    array = np.round(np.clip(grid, 0.0, 1.0) * 255).astype("uint8")
    Image.fromarray(array).save(path)


def mean_pairwise_distance(images: np.ndarray) -> float:
    """Mean L2 distance between all pairs of (flattened) images."""
    flat = np.asarray(images, dtype="float64").reshape(len(images), -1)
    if len(flat) < 2:
        raise ValueError(f"mean_pairwise_distance: expected at least 2 images, got {len(flat)}")
    squared = (flat**2).sum(axis=1)
    d2 = np.maximum(squared[:, None] + squared[None, :] - 2.0 * flat @ flat.T, 0.0)
    upper = np.triu_indices(len(flat), k=1)
    return float(np.sqrt(d2[upper]).mean())


def _generator_inputs(
    latent_dim: int, num_classes: int | None, num_samples: int, labels, seed: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Fixed noise (and one-hot labels) for a grid, from its own NumPy seed."""
    z = np.random.default_rng(seed).normal(size=(num_samples, latent_dim)).astype("float32")
    if num_classes is None:
        if labels is not None:
            raise ValueError("labels given, but the GAN is unconditional (num_classes=None)")
        return z, None
    if labels is None:  # one row per class
        per_class = math.ceil(num_samples / num_classes)
        labels = np.repeat(np.arange(num_classes), per_class)[:num_samples]
    labels = np.asarray(labels)
    if labels.ndim == 1:
        if len(labels) != num_samples:
            raise ValueError(f"labels: expected {num_samples} labels, got {len(labels)}")
        labels = np.eye(num_classes, dtype="float32")[labels.astype(int)]
    elif labels.shape != (num_samples, num_classes):
        raise ValueError(
            f"labels: expected shape ({num_samples},) or ({num_samples}, {num_classes}), "
            f"got {labels.shape}"
        )
    return z, labels.astype("float32")


def _drawing_generator(gan, source=None):
    """The generator to draw from: ``source`` (a model, or an object with a ``generator``
    such as :class:`~medganlab.training.recipes.GeneratorEMA`), else ``gan.generator``."""
    if source is None:
        return gan.generator
    drawn = getattr(source, "generator", source)
    return gan.generator if drawn is None else drawn


def _generate(
    gan,
    z: np.ndarray,
    onehot: np.ndarray | None,
    output_index: int | None = None,
    source=None,
) -> np.ndarray:
    """Samples of ``gan.generator`` (or of ``source``, see :func:`_drawing_generator`);
    ``output_index`` picks one output of a multi-output one.

    Raises:
        ValueError: the generator has several outputs and ``output_index`` is ``None``, or
            ``output_index`` is out of range.
    """
    from medganlab.training.gan import generator_inputs

    generator = _drawing_generator(gan, source)
    inputs = generator_inputs(generator, keras.ops.convert_to_tensor(z), onehot)
    images = generator(inputs, training=False)
    if isinstance(images, (list, tuple)):
        if output_index is None:
            if len(images) != 1:
                raise ValueError(
                    f"the generator has {len(images)} outputs: pass output_index= to choose "
                    "the one to draw (e.g. -1 for the top scale of a multi-scale generator)"
                )
            output_index = 0
        if not -len(images) <= output_index < len(images):
            raise ValueError(
                f"output_index: expected an index into the generator's {len(images)} outputs, "
                f"got {output_index}"
            )
        images = images[output_index]
    elif output_index not in (None, 0, -1):
        raise ValueError(
            f"output_index: the generator has one output, got output_index={output_index}"
        )
    return np.asarray(keras.ops.convert_to_numpy(images), dtype="float32")


class SampleGrid(keras.callbacks.Callback):
    """Save a grid of samples from fixed noise every ``every`` epochs, and a GIF at the end.

    Writes ``samples_epoch_XXX.png`` (1-based epoch) into ``out_dir`` and ``samples.gif`` from
    all the epoch PNGs there when training ends. Frames already in ``out_dir`` are loaded into
    ``grids`` (a resumed run animates the whole run); those of the epochs a new run trains
    again are replaced.

    Args:
        out_dir: folder for the images (created).
        num_samples: images per grid.
        labels: class of each sample (ints or one-hot) for a conditional GAN; default one row
            per class.
        every: save every this many epochs.
        seed: seed of the fixed noise.
        ncols: columns of the grid (default: square; one row per class with default labels).
        output_index: which output of a multi-output generator to draw (e.g. ``-1``, the top
            scale of a multi-scale generator); ``None`` for a single-output generator.
        generator: draw from this instead of the GAN's generator: a model, or a
            :class:`~medganlab.training.recipes.GeneratorEMA` (its averaged generator).
    """

    def __init__(
        self,
        out_dir: str | os.PathLike,
        num_samples: int = 16,
        labels=None,
        every: int = 1,
        seed: int = 0,
        ncols: int | None = None,
        output_index: int | None = None,
        generator=None,
    ):
        super().__init__()
        if num_samples < 1 or every < 1:
            raise ValueError(
                f"SampleGrid: expected num_samples >= 1 and every >= 1, got {num_samples}, {every}"
            )
        self.out_dir = Path(out_dir)
        self.num_samples = num_samples
        self.labels = labels
        self.every = every
        self.seed = seed
        self.ncols = ncols
        self.output_index = output_index
        self.source = generator
        self.grids: list[np.ndarray] = []
        self.paths: list[Path] = []
        self._inputs = None
        self._started = False
        for path in sorted(self.out_dir.glob("samples_epoch_*.png")):  # a resumed run
            with Image.open(path) as image:
                self.grids.append(np.asarray(image, dtype="float32") / 255.0)
            self.paths.append(path)

    @staticmethod
    def _epoch_of(path: Path) -> int:
        return int(path.stem.rsplit("_", 1)[-1])

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self._started:
            return
        self._started = True  # drop frames of epochs this run (re)trains: a fresh or resumed run
        keep = [i for i, p in enumerate(self.paths) if self._epoch_of(p) <= epoch]
        for index, path in enumerate(self.paths):
            if index not in keep:
                path.unlink(missing_ok=True)
        self.grids = [self.grids[i] for i in keep]
        self.paths = [self.paths[i] for i in keep]

    def _fixed_inputs(self):
        if self._inputs is None:
            gan = self.model
            self._inputs = _generator_inputs(
                gan.latent_dim, gan.num_classes, self.num_samples, self.labels, self.seed
            )
        return self._inputs

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch + 1) % self.every:
            return
        z, onehot = self._fixed_inputs()
        ncols = self.ncols
        if ncols is None and onehot is not None and self.labels is None:
            ncols = math.ceil(self.num_samples / self.model.num_classes)
        samples = _generate(self.model, z, onehot, self.output_index, self.source)
        grid = images_to_grid(samples, ncols=ncols)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"samples_epoch_{epoch + 1:03d}.png"
        _save_png(grid, path)
        self.grids.append(grid)
        self.paths.append(path)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._started = False
        frames = sorted(self.out_dir.glob("samples_epoch_*.png"))
        if not frames:
            return
        images = []
        for path in frames:
            with Image.open(path) as image:
                images.append(image.copy())
        images[0].save(
            self.out_dir / "samples.gif",
            save_all=True,
            append_images=images[1:],
            duration=500,
            loop=0,
        )


class LossHistory(keras.callbacks.Callback):
    """Keep every epoch's logs; write ``history.json`` and ``loss_curves.png`` to ``out_dir``.

    When ``out_dir`` already holds a ``history.json`` (a resumed run), it is loaded and the
    new epochs are appended; epochs at or after the first epoch of a new run are replaced.

    Attributes:
        history: ``{"epoch": [1, 2, ...], "d_loss": [...], ...}`` (1-based epochs).
    """

    def __init__(self, out_dir: str | os.PathLike | None = None):
        super().__init__()
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.history: dict[str, list[float]] = {}
        self._started = False
        path = self.out_dir / "history.json" if self.out_dir is not None else None
        if path is not None and path.is_file():  # a resumed (or finished) run
            self.history = json.loads(path.read_text())

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if not self._started:  # drop the epochs this run (re)trains
            self._started = True
            keep = [i for i, e in enumerate(self.history.get("epoch", [])) if e <= epoch]
            self.history = {k: [v[i] for i in keep] for k, v in self.history.items()}

    def on_train_end(self, logs: dict | None = None) -> None:
        self._started = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        n = len(self.history.get("epoch", []))
        self.history.setdefault("epoch", []).append(epoch + 1)
        for key, value in logs.items():
            column = self.history.setdefault(key, [float("nan")] * n)
            column.append(float(value))
        for column in self.history.values():  # a key missing this epoch
            if len(column) < n + 1:
                column.append(float("nan"))
        if self.out_dir is not None:
            self.save()

    def save(self) -> None:
        """Write ``history.json`` and ``loss_curves.png`` (raises without ``out_dir``)."""
        if self.out_dir is None:
            raise ValueError("LossHistory.save: no out_dir was given")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.out_dir / "history.json.tmp"
        tmp.write_text(json.dumps(self.history, indent=1) + "\n")
        os.replace(tmp, self.out_dir / "history.json")
        keys = [k for k in self.history if k != "epoch" and "loss" in k]
        if not keys:
            return
        import matplotlib.pyplot as plt

        from medganlab.plotting import plot_history

        fig = plot_history({k: self.history[k] for k in keys}, title="GAN losses")
        fig.savefig(self.out_dir / "loss_curves.png", dpi=100)
        plt.close(fig)


class HealthMonitor(keras.callbacks.Callback):
    """Watch for mode collapse: sample diversity and discriminator accuracy every epoch.

    Diversity is the mean pairwise L2 distance between samples of fixed noise, divided by
    that of ``reference_images`` (real images: 1.0 means as diverse as the data), or without
    reference images by ``sqrt(pixels)`` (an RMS difference in [-1, 1] units). Below
    ``collapse_threshold`` it warns (:class:`ModeCollapseWarning`). It adds ``diversity`` to
    the epoch logs (put it before ``LossHistory`` to record it there too).

    Args:
        num_samples: samples generated for the measurement.
        collapse_threshold: diversity under which samples count as collapsed.
        reference_images: real images in [-1, 1] to normalise the diversity.
        labels: classes of the samples of a conditional GAN (default: cycle the classes).
        seed: seed of the fixed noise.
        warmup_epochs: epochs measured but never warned about (an untrained generator's
            samples all look alike).
        output_index: which output of a multi-output generator to measure (``None``: the
            only output).
        generator: measure this instead of the GAN's generator (a model or a
            :class:`~medganlab.training.recipes.GeneratorEMA`).

    Attributes:
        records: one dict per epoch (epoch, diversity, collapsed, D accuracies when logged).
        history: the diversity per epoch (a list of floats).
    """

    def __init__(
        self,
        num_samples: int = 64,
        collapse_threshold: float = 0.1,
        reference_images: np.ndarray | None = None,
        labels=None,
        seed: int = 1,
        warmup_epochs: int = 1,
        output_index: int | None = None,
        generator=None,
    ):
        super().__init__()
        if num_samples < 2:
            raise ValueError(f"HealthMonitor: expected num_samples >= 2, got {num_samples}")
        self.num_samples = num_samples
        self.collapse_threshold = float(collapse_threshold)
        self.reference_scale = None
        if reference_images is not None:
            self.reference_scale = mean_pairwise_distance(np.asarray(reference_images)[:256])
            if self.reference_scale == 0.0:
                raise ValueError("HealthMonitor: the reference images are all identical")
        self.labels = labels
        self.seed = seed
        self.warmup_epochs = warmup_epochs
        self.output_index = output_index
        self.source = generator
        self.records: list[dict] = []
        self._inputs = None

    @property
    def history(self) -> list[float]:
        """The diversity measured at each epoch of this session."""
        return [record["diversity"] for record in self.records]

    def diversity(self) -> float:
        """Diversity of the current generator's samples (see the class docstring)."""
        gan = self.model
        if self._inputs is None:
            labels = self.labels
            if labels is None and gan.num_classes is not None:
                labels = np.arange(self.num_samples) % gan.num_classes
            self._inputs = _generator_inputs(
                gan.latent_dim, gan.num_classes, self.num_samples, labels, self.seed
            )
        samples = _generate(gan, *self._inputs, self.output_index, self.source)
        distance = mean_pairwise_distance(samples)
        scale = self.reference_scale or math.sqrt(np.prod(samples.shape[1:]))
        return distance / scale

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = self.diversity()
        record = {"epoch": epoch + 1, "diversity": value}
        for key in ("d_real_accuracy", "d_fake_accuracy"):
            if logs and key in logs:
                record[key] = float(logs[key])
        record["collapsed"] = value < self.collapse_threshold
        self.records.append(record)
        if logs is not None:
            logs["diversity"] = value
        if record["collapsed"] and epoch >= self.warmup_epochs:
            warnings.warn(
                f"epoch {epoch + 1}: sample diversity {value:.3g} is below "
                f"{self.collapse_threshold:g}: the generator may have collapsed to a few "
                "outputs (mode collapse). Look at the sample grid; try a lower learning rate "
                "or restart from an earlier checkpoint.",
                ModeCollapseWarning,
                stacklevel=2,
            )
