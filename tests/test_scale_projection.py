"""A projection term in 03's conditional heads (training/scale_projection.py)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_training_auxiliary import CLASSES, SCALES, _batch, _multiscale_d, _pyramid

from medganlab.training.auxiliary import with_scale_classifier
from medganlab.training.scale_projection import PROJECTION_EMBEDDING, with_scale_projection


def _inputs(n=6, labels=None):
    images, own = _batch(n)
    labels = own if labels is None else labels
    return [*_pyramid(images, SCALES), keras.ops.convert_to_tensor(labels)]


def _scores(d, inputs):
    return [np.asarray(s) for s in d(inputs, training=False)]


@pytest.mark.parametrize("policy", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_projection_keeps_the_six_scores_and_adds_only_the_embeddings(policy):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        base = _multiscale_d()
        d = with_scale_projection(base, CLASSES)
    finally:
        keras.config.set_dtype_policy(previous)
    inputs = _inputs()
    got, want = _scores(d, inputs), _scores(base, inputs)
    assert len(got) == 2 * len(SCALES) and [g.shape for g in got] == [w.shape for w in want]
    assert all(keras.backend.standardize_dtype(s.dtype) == "float32" for s in d(inputs)[1::2])
    for g, w in zip(got[0::2], want[0::2], strict=True):  # the unconditional scores: as before
        np.testing.assert_allclose(g, w, atol=1e-6)
    for g, w in zip(got[1::2], want[1::2], strict=True):  # the conditional: plus a term
        assert np.abs(g - w).max() > 1e-4
    shared = {id(v) for v in base.trainable_variables}
    own = [v.path for v in d.trainable_variables if id(v) not in shared]
    assert len(own) == len(SCALES) and all(PROJECTION_EMBEDDING in p for p in own), own
    assert len(base.outputs) == 2 * len(SCALES), "the discriminators are left as they were"


def test_the_term_depends_on_the_label_and_top_leaves_the_smaller_scales_alone():
    keras.utils.set_random_seed(0)
    base = _multiscale_d()
    top = with_scale_projection(base, CLASSES, scales="top")
    labels = np.roll(_batch(6)[1], 1, axis=1)  # every image asked for another class
    own, other = _inputs(), _inputs(labels=labels)
    base_change = [a - b for a, b in zip(_scores(base, own), _scores(base, other), strict=True)]
    top_change = [a - b for a, b in zip(_scores(top, own), _scores(top, other), strict=True)]
    for i, (t, b) in enumerate(zip(top_change, base_change, strict=True)):
        if i == len(top_change) - 1:  # the top scale's conditional score: the new term moves it
            assert np.abs(t - b).max() > 1e-4
        else:
            np.testing.assert_allclose(t, b, atol=1e-6)


def test_the_class_head_goes_on_top_of_the_projection():
    keras.utils.set_random_seed(0)
    projected = with_scale_projection(_multiscale_d(), CLASSES)
    d = with_scale_classifier(projected, CLASSES, scales="all")
    *scores, classes = d(_inputs(4), training=False)
    assert len(scores) == 2 * len(SCALES) and tuple(classes.shape) == (4, len(SCALES), CLASSES)
    for g, w in zip(scores, _scores(projected, _inputs(4)), strict=True):
        np.testing.assert_allclose(np.asarray(g), w, atol=1e-6)


def test_the_term_is_the_label_vector_times_the_sum_pooled_features():
    keras.utils.set_random_seed(0)
    base = _multiscale_d()
    d = with_scale_projection(base, CLASSES, scales="top")
    inputs = _inputs(6)
    top = [layer for layer in base.layers if isinstance(layer, keras.Model)][-1]
    features = keras.Model(top.inputs, top.get_layer("features").output)
    h = np.asarray(features([inputs[-2], inputs[-1]], training=False), dtype="float64")
    sub = [layer for layer in d.layers if isinstance(layer, keras.Model)][-1]
    embed = sub.get_layer(f"{PROJECTION_EMBEDDING}_{SCALES[-1]}")
    vectors = np.asarray(embed(inputs[-1], training=False), dtype="float64")  # (batch, C)
    want = np.einsum("bc,bhwc->b", vectors, h)[:, None]
    got = _scores(d, inputs)[-1] - _scores(base, inputs)[-1]
    np.testing.assert_allclose(got, np.broadcast_to(want, got.shape), rtol=1e-4, atol=1e-4)


def test_the_projection_learns_which_label_goes_with_which_image():
    """Only the embedding trained, to score an image with its own label 1 and with another
    0: the projection term alone separates them."""
    keras.utils.set_random_seed(0)
    d = with_scale_projection(_multiscale_d(), CLASSES, scales="top")
    own, other = _inputs(12), _inputs(12, labels=np.roll(_batch(12)[1], 1, axis=1))
    optimizer = keras.optimizers.Adam(3e-2)
    embedding = {id(v) for v in d.trainable_variables if PROJECTION_EMBEDDING in v.path}
    assert embedding, "the top scale has its embedding"

    def gap():
        return float(np.mean(_scores(d, own)[-1]) - np.mean(_scores(d, other)[-1]))

    before = gap()
    for _ in range(60):
        with tf.GradientTape() as tape:
            matched, mismatched = d(own, training=True)[-1], d(other, training=True)[-1]
            loss = tf.reduce_mean((matched - 1.0) ** 2) + tf.reduce_mean(mismatched**2)
        grads = tape.gradient(loss, d.trainable_variables)
        assert all(
            g is not None and float(tf.reduce_max(tf.abs(g))) > 0
            for g, v in zip(grads, d.trainable_variables, strict=True)
            if id(v) in embedding
        ), "the loss reaches the embedding"
        pairs = [(g, v) for g, v in zip(grads, d.trainable_variables, strict=True)
                 if id(v) in embedding]  # fmt: skip
        optimizer.apply_gradients(pairs)
    assert gap() > before + 0.5, (before, gap())


def test_bad_discriminators_and_scales_are_refused():
    with pytest.raises(ValueError, match="'all' or 'top'"):
        with_scale_projection(_multiscale_d(), CLASSES, scales="bottom")
    with pytest.raises(ValueError, match="no layer named 'features'"):
        with_scale_projection(_multiscale_d(features=False), CLASSES)
    with pytest.raises(ValueError, match="depend on its label input"):
        with_scale_projection(_multiscale_d(label_in_features=True), CLASSES)
    image, c = keras.Input((8, 8, 1)), keras.Input((CLASSES,))
    plain = keras.Model([image, c], keras.layers.Flatten()(image))
    with pytest.raises(ValueError, match="one sub-model"):
        with_scale_projection(plain, CLASSES)
