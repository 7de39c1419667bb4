"""U-Net2 of the KiTS augmentation paper: the original U-Net's widths (Ronneberger 2015).

Encoder: 4 levels of two 3x3 convolutions (64, 128, 256, 512 filters) each followed by a
2x2 max-pool, a 1024-filter bottleneck; decoder: 2x2 transposed convolution (halving the
filters), concatenation with the skip, two 3x3 convolutions; a 1x1 convolution to the class
scores. "same" padding (the original used "valid" and cropped), so the output has the
input's size; batch normalisation after each convolution (``batch_norm=True``, the default:
the paper is silent; the original had none) makes it train at Adam 1e-3.

About 31 M parameters at full width (``base=64``); the exact count is
:data:`HEAVY_UNET_PARAMS` and is tested.
"""

from __future__ import annotations

import keras
from keras import layers

__all__ = ["heavy_unet", "HEAVY_UNET_PARAMS"]

# 1 input channel, 3 classes (background, kidney, tumour), base 64, batch_norm=True
# (31,030,723 without batch normalisation: the original U-Net's 31.0 M).
HEAVY_UNET_PARAMS = 31_048_387


def _double_conv(x, filters: int, batch_norm: bool, name: str):
    for i in (1, 2):
        x = layers.Conv2D(
            filters, 3, padding="same", use_bias=not batch_norm, name=f"{name}_conv{i}"
        )(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
    return x


def heavy_unet(
    input_shape: tuple[int, int, int] = (512, 512, 1),
    num_classes: int = 3,
    base: int = 64,
    depth: int = 4,
    batch_norm: bool = True,
    name: str = "unet2_heavy",
) -> keras.Model:
    """The heavy U-Net: ``(batch, H, W, C)`` -> ``(batch, H, W, num_classes)`` softmax.

    Args:
        input_shape: ``(H, W, channels)``; H and W must be divisible by ``2**depth``.
        num_classes: output classes (KiTS19: background, kidney, tumour).
        base: filters of the first level (64 in the paper; smaller in cpu/smoke profiles).
        depth: number of down-sampling levels (4 in the original).
        batch_norm: batch normalisation after every convolution.

    Raises:
        ValueError: a side not divisible by ``2**depth``, or a non-positive size.
    """
    height, width = input_shape[:2]
    if base < 1 or depth < 1 or num_classes < 2:
        raise ValueError(
            f"heavy_unet: expected base >= 1, depth >= 1, num_classes >= 2; got {base}, {depth}, "
            f"{num_classes}"
        )
    if height % 2**depth or width % 2**depth:
        raise ValueError(
            f"heavy_unet: input sides must be divisible by 2**depth = {2**depth} for {depth} "
            f"poolings, got {height}x{width}"
        )
    inputs = keras.Input(input_shape, name="image")
    x, skips = inputs, []
    for level in range(depth):
        x = _double_conv(x, base * 2**level, batch_norm, f"down{level + 1}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level + 1}")(x)
    x = _double_conv(x, base * 2**depth, batch_norm, "bottleneck")
    for level in reversed(range(depth)):
        filters = base * 2**level
        x = layers.Conv2DTranspose(filters, 2, strides=2, name=f"up{level + 1}_transpose")(x)
        x = layers.Concatenate(name=f"up{level + 1}_concat")([x, skips[level]])
        x = _double_conv(x, filters, batch_norm, f"up{level + 1}")
    outputs = layers.Conv2D(num_classes, 1, activation="softmax", dtype="float32", name="scores")(x)
    return keras.Model(inputs, outputs, name=name)
