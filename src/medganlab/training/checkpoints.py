"""Checkpoint and resume a :class:`~medganlab.training.gan.GAN` across a Colab disconnect.

A checkpoint holds the generator, the discriminator, both optimisers (slots and step
counts), the noise ``SeedGenerator`` state, the GAN's global step and the position in the
run (epoch, step in that epoch), written with ``tf.train.Checkpoint`` and a
``tf.train.CheckpointManager`` keeping the last two; Python's and NumPy's global RNG states
go into a small JSON next to each checkpoint. The directory may be anywhere, e.g. on a
mounted Google Drive.

:func:`fit_gan` is what a notebook cell calls: run the same cell again after a disconnect
and it continues where the last checkpoint left off, or says training is complete.

Resuming in the middle of an epoch: ``fit_gan`` first runs a one-off partial epoch on
``dataset.skip(k)`` (``k`` = steps already done in that epoch; ``.take(steps_per_epoch - k)``
when ``steps_per_epoch`` is given) with ``initial_epoch`` set to the interrupted epoch, then
``fit()`` from the next epoch on. The number of steps per epoch and the global step come out
exactly as in an uninterrupted run; the *order* of the remaining batches does not when the
dataset shuffles (a new iterator reshuffles; tf.data iterator state is not checkpointed).
"""

from __future__ import annotations

import functools
import json
import os
import random
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from medganlab.data.manifest import dataset_identity
from medganlab.training.callbacks import default_verbose
from medganlab.training.gan import GAN

__all__ = ["GanCheckpoint", "restore_latest", "fit_gan"]

_PREFIX = "ckpt"


class _State:
    """The ``tf.train.Checkpoint`` of a GAN plus its position counters."""

    def __init__(
        self,
        gan: GAN,
        directory: str | os.PathLike,
        data_root: str | os.PathLike | None = None,
        data_settings: Mapping[str, Any] | None = None,
    ):
        if not isinstance(gan, GAN):
            raise ValueError(f"expected a medganlab GAN, got {type(gan).__name__}")
        if gan.g_optimizer is None or gan.d_optimizer is None:
            raise ValueError("compile the GAN (g_optimizer, d_optimizer) before checkpointing it")
        gan.build_optimizers()
        self.gan = gan
        self.directory = Path(directory).expanduser()
        self.data = None if data_root is None else dataset_identity(Path(data_root))
        if data_settings:  # how the data are read (e.g. class-balanced), beside what they are
            self.data = {**(self.data or {}), **dict(data_settings)}
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.step_in_epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="step_in_epoch")
        self.checkpoint = tf.train.Checkpoint(
            generator=gan.generator,
            discriminator=gan.discriminator,
            g_optimizer=gan.g_optimizer,
            d_optimizer=gan.d_optimizer,
            noise_seed=gan.seed_generator.state,
            global_step=gan.global_step,
            epoch=self.epoch,
            step_in_epoch=self.step_in_epoch,
        )
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, str(self.directory), max_to_keep=2, checkpoint_name=_PREFIX
        )

    def settings(self) -> dict:
        """The optimisers' hyperparameters, the train step's settings and the data set's
        identity: the weights alone do not tell that a run with a changed learning rate, D:G
        update ratio or class weight, or on a regenerated data set, is a different run (its
        checkpoint would restore silently)."""
        out = {name: _optimizer_settings(getattr(self.gan, name))
               for name in ("g_optimizer", "d_optimizer")}  # fmt: skip
        if self.gan.train_step_fn is not None:
            out["train_step"] = _step_settings(self.gan.train_step_fn)
        if self.data is not None:
            out["data"] = self.data
        return out

    def save(self, epoch: int, step_in_epoch: int) -> str:
        _write_json(self.directory / _SETTINGS, self.settings())
        self.epoch.assign(epoch)
        self.step_in_epoch.assign(step_in_epoch)
        path = self.manager.save(checkpoint_number=int(self.gan.global_step.numpy()))
        _write_rng(Path(path + ".rng.json"))
        kept = {Path(p).name for p in self.manager.checkpoints}
        for stale in self.directory.glob(f"{_PREFIX}-*.rng.json"):
            if stale.name.removesuffix(".rng.json") not in kept:
                stale.unlink(missing_ok=True)
        return path

    def restore(self) -> tuple[int, int, int] | None:
        path = self.manager.latest_checkpoint
        if path is None:
            return None
        stored_file = self.directory / _SETTINGS
        if stored_file.is_file():  # checkpoints from before settings were recorded: resume
            stored, now = json.loads(stored_file.read_text()), _flat(self.settings())
            # a section (e.g. "data") the old run did not record is not compared
            changed = [
                f"{key}: {stored_flat.get(key)!r} -> {value!r}"
                for stored_flat in [_flat(stored)]
                for key, value in now.items()
                if key.split(" ")[0] in stored and stored_flat.get(key) != value
            ]
            if changed:
                raise ValueError(
                    f"the checkpoints in {self.directory} belong to a run with other settings "
                    f"({'; '.join(changed)}); resuming would mix two runs. To train these "
                    "settings from scratch, delete that folder (or give this run another "
                    "one); to continue the old run, use its settings again."
                )
        try:
            status = self.checkpoint.restore(path)
            status.assert_existing_objects_matched().expect_partial()
        except (AssertionError, ValueError) as error:
            raise ValueError(
                f"the checkpoint {path} does not match this GAN (different architecture or "
                f"optimisers?). Expected a checkpoint of the same model; found: {error}. "
                "Use another checkpoint directory, or delete this one to start over "
                "(rebuild the models first: they may be partly overwritten)."
            ) from error
        rng = Path(path + ".rng.json")
        if rng.is_file():
            _read_rng(rng)
        return (
            int(self.epoch.numpy()),
            int(self.step_in_epoch.numpy()),
            int(self.gan.global_step.numpy()),
        )


_SETTINGS = "settings.json"


def _flat(settings: dict) -> dict:
    """``{"section key.sub": value}``, JSON-normalised (tuples become lists)."""
    out: dict = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict) and value:
            for key in sorted(value):
                walk(f"{prefix}{'.' if ' ' in prefix else ' '}{key}", value[key])
        else:
            out[prefix] = value

    for section, values in json.loads(json.dumps(settings, default=str)).items():
        walk(section, values)
    return out


def _step_settings(step) -> dict:
    """A train step's name and the plain keyword arguments bound to it with
    ``functools.partial`` (e.g. ``d_steps=5``, ``weight=3.0``); functions, arrays and other
    objects bound to it are not compared."""
    keywords: dict = {}
    while isinstance(step, functools.partial):
        keywords = {**step.keywords, **keywords}
        step = step.func
    out = {"function": getattr(step, "__qualname__", type(step).__name__)}
    for key, value in sorted(keywords.items()):
        if value is None or isinstance(value, bool | int | float | str):
            out[key] = value
    return out


def _optimizer_settings(optimizer) -> dict:
    """Class and hyperparameters of an optimiser (inside a loss-scale wrapper, if any)."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    config = inner.get_config()
    out = {"class": type(inner).__name__}
    for key in ("learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay", "momentum"):
        if key in config:
            value = config[key]
            out[key] = (
                float(value)
                if isinstance(value, int | float)
                else json.loads(json.dumps(value, default=str))
            )
    return out


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True))
    os.replace(tmp, path)


def _write_rng(path: Path) -> None:
    state = np.random.get_state()
    version, internal, gauss = random.getstate()
    data = {
        "numpy": [state[0], state[1].tolist(), *map(float, state[2:])],
        "python": [version, list(internal), gauss],
    }
    _write_json(path, data)


def _read_rng(path: Path) -> None:
    data = json.loads(path.read_text())
    name, keys, pos, has_gauss, cached = data["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), int(pos), int(has_gauss), cached))
    version, internal, gauss = data["python"]
    random.setstate((version, tuple(internal), gauss))


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raise ``FloatingPointError`` when an epoch ends with a NaN or infinite loss.

    :func:`fit_gan` puts it before every other callback, so the diverged epoch is neither
    checkpointed nor added to the loss history: the last checkpoint keeps the last good state.
    """

    def __init__(self, checkpoint_dir: str | os.PathLike | None = None):
        super().__init__()
        self.checkpoint_dir = checkpoint_dir

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        bad = {
            k: float(v)
            for k, v in (logs or {}).items()
            if "loss" in k and not np.isfinite(float(v))
        }
        if bad:
            kept = (
                f"the checkpoints in {self.checkpoint_dir} keep the last good epoch"
                if self.checkpoint_dir is not None
                else "nothing was checkpointed"
            )
            raise FloatingPointError(
                f"training diverged in epoch {epoch + 1}: "
                + ", ".join(f"{k} = {v}" for k, v in sorted(bad.items()))
                + f"; this epoch was not saved ({kept}). Usual causes: a learning rate too "
                "high for the run, a loss that takes the log of 0, or float16 overflow "
                "(try MEDGANLAB_PRECISION=float32 to check)."
            )


class GanCheckpoint(keras.callbacks.Callback):
    """Save the GAN at every epoch end and, with ``every_n_steps``, every N global steps.

    Args:
        directory: where to keep the checkpoints (any path, e.g. on Google Drive).
        every_n_steps: also save mid-epoch every this many steps (``None``: epoch ends only).
        data_root, data_settings: the data set and how it is read, kept and compared on
            resume (see :func:`fit_gan`).

    Attributes:
        step_offset: steps of the current epoch done before this ``fit()`` started (set by
            :func:`fit_gan` for a resumed partial epoch).
        last_saved: path of the last checkpoint written.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        every_n_steps: int | None = None,
        data_root: str | os.PathLike | None = None,
        data_settings: Mapping[str, Any] | None = None,
    ):
        super().__init__()
        if every_n_steps is not None and every_n_steps < 1:
            raise ValueError(f"every_n_steps: expected None or >= 1, got {every_n_steps}")
        self.directory = Path(directory).expanduser()
        self.every_n_steps = every_n_steps
        self.data_root = data_root
        self.data_settings = dict(data_settings or {})
        self.step_offset = 0
        self.last_saved: str | None = None
        self._state: _State | None = None
        self._epoch = 0

    def state(self, gan: GAN | None = None) -> _State:
        """The checkpoint of ``gan`` (default: the model being trained)."""
        gan = gan if gan is not None else self.model
        if self._state is None or self._state.gan is not gan:
            self._state = _State(gan, self.directory, self.data_root, self.data_settings)
        return self._state

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.state()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if not self.every_n_steps:
            return
        steps = (self.params or {}).get("steps")
        if steps is not None and batch + 1 >= steps:
            return  # the epoch-end checkpoint follows at once
        if int(self.model.global_step.numpy()) % self.every_n_steps == 0:
            self.last_saved = self.state().save(self._epoch, self.step_offset + batch + 1)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.last_saved = self.state().save(epoch + 1, 0)


def restore_latest(gan: GAN, directory: str | os.PathLike) -> tuple[int, int, int] | None:
    """Restore the latest checkpoint of ``directory`` into ``gan`` (compiled).

    Returns:
        ``(epoch, step_in_epoch, global_step)``: the run continues in 0-based ``epoch`` after
        ``step_in_epoch`` of its steps; ``None`` when the directory has no checkpoint.

    Raises:
        ValueError: the GAN is not compiled, or the checkpoint belongs to another model.
    """
    return _State(gan, directory).restore()


def _cardinality(dataset) -> int | None:
    """Batches in one pass of a tf.data.Dataset (``None``: unknown, infinite, not tf.data)."""
    if isinstance(dataset, tf.data.Dataset):
        n = int(dataset.cardinality().numpy())
        return n if n >= 0 else None
    return None


def _merge(histories: list[keras.callbacks.History], model: GAN) -> keras.callbacks.History:
    merged = keras.callbacks.History()
    merged.set_model(model)
    merged.epoch, merged.history = [], {}
    for history in histories:
        n = len(merged.epoch)
        merged.epoch.extend(history.epoch)
        for key, values in history.history.items():
            merged.history.setdefault(key, [float("nan")] * n).extend(values)
        for values in merged.history.values():
            values.extend([float("nan")] * (len(merged.epoch) - len(values)))
    return merged


def fit_gan(
    gan: GAN,
    dataset,
    epochs: int,
    steps_per_epoch: int | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str | None = None,
    every_n_steps: int | None = None,
    data_root: str | os.PathLike | None = None,
    data_settings: Mapping[str, Any] | None = None,
) -> keras.callbacks.History:
    """Train ``gan`` to ``epochs`` epochs, resuming from the last checkpoint in ``checkpoint_dir``.

    Run the same call again after an interruption and it continues from the last checkpoint
    (epoch end, or every ``every_n_steps`` steps); when the run is already complete it
    prints so and returns an empty history. See the module docstring for mid-epoch resume.

    Args:
        gan: a compiled :class:`GAN`.
        dataset: a ``tf.data.Dataset`` of images or ``(images, labels)`` batches (other
            inputs work but cannot skip the done part of an interrupted epoch).
        epochs: total number of epochs of the run (not "more epochs").
        steps_per_epoch: steps per epoch (``None``: one pass over ``dataset``).
        checkpoint_dir: where to save and resume (``None``: no checkpoints).
        callbacks: more callbacks (``SampleGrid``, ``LossHistory``, ``HealthMonitor``...).
        verbose: ``fit()`` verbosity (default :func:`default_verbose`).
        every_n_steps: also checkpoint mid-epoch every this many steps.
        data_root: the folder ``dataset`` reads from. Its identity (the manifest's kind and
            generation parameters, e.g. the phantom's generator version; the folder's path
            when it has no manifest) is kept with the checkpoints, so a run on a regenerated
            or other data set is refused instead of resumed.
        data_settings: how ``dataset`` reads that folder, when it matters for the run
            (e.g. ``{"balance": True}`` for class-balanced batches): kept and compared with
            the data set's identity. Pass only settings that differ from the plain reading,
            so that runs recorded before a setting existed still resume.

    Returns:
        The ``keras.callbacks.History`` of the epochs trained by this call.
    """
    if epochs < 1:
        raise ValueError(f"epochs: expected >= 1, got {epochs}")
    if steps_per_epoch is not None and steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch: expected None or >= 1, got {steps_per_epoch}")
    if every_n_steps is not None and checkpoint_dir is None:
        raise ValueError("every_n_steps needs a checkpoint_dir")
    verbose = default_verbose() if verbose is None else verbose
    callbacks = list(callbacks)
    # first: a diverged epoch stops the run before any callback records or saves it
    callbacks.insert(0, StopOnNonFiniteLoss(checkpoint_dir))
    epoch, skip, checkpointer = 0, 0, None
    if checkpoint_dir is not None:
        checkpointer = GanCheckpoint(
            checkpoint_dir,
            every_n_steps=every_n_steps,
            data_root=data_root,
            data_settings=data_settings,
        )
        restored = checkpointer.state(gan).restore()
        if restored is not None:
            epoch, skip, global_step = restored
            where = f"epoch {epoch + 1} after step {skip}" if skip else f"{epoch} epochs done"
            print(
                f"Resuming from {checkpointer.state(gan).manager.latest_checkpoint}: "
                f"{where}, global step {global_step}"
            )
        callbacks.append(checkpointer)
    steps = steps_per_epoch or _cardinality(dataset)
    if skip and steps is not None and skip >= steps:
        epoch, skip = epoch + 1, 0
    if epoch >= epochs:
        print(f"Training already complete: {epoch} of {epochs} epochs done (see {checkpoint_dir}).")
        history = keras.callbacks.History()
        history.set_model(gan)
        history.epoch, history.history = [], {}
        return history

    histories = []
    if skip:
        if isinstance(dataset, tf.data.Dataset):
            partial = dataset.skip(skip)
            if steps_per_epoch is not None:
                partial = partial.take(steps_per_epoch - skip)
            checkpointer.step_offset = skip
            try:
                histories.append(
                    gan.fit(
                        partial,
                        epochs=epoch + 1,
                        initial_epoch=epoch,
                        callbacks=callbacks,
                        verbose=verbose,
                    )
                )
            finally:
                checkpointer.step_offset = 0
            epoch += 1
        else:
            warnings.warn(
                f"cannot skip the {skip} batches already done of a {type(dataset).__name__}: "
                f"epoch {epoch + 1} restarts from its first batch (pass a tf.data.Dataset "
                "to resume mid-epoch exactly)",
                stacklevel=2,
            )
    if epoch < epochs:
        histories.append(
            gan.fit(
                dataset,
                epochs=epochs,
                initial_epoch=epoch,
                steps_per_epoch=steps_per_epoch,
                callbacks=callbacks,
                verbose=verbose,
            )
        )
    return _merge(histories, gan)
