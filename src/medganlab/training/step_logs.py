"""Epoch means of the values a GAN's train step returns, in variables made before tracing.

The obvious design, one ``keras.metrics.Mean`` per returned key created when the step first
runs, creates variables inside the traced step. TensorFlow then traces the whole step a
second time (a ``tf.function`` that creates variables on its first call is traced again
without them): for notebook 03's three-scale GAN that second trace costs about 15 s on a
CPU, in every run. :class:`StepLogs` makes its two vectors up front; each key gets a slot
of them when the step is traced, so the step is traced once.
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["StepLogs", "CAPACITY"]

CAPACITY = 64  # keys a train step may return (03 returns 14)


class StepLogs(keras.metrics.Metric):
    """Running means of named scalars; ``result()`` is ``{key: mean}``.

    Each ``update_state({key: value, ...})`` adds every value to its key's total and 1 to its
    key's count, as one ``Mean`` per key would (sum-aggregated across replicas, reset by
    ``fit()`` at every epoch).
    """

    def __init__(self, capacity: int = CAPACITY, name: str = "step_logs"):
        super().__init__(name=name)
        self.capacity = int(capacity)
        self.totals = self.add_variable((self.capacity,), "zeros", "float32", name="totals")
        self.counts = self.add_variable((self.capacity,), "zeros", "float32", name="counts")
        self.slots: dict[str, int] = {}

    def slot(self, key: str) -> int:
        """The index of ``key`` in the vectors (a new key takes the next free one)."""
        if key not in self.slots:
            if len(self.slots) >= self.capacity:
                raise ValueError(
                    f"train step: expected at most {self.capacity} logged values, got more "
                    f"(already {sorted(self.slots)}); return fewer keys"
                )
            self.slots[key] = len(self.slots)
        return self.slots[key]

    def update_state(self, values: dict) -> None:
        """Add each scalar of ``values`` to the running mean of its key."""
        if not values:
            return
        slots = [self.slot(key) for key in values]
        hot = ops.one_hot(ops.convert_to_tensor(slots, dtype="int32"), self.capacity)
        column = ops.stack([ops.cast(v, "float32") for v in values.values()])[:, None]
        self.totals.assign_add(ops.sum(hot * column, axis=0))
        self.counts.assign_add(ops.sum(hot, axis=0))

    def means(self, keys=None) -> dict:
        """``{key: mean}`` for ``keys`` (default: every key seen so far)."""
        means = ops.divide_no_nan(self.totals, self.counts)
        keys = self.slots if keys is None else keys
        return {key: means[self.slots[key]] for key in keys}

    def result(self) -> dict:
        return self.means()
