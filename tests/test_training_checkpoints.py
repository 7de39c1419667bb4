"""Checkpoint and resume: a run killed mid-epoch continues from its last checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_training_gan import BATCH, LATENT, compiled, images, tiny_discriminator, tiny_generator

from medganlab.training import (
    GAN,
    GanCheckpoint,
    LossHistory,
    SampleGrid,
    fit_gan,
    restore_latest,
)
from medganlab.training.gan import reference_train_step

TESTS = Path(__file__).resolve().parent
STEPS = 6  # batches per epoch

# Trains 3 epochs of 6 steps with a checkpoint after every step, and SIGKILLs itself just
# before step KILL_AT + 1 runs, after dumping the state the last checkpoint must hold.
KILLED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    import keras, numpy as np, tensorflow as tf
    sys.path.insert(0, {tests!r})
    from test_training_gan import (
        BATCH, LATENT, compiled, images, tiny_discriminator, tiny_generator,
    )
    from medganlab.training import GAN, fit_gan

    checkpoint_dir, dump, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    keras.utils.set_random_seed(0)
    gan = compiled(GAN(tiny_generator(), tiny_discriminator(), LATENT))
    data = tf.data.Dataset.from_tensor_slices(images({steps} * BATCH)).batch(BATCH)

    class Kill(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if int(gan.global_step.numpy()) == kill_at:
                state = np.random.get_state()
                np.savez(
                    dump,
                    *[w.numpy() for w in gan.generator.weights + gan.discriminator.weights],
                    seed=gan.seed_generator.state.numpy(),
                    numpy_keys=state[1],
                    numpy_pos=state[2],
                )
                sys.stdout.flush()
                os.kill(os.getpid(), signal.SIGKILL)

    fit_gan(gan, data, epochs=3, checkpoint_dir=checkpoint_dir, every_n_steps=1,
            callbacks=[Kill()], verbose=0)
    print("finished without being killed")
    """
)


def dataset(n_batches: int = STEPS) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices(images(n_batches * BATCH)).batch(BATCH)


class CountBatches(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def new_gan() -> GAN:
    return compiled(GAN(tiny_generator(), tiny_discriminator(), LATENT))


def test_run_killed_mid_epoch_resumes_at_the_checkpointed_step(tmp_path):
    script = tmp_path / "killed_run.py"
    script.write_text(KILLED_RUN.format(tests=str(TESTS), steps=STEPS))
    checkpoint_dir, dump, kill_at = tmp_path / "drive" / "ckpt", tmp_path / "dump.npz", 9
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [sys.executable, str(script), str(checkpoint_dir), str(dump), str(kill_at)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert proc.returncode == -signal.SIGKILL, (
        f"expected the run to be killed (returncode -9), got {proc.returncode}: "
        f"{proc.stderr[-2000:]}"
    )
    assert "finished" not in proc.stdout

    # Resume in this (fresh) process: a new model with different initial weights.
    keras.utils.set_random_seed(123)
    gan = new_gan()
    expected = np.load(dump)
    position = restore_latest(gan, checkpoint_dir)
    # kill_at=9 with 6 steps per epoch: epoch 2 (index 1) after 3 of its steps
    assert position == (1, 3, 9), f"expected (epoch 1, step 3, global step 9), got {position}"
    weights = [w.numpy() for w in gan.generator.weights + gan.discriminator.weights]
    for index, value in enumerate(weights):
        np.testing.assert_array_equal(value, expected[f"arr_{index}"])
    np.testing.assert_array_equal(gan.seed_generator.state.numpy(), expected["seed"])
    assert int(gan.g_optimizer.iterations.numpy()) == 9
    assert int(gan.d_optimizer.iterations.numpy()) == 9
    state = np.random.get_state()
    np.testing.assert_array_equal(state[1], expected["numpy_keys"])
    assert state[2] == int(expected["numpy_pos"])

    counter = CountBatches()
    history = fit_gan(
        gan, dataset(), epochs=3, checkpoint_dir=checkpoint_dir, every_n_steps=1,
        callbacks=[counter], verbose=0,
    )  # fmt: skip
    assert counter.batches == 3 + STEPS, "expected the 3 remaining steps of epoch 2, then epoch 3"
    assert history.epoch == [1, 2], f"expected epochs 2 and 3 (0-based 1, 2), got {history.epoch}"
    assert int(gan.global_step.numpy()) == 3 * STEPS, "the global step did not continue"
    assert restore_latest(new_gan(), checkpoint_dir) == (3, 0, 3 * STEPS)
    kept = sorted(p.name for p in checkpoint_dir.glob("*.index"))
    assert len(kept) == 2, f"expected max_to_keep=2 checkpoints, got {kept}"
    assert len(list(checkpoint_dir.glob("*.rng.json"))) == 2


def test_calling_fit_gan_again_continues_then_returns_when_complete(tmp_path, capsys):
    checkpoint_dir, run = tmp_path / "ckpt", tmp_path / "run"

    def cell(epochs: int, gan: GAN):
        """What a notebook cell does: new callbacks on the same folders, then fit_gan."""
        grid, logs = SampleGrid(run / "samples", num_samples=4), LossHistory(run)
        history = fit_gan(
            gan, dataset(2), epochs, checkpoint_dir=checkpoint_dir, callbacks=[grid, logs],
            verbose=0,
        )  # fmt: skip
        return history, grid, logs

    gan = new_gan()
    first, _, _ = cell(1, gan)
    assert first.epoch == [0] and int(gan.global_step.numpy()) == 2

    again = new_gan()  # as after a kernel restart: the same cells build the models again
    second, grid, logs = cell(2, again)
    assert second.epoch == [1], f"expected to start at the saved epoch 1, got {second.epoch}"
    assert int(again.global_step.numpy()) == 4
    assert logs.history["epoch"] == [1, 2], "the loss history should continue the first call's"
    assert json.loads((run / "history.json").read_text())["epoch"] == [1, 2]
    assert len(grid.grids) == 2 and "Resuming from" in capsys.readouterr().out

    weights = [w.numpy() for w in again.generator.weights]
    done, grid, logs = cell(2, again)
    assert done.epoch == [] and done.history == {}
    assert "already complete" in capsys.readouterr().out
    assert int(again.global_step.numpy()) == 4
    for before, after in zip(weights, again.generator.weights, strict=True):
        np.testing.assert_array_equal(before, after.numpy())
    # a finished run's cell still has its curves and sample grids to show
    assert logs.history["epoch"] == [1, 2] and len(grid.grids) == 2


def test_checkpoint_errors_are_clear(tmp_path):
    assert restore_latest(new_gan(), tmp_path / "empty") is None
    gan = new_gan()
    GanCheckpoint(tmp_path / "ckpt").state(gan).save(epoch=1, step_in_epoch=0)
    wider = compiled(GAN(tiny_generator(), tiny_discriminator(width=16), LATENT))
    with pytest.raises(ValueError, match="does not match this GAN"):
        restore_latest(wider, tmp_path / "ckpt")
    with pytest.raises(ValueError, match="compile"):
        restore_latest(GAN(tiny_generator(), tiny_discriminator(), LATENT), tmp_path / "ckpt")
    with pytest.raises(ValueError, match="every_n_steps needs a checkpoint_dir"):
        fit_gan(gan, dataset(1), epochs=1, every_n_steps=1)


def test_a_run_with_other_train_step_settings_does_not_resume_silently(tmp_path):
    """Changing what the train step is given (notebook 03's cfg.d_steps_per_g_step, a class
    weight) and re-running the cell must not resume the old run; the same settings do."""
    import functools

    def gan_with(**keywords):
        step = functools.partial(reference_train_step, **keywords)
        return compiled(GAN(tiny_generator(), tiny_discriminator(), LATENT, train_step_fn=step))

    checkpoint_dir = tmp_path / "ckpt"
    fit_gan(gan_with(class_weight=0.0), dataset(2), 1, checkpoint_dir=checkpoint_dir, verbose=0)
    stored = json.loads((checkpoint_dir / "settings.json").read_text())
    assert stored["train_step"] == {"function": "reference_train_step", "class_weight": 0.0}
    with pytest.raises(ValueError, match=r"other settings \(train_step class_weight: 0.0 -> 0.5"):
        fit_gan(gan_with(class_weight=0.5), dataset(2), 2, checkpoint_dir=checkpoint_dir)
    fit_gan(gan_with(class_weight=0.0), dataset(2), 2, checkpoint_dir=checkpoint_dir, verbose=0)


def test_a_run_with_other_learning_rates_does_not_resume_silently(tmp_path):
    """Changing cfg.learning_rate and re-running the cell must not report the old run as
    this one: the checkpoints keep their optimiser settings and a mismatch is refused."""
    checkpoint_dir = tmp_path / "ckpt"
    fit_gan(new_gan(), dataset(2), 1, checkpoint_dir=checkpoint_dir, verbose=0)
    files = {p.name: p.read_bytes() for p in checkpoint_dir.iterdir()}
    faster_d = GAN(tiny_generator(), tiny_discriminator(), LATENT)
    faster_d.compile(
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(4e-4, beta_1=0.5),
    )
    with pytest.raises(ValueError, match=r"other settings \(d_optimizer learning_rate: .*delete"):
        fit_gan(faster_d, dataset(2), 2, checkpoint_dir=checkpoint_dir, verbose=0)
    assert {p.name: p.read_bytes() for p in checkpoint_dir.iterdir()} == files, "nothing lost"
    assert int(faster_d.global_step.numpy()) == 0
    # the same settings resume as before
    same = new_gan()
    assert fit_gan(same, dataset(2), 2, checkpoint_dir=checkpoint_dir, verbose=0).epoch == [1]


def test_a_run_on_a_regenerated_data_set_does_not_resume_silently(tmp_path):
    """A finished run on the phantom's previous generator version must not be shown as this
    run after the data set was regenerated: the data's identity is kept with the checkpoints."""
    from medganlab.data.manifest import write_manifest

    data, checkpoint_dir = tmp_path / "cxr", tmp_path / "ckpt"
    data.mkdir()
    (data / "x.png").write_bytes(b"image")
    write_manifest(data, "cxr-phantom", {"generator_version": 5, "n": 8})
    fit_gan(new_gan(), dataset(2), 1, checkpoint_dir=checkpoint_dir, verbose=0, data_root=data)
    assert fit_gan(new_gan(), dataset(2), 2, checkpoint_dir=checkpoint_dir, verbose=0,
                   data_root=data).epoch == [1], "the same data set resumes"  # fmt: skip
    files = {p.name: p.read_bytes() for p in checkpoint_dir.iterdir()}
    write_manifest(data, "cxr-phantom", {"generator_version": 6, "n": 8})
    regenerated = new_gan()
    with pytest.raises(ValueError, match=r"data params\.generator_version: 5 -> 6.*delete"):
        fit_gan(regenerated, dataset(2), 3, checkpoint_dir=checkpoint_dir, verbose=0,
                data_root=data)  # fmt: skip
    assert {p.name: p.read_bytes() for p in checkpoint_dir.iterdir()} == files, "nothing lost"
    assert int(regenerated.global_step.numpy()) == 0


def test_a_run_read_another_way_is_refused_and_the_plain_reading_resumes(tmp_path):
    """Class-balanced batches (data_settings) are a different run of the same data set: a
    run recorded without them is refused, not resumed, when they are switched on."""
    from medganlab.data.manifest import write_manifest

    data, checkpoint_dir = tmp_path / "cxr", tmp_path / "ckpt"
    data.mkdir()
    write_manifest(data, "cxr-phantom", {"generator_version": 6, "n": 8})
    fit_gan(new_gan(), dataset(2), 1, checkpoint_dir=checkpoint_dir, verbose=0, data_root=data)
    files = {p.name: p.read_bytes() for p in checkpoint_dir.iterdir()}
    balanced = new_gan()
    with pytest.raises(ValueError, match=r"data balance: None -> True.*delete"):
        fit_gan(balanced, dataset(2), 2, checkpoint_dir=checkpoint_dir, verbose=0,
                data_root=data, data_settings={"balance": True})  # fmt: skip
    assert {p.name: p.read_bytes() for p in checkpoint_dir.iterdir()} == files, "nothing lost"
    assert int(balanced.global_step.numpy()) == 0
    again = fit_gan(new_gan(), dataset(2), 2, checkpoint_dir=checkpoint_dir, verbose=0,
                    data_root=data, data_settings={})  # fmt: skip
    assert again.epoch == [1], "no settings beyond the plain reading: the run resumes"


def test_checkpoints_that_recorded_no_data_set_still_resume(tmp_path):
    checkpoint_dir = tmp_path / "ckpt"
    fit_gan(new_gan(), dataset(2), 1, checkpoint_dir=checkpoint_dir, verbose=0)
    assert "data" not in json.loads((checkpoint_dir / "settings.json").read_text())
    resumed = fit_gan(new_gan(), dataset(2), 2, checkpoint_dir=checkpoint_dir, verbose=0,
                      data_root=tmp_path)  # fmt: skip
    assert resumed.epoch == [1]
    stored = json.loads((checkpoint_dir / "settings.json").read_text())
    assert stored["data"] == {"folder": str(tmp_path.resolve())}, "no manifest: the path"


def test_a_diverged_epoch_stops_the_run_and_is_not_saved(tmp_path):
    checkpoint_dir, run = tmp_path / "ckpt", tmp_path / "run"
    gan = new_gan()
    fit_gan(gan, dataset(2), 1, checkpoint_dir=checkpoint_dir, verbose=0)
    saved = sorted(p.name for p in checkpoint_dir.glob("ckpt-*.index"))

    def nan_step(gan, real_images, labels=None):
        logs = dict(reference_train_step(gan, real_images, labels))
        logs["d_loss"] = logs["d_loss"] * float("nan")
        return logs

    diverged = compiled(GAN(tiny_generator(), tiny_discriminator(), LATENT, train_step_fn=nan_step))
    logs = LossHistory(run)
    with pytest.raises(FloatingPointError, match=r"diverged in epoch 2: d_loss = nan"):
        fit_gan(diverged, dataset(2), 2, checkpoint_dir=checkpoint_dir, callbacks=[logs],
                verbose=0)  # fmt: skip
    assert sorted(p.name for p in checkpoint_dir.glob("ckpt-*.index")) == saved
    assert not (run / "history.json").exists()  # the diverged epoch never reached the log
