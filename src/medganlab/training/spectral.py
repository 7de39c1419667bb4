"""Spectral normalisation that survives float16: unit-length power-iteration vectors.

``keras.layers.SpectralNormalization`` keeps a vector ``u`` drawn from a normal distribution
and uses it unnormalised in its first power iteration, ``v = normalize(u Wᵀ)``. The iteration
does not depend on the length of ``u``, but under ``mixed_float16`` a short ``u`` makes the
products ``u Wᵀ`` so small that their squares underflow to zero, and the kernel that the
layer writes back on its first training call is NaN. A layer with a single output channel
(a discriminator's score) has a 1x1 ``u``, a single draw: with notebook 03's seed one of them
was 0.0017, and every loss of the smoke run in ``mixed_float16`` was NaN from the first step.
"""

from __future__ import annotations

import keras
import numpy as np


def unit_spectral_vectors(*models: keras.Model) -> int:
    """Rescale the ``u`` of every ``SpectralNormalization`` in ``models`` to unit length.

    A no-op for the arithmetic (the power iteration normalises ``u`` anyway); it only keeps
    the first iteration out of float16's underflow. Nested models are searched too; a
    layer shared by several models is rescaled once. Returns how many vectors it rescaled.
    """
    seen: set[int] = set()
    count = 0
    for model in models:
        for layer in model._flatten_layers(include_self=True, recursive=True):
            if not isinstance(layer, keras.layers.SpectralNormalization) or id(layer) in seen:
                continue
            seen.add(id(layer))
            if not layer.built:
                continue
            u = np.asarray(layer.vector_u.value, dtype="float64")
            norm = float(np.sqrt(np.sum(u * u)))
            if norm > 0 and np.isfinite(norm):
                layer.vector_u.assign((u / norm).astype(layer.vector_u.dtype))
                count += 1
    return count
