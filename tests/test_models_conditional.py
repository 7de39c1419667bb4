"""The projection discriminator given to notebook 02: same interface as the graded one."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from medganlab.models import build_projection_discriminator
from medganlab.models.conditional import PROJECTION_LAYER


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(-1, 1, (3, 16, 16, 1)).astype("float32")


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_takes_image_and_one_hot_like_the_concat_discriminator(images, spectral_norm):
    d = build_projection_discriminator(16, 3, 4, spectral_norm=spectral_norm)
    assert d.input_shape == [(None, 16, 16, 1), (None, 3)], "inputs [image, one-hot label]"
    logits = np.asarray(d([images, np.eye(3, dtype="float32")], training=True))
    assert logits.shape == (3, 1), f"expected (batch, 1) logits, got {logits.shape}"
    assert np.all(np.isfinite(logits))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("spectral_norm", [False, True])
def test_logit_is_float32_under_mixed_precision(images, policy, spectral_norm):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        d = build_projection_discriminator(16, 3, 4, spectral_norm=spectral_norm)
        out = d([images, np.eye(3, dtype="float32")], training=False)
    finally:
        keras.config.set_dtype_policy(previous)
    assert d.output.dtype == "float32", f"expected a float32 logit, got {d.output.dtype}"
    assert keras.backend.standardize_dtype(out.dtype) == "float32"


def test_label_changes_the_logit_only_through_the_projection(images):
    d = build_projection_discriminator(16, 3, 4)
    same = np.repeat(images[:1], 3, axis=0)
    labels = np.eye(3, dtype="float32")
    embedding = d.get_layer(PROJECTION_LAYER).kernel
    embedding.assign(np.random.default_rng(1).normal(size=embedding.shape).astype("float32"))
    scores = np.asarray(d([same, labels], training=False)).ravel()
    assert np.ptp(scores) > 1e-3, f"one image scored with three labels got one score: {scores}"
    embedding.assign(np.zeros(embedding.shape, "float32"))
    flat = np.asarray(d([same, labels], training=False)).ravel()
    assert np.ptp(flat) < 1e-5, f"without the class embedding the label must not matter: {flat}"
    # the projection term is exactly <embed(y), h>: a class's logit moves by E[y] . h
    features = keras.Model(d.inputs, d.get_layer("projection").input[1])
    h = np.asarray(features([same, labels], training=False))
    e = np.random.default_rng(2).normal(size=embedding.shape).astype("float32")
    embedding.assign(e)
    moved = np.asarray(d([same, labels], training=False)).ravel() - flat
    expected = np.einsum("kf,kf->k", e, h)
    np.testing.assert_allclose(moved, expected, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(
    "args, match",
    [((12, 3, 4), "power of two"), ((4, 3, 4), "power of two"), ((16, 0, 4), "num_classes")],
)
def test_bad_sizes_say_what_was_expected(args, match):
    with pytest.raises(ValueError, match=match):
        build_projection_discriminator(*args)
