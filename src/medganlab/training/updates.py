"""``apply_gradients``: one optimiser update from a tape and a loss, right on every device.

A custom train step (what students write in 01–03) computes a loss under a
``tf.GradientTape`` and applies its gradients. Three things make that step silently wrong on
a GPU, and this helper handles all of them in one place::

    with tf.GradientTape() as tape:
        d_loss = discriminator_loss(real_logits, fake_logits)
    apply_gradients(gan.d_optimizer, tape, d_loss, gan.discriminator.trainable_variables)

- **Loss scaling** (``mixed_float16``): ``GAN.compile`` wraps the optimisers in
  ``keras.optimizers.LossScaleOptimizer``, whose ``apply_gradients`` *divides* the gradients
  by the loss scale (2^15 at the start). The gradients must therefore be taken of the scaled
  loss; this helper multiplies the upstream gradient by the scale (``output_gradients``), so
  it works after the ``with`` block too. Without it a float16 step moves the weights ~32,768
  times too little.
- **Several replicas** (``tf.distribute.MirroredStrategy``): each replica sees ``1/N`` of the
  global batch and the optimiser *sums* the replicas' gradients, so each replica's loss is
  divided by ``N`` to get the gradient of the global mean.
- **Float32 losses**: a loss computed in bfloat16/float16 is cast to float32 first.

:func:`update_if` is ``tf.cond`` for a branch that updates weights (03's generator update
on every 5th step): on one device it *is* ``tf.cond``; with several replicas, where an
optimiser update inside ``tf.cond`` is not allowed, it computes the branch and applies its
updates only where the condition holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import keras
import tensorflow as tf

__all__ = ["apply_gradients", "loss_scale_factor", "update_if"]

_PENDING = threading.local()  # the condition of an enclosing update_if, per replica thread


def loss_scale_factor(optimizer: keras.optimizers.Optimizer) -> Any:
    """The factor by which a replica's loss is multiplied before taking gradients.

    ``loss scale / replicas``: the loss scale of a ``LossScaleOptimizer`` (1 otherwise),
    divided by the number of replicas of the active ``tf.distribute`` strategy.
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return optimizer.scale_loss(tf.constant(1.0 / replicas, dtype="float32"))


def apply_gradients(
    optimizer: keras.optimizers.Optimizer,
    tape: tf.GradientTape,
    loss,
    variables: Sequence[Any],
    when=None,
) -> list[Any]:
    """Apply the gradients of ``loss`` with respect to ``variables`` with ``optimizer``.

    Args:
        optimizer: the network's optimiser (e.g. ``gan.d_optimizer``).
        tape: the ``tf.GradientTape`` under which ``loss`` was computed.
        loss: a scalar loss (any float dtype; the mean over this replica's batch).
        variables: the variables to update (e.g. ``gan.discriminator.trainable_variables``).
        when: optional boolean tensor: apply the update only when it is true (e.g. every 5th
            step). Use this instead of wrapping the update in ``tf.cond``: with several
            replicas an optimiser update inside ``tf.cond`` is not allowed (it synchronises
            the replicas), so the condition is evaluated across replicas here.

    Returns:
        The gradients as applied (scaled by :func:`loss_scale_factor`; the optimiser unscales).

    Raises:
        ValueError: ``loss`` is not a scalar, or no variable receives a gradient (the loss
            was computed outside the tape, or does not depend on these variables).
    """
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(
            f"apply_gradients: expected a keras optimizer first, got {type(optimizer).__name__}"
        )
    loss = tf.cast(loss, "float32")
    if loss.shape.rank != 0:
        raise ValueError(
            f"apply_gradients: expected a scalar loss (reduce it with a mean), got shape "
            f"{loss.shape}"
        )
    variables = list(variables)
    factor = tf.cast(loss_scale_factor(optimizer), "float32")
    grads = tape.gradient(loss, variables, output_gradients=factor)
    if all(g is None for g in grads):
        raise ValueError(
            "apply_gradients: no gradient reaches these variables. Compute the loss inside "
            "`with tf.GradientTape() as tape:` from the outputs of the network you update "
            "(called with training=True)."
        )
    pairs = [(g, v) for g, v in zip(grads, variables, strict=True) if g is not None]
    pending = getattr(_PENDING, "pred", None)
    if pending is not None:
        when = pending if when is None else tf.logical_and(pending, tf.cast(when, tf.bool))
    if when is None:
        optimizer.apply_gradients(pairs)
    else:
        _apply_when(optimizer, pairs, tf.convert_to_tensor(when, dtype=tf.bool))
    return grads


def _apply_when(optimizer, pairs, when) -> None:
    """``optimizer.apply_gradients(pairs)`` if ``when``, valid under any strategy."""
    grads, variables = [g for g, _ in pairs], [v for _, v in pairs]

    def apply():
        optimizer.apply_gradients(zip(grads, variables, strict=True))

    context = tf.distribute.get_replica_context()
    strategy = tf.distribute.get_strategy()
    if (
        context is None
        or strategy.num_replicas_in_sync == 1
        or tf.__internal__.distribute.strategy_supports_no_merge_call()
    ):
        tf.cond(when, apply, lambda: None)
        return

    def cross_replica(distribution, grads, when):
        # As keras' LossScaleOptimizer does: the cond runs in cross-replica context and its
        # branch re-enters every replica to apply (a merge_call inside a replica's cond fails).
        flag = distribution.experimental_local_results(when)[0]

        def apply_everywhere():
            distribution.extended.call_for_each_replica(
                lambda g: optimizer.apply_gradients(zip(g, variables, strict=True)), args=(grads,)
            )

        tf.cond(flag, apply_everywhere, lambda: None)

    context.merge_call(cross_replica, args=(grads, when))


def _plain_cond_works() -> bool:
    """Whether an optimiser update may sit inside ``tf.cond`` here (one replica, or a
    strategy that needs no merge_call, e.g. several GPUs under XLA)."""
    return (
        tf.distribute.get_replica_context() is None
        or tf.distribute.get_strategy().num_replicas_in_sync == 1
        or tf.__internal__.distribute.strategy_supports_no_merge_call()
    )


def update_if(pred, update_fn: Callable[[], Any], otherwise_fn: Callable[[], Any]) -> Any:
    """``tf.cond(pred, update_fn, otherwise_fn)`` where ``update_fn`` may update weights.

    Use it in a train step (graph mode) to update a network only on some steps, e.g.
    ``update_if(gan.global_step % 5 == 0, lambda: generator_update(...), lambda: loss)``.
    ``update_fn`` must apply its gradients with :func:`apply_gradients`; both functions
    return tensors of the same structure (e.g. a loss).

    On one device (or several GPUs under XLA) this is exactly ``tf.cond``: only the chosen
    branch runs. With several replicas that synchronise through ``merge_call`` (logical CPU
    devices, GPUs without XLA) an update inside ``tf.cond`` is not allowed; then both
    branches run, ``apply_gradients`` applies the updates only where ``pred`` holds, and the
    result is ``update_fn``'s where ``pred`` holds, else ``otherwise_fn``'s.
    """
    pred = tf.convert_to_tensor(pred, dtype=tf.bool)
    if _plain_cond_works():
        return tf.cond(pred, update_fn, otherwise_fn)
    outer = getattr(_PENDING, "pred", None)
    _PENDING.pred = pred if outer is None else tf.logical_and(outer, pred)
    try:
        updated = update_fn()
    finally:
        _PENDING.pred = outer
    otherwise = otherwise_fn()
    return tf.nest.map_structure(
        lambda a, b: tf.where(pred, a, tf.cast(b, tf.convert_to_tensor(a).dtype)),
        updated,
        otherwise,
    )
