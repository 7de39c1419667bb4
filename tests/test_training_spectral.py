"""Spectral normalisation under mixed_float16: a short power-iteration vector (training/spectral.py)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from medganlab.training import GAN
from medganlab.training.spectral import unit_spectral_vectors


@pytest.fixture
def float16_policy():
    before = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    yield
    keras.mixed_precision.set_dtype_policy(before)


def score_head(u: float) -> tuple[keras.Model, keras.layers.SpectralNormalization]:
    """A 4x4 conv to one channel (a discriminator's score), its 1x1 vector u set to ``u``."""
    keras.utils.set_random_seed(0)
    sn = keras.layers.SpectralNormalization(keras.layers.Conv2D(1, 4))
    image = keras.Input((4, 4, 16))
    model = keras.Model(image, keras.layers.Flatten()(sn(image)))
    sn.vector_u.assign(np.full((1, 1), u, dtype="float32"))
    return model, sn


def kernel_after_training_call(model, sn) -> np.ndarray:
    x = np.random.default_rng(0).uniform(-1, 1, (2, 4, 4, 16)).astype("float32")
    model(x, training=True)  # writes the normalised kernel back
    return np.asarray(sn.layer.kernel)


def test_a_short_vector_turns_the_kernel_to_nan_in_float16(float16_policy):
    """The failure the helper prevents (notebook 03's smoke run drew u = 0.0017 for a kernel of at most 0.06)."""
    model, sn = score_head(5e-4)
    assert not np.isfinite(kernel_after_training_call(model, sn)).all()


def test_unit_vectors_keep_float16_finite_and_float32_unchanged(float16_policy):
    model, sn = score_head(5e-4)
    assert unit_spectral_vectors(model, model) == 1  # a shared layer counts once
    np.testing.assert_allclose(np.abs(np.asarray(sn.vector_u)), 1.0)
    kernel = kernel_after_training_call(model, sn)
    assert np.isfinite(kernel).all()
    # the power iteration ignores u's length: the same normalised kernel as in float32
    keras.mixed_precision.set_dtype_policy("float32")
    reference, sn32 = score_head(5e-4)
    expected = kernel_after_training_call(reference, sn32)
    np.testing.assert_allclose(kernel, expected, rtol=2e-3, atol=1e-4)


def test_the_gan_rescales_its_networks_vectors(float16_policy):
    g_in = keras.Input((4,))
    generator = keras.Model(g_in, keras.layers.Reshape((4, 4, 16))(keras.layers.Dense(256)(g_in)))
    discriminator, sn = score_head(5e-4)
    GAN(generator, discriminator, latent_dim=4)
    np.testing.assert_allclose(np.abs(np.asarray(sn.vector_u)), 1.0)
    assert np.isfinite(kernel_after_training_call(discriminator, sn)).all()
