"""apply_gradients: loss scale, conditional updates and clear errors (one device)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from medganlab.training import apply_gradients, update_if


def _linear():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(1, use_bias=False, dtype="float32")(inputs))


def _step(model, optimizer, when=None):
    x = tf.ones((4, 3))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(x, training=True))
    apply_gradients(optimizer, tape, loss, model.trainable_variables, when=when)


def test_loss_scale_optimizer_moves_weights_like_plain_sgd():
    """The loss is multiplied by the loss scale before the optimiser divides by it."""
    plain, scaled = _linear(), _linear()
    _step(plain, keras.optimizers.SGD(0.1))
    lso = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1))
    lso.build(scaled.trainable_variables)
    _step(scaled, lso)
    np.testing.assert_allclose(scaled.get_weights()[0], plain.get_weights()[0], rtol=1e-6)
    assert not np.allclose(plain.get_weights()[0], _linear().get_weights()[0])


@pytest.mark.parametrize("flag", [True, False])
def test_when_applies_the_update_only_if_true_in_graph_mode(flag):
    model, optimizer = _linear(), keras.optimizers.SGD(0.1)
    before = model.get_weights()[0].copy()
    tf.function(lambda w: _step(model, optimizer, when=w))(tf.constant(flag))
    moved = not np.allclose(model.get_weights()[0], before)
    assert moved is flag


def test_errors_name_the_mistake():
    model, optimizer = _linear(), keras.optimizers.SGD(0.1)
    x = tf.ones((4, 3))
    with tf.GradientTape() as tape:
        per_sample = model(x)
    with pytest.raises(ValueError, match="scalar loss"):
        apply_gradients(optimizer, tape, per_sample, model.trainable_variables)
    loss = tf.reduce_mean(model(x))  # outside the tape
    with tf.GradientTape() as tape:
        pass
    with pytest.raises(ValueError, match="no gradient reaches"):
        apply_gradients(optimizer, tape, loss, model.trainable_variables)
    with pytest.raises(ValueError, match="keras optimizer first"):
        apply_gradients(tape, optimizer, loss, model.trainable_variables)


@pytest.mark.parametrize("flag", [True, False])
def test_update_if_runs_one_branch_on_one_device(flag):
    model, optimizer = _linear(), keras.optimizers.SGD(0.1)
    before = model.get_weights()[0].copy()
    calls = []

    def update():
        calls.append("update")
        _step(model, optimizer)
        return tf.constant(1.0)

    result = tf.function(lambda p: update_if(p, update, lambda: tf.constant(0.0)))(
        tf.constant(flag)
    )
    assert float(result) == (1.0 if flag else 0.0)
    assert (not np.allclose(model.get_weights()[0], before)) is flag
