"""The projection discriminator (Miyato & Koyama 2018): a given extension for notebook 02.

Notebook 02's graded discriminator conditions by *concatenation* (Mirza & Osindero 2014): the
one-hot label is tiled into constant image channels before the first convolution, and
nothing forces the network to use them. The projection discriminator puts the label at the
*end* instead::

    logit(x, y) = psi(phi(x)) + <embed(y), phi(x)>

``phi`` is the DCGAN feature extractor on the image alone, ``psi`` the unconditional
real/fake head, and ``embed(y)`` one learnt vector per class. The inner product is the
log-likelihood ratio of a class-conditional model, so the logit can only be high when the
image's features match its label's vector: the label acts on every sample's score
directly, which makes D (and therefore G) use it from the first steps.

:func:`build_projection_discriminator` takes the same inputs as notebook 02's
``build_conditional_discriminator`` (``[image, one-hot label]``) and returns the same
``(batch, 1)`` float32 logit, so the notebook's train step uses either unchanged.
"""

from __future__ import annotations

import math

import keras
from keras import layers

__all__ = ["build_projection_discriminator", "PROJECTION_LAYER"]

PROJECTION_LAYER = "projection_embedding"  # the per-class vectors: embed(y) = c @ kernel


def _maybe_sn(layer: layers.Layer, spectral_norm: bool) -> layers.Layer:
    return layers.SpectralNormalization(layer) if spectral_norm else layer


def build_projection_discriminator(
    image_size: int,
    num_classes: int,
    width: int,
    spectral_norm: bool = False,
) -> keras.Model:
    """A DCGAN discriminator with a projection head: ``[image, c] -> (batch, 1)`` logits.

    The body is notebook 02's (``log2(image_size / 4)`` k4-s2 convolutions doubling from
    ``width`` filters, LeakyReLU(0.2), batch normalisation after the first block) applied to
    the image only; the flattened 4x4 features ``h`` give ``Dense(1)(h) + sum(E c * h)``.

    Args:
        image_size: side of the square 1-channel images (a power of two, at least 8).
        num_classes: length of the one-hot label.
        width: filters of the first convolution.
        spectral_norm: wrap every convolution and dense layer in spectral normalisation
            (Miyato et al. 2018) and drop batch normalisation, as in the projection paper.

    Returns:
        A Keras model; its last computations run in float32 under mixed precision.

    Raises:
        ValueError: ``image_size`` not a power of two >= 8, or ``num_classes``/``width`` < 1.
    """
    if image_size < 8 or 2 ** int(math.log2(image_size)) != image_size:
        raise ValueError(f"image_size: expected a power of two >= 8, got {image_size}")
    if num_classes < 1 or width < 1:
        raise ValueError(
            f"num_classes and width: expected >= 1, got num_classes={num_classes}, width={width}"
        )
    init = keras.initializers.RandomNormal(0.0, 0.02)
    image = keras.Input((image_size, image_size, 1), name="image")
    c = keras.Input((num_classes,), name="c")
    x, filters = image, width
    for block in range(int(math.log2(image_size // 4))):
        conv = layers.Conv2D(filters, 4, 2, padding="same", kernel_initializer=init)
        x = _maybe_sn(conv, spectral_norm)(x)
        if block > 0 and not spectral_norm:
            x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
        filters *= 2
    # float32 from here on: the logit and the inner product (large sums) under mixed precision
    h = layers.Flatten(dtype="float32")(x)
    unconditional = _maybe_sn(
        layers.Dense(1, kernel_initializer=init, dtype="float32", name="psi"), spectral_norm
    )(h)
    embed = _maybe_sn(
        layers.Dense(
            h.shape[-1],
            use_bias=False,
            kernel_initializer=init,
            dtype="float32",
            name=PROJECTION_LAYER,
        ),
        spectral_norm,
    )(c)
    projection = layers.Dot(axes=1, dtype="float32", name="projection")([embed, h])
    logit = layers.Add(dtype="float32", name="logit")([unconditional, projection])
    return keras.Model([image, c], logit, name="projection_discriminator")
