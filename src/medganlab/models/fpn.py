"""The FPN segmenter of the KiTS augmentation paper, built from scratch.

A ResNet-style encoder (ResNet-18/34 basic blocks; stem 7x7/2 + 3x3 max-pool) gives C2–C5
at 1/4 … 1/32 of the input; the feature pyramid (Lin et al. 2017) adds a top-down pathway:
lateral 1x1 convolutions to ``pyramid`` channels, 2x nearest up-sampling and addition, a
3x3 smoothing convolution per level; the semantic head of panoptic FPN (Kirillov et al.
2019) brings every level to 1/4 with 3x3 convolution + BN + ReLU + 2x up-sampling, sums them,
predicts the classes with a 1x1 convolution and up-samples 4x (bilinear) to the input size.

The paper used a pretrained encoder. Here the default trains from scratch (no download);
``weights="imagenet"`` swaps in ``keras.applications.ResNet50`` with ImageNet weights, an
opt-in for a machine with internet access (the grey slice is repeated to 3 channels).
"""

from __future__ import annotations

import keras
from keras import layers

__all__ = ["fpn", "BLOCKS", "FPN_PARAMS"]

BLOCKS = {"resnet10": (1, 1, 1, 1), "resnet18": (2, 2, 2, 2), "resnet34": (3, 4, 6, 3)}
# 1 input channel, 3 classes, resnet18 encoder, pyramid 256, head 128 (tested).
FPN_PARAMS = 15_412_931  # resnet34: 25,528,515


def _conv_bn(x, filters, kernel, strides, name, relu=True):
    x = layers.Conv2D(
        filters, kernel, strides, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def _basic_block(x, filters, strides, name):
    shortcut = x
    y = _conv_bn(x, filters, 3, strides, f"{name}_a")
    y = _conv_bn(y, filters, 3, 1, f"{name}_b", relu=False)
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, strides, f"{name}_proj", relu=False)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


def _scratch_encoder(inputs, blocks, width=64):
    x = _conv_bn(inputs, width, 7, 2, "stem")
    x = layers.MaxPooling2D(3, 2, padding="same", name="stem_pool")(x)
    features = []
    widths = (width, 2 * width, 4 * width, 8 * width)
    for stage, (count, filters) in enumerate(zip(blocks, widths, strict=True)):
        for block in range(count):
            strides = 2 if block == 0 and stage > 0 else 1
            x = _basic_block(x, filters, strides, f"c{stage + 2}_block{block + 1}")
        features.append(x)
    return features  # C2, C3, C4, C5


def _imagenet_encoder(inputs):
    rgb = layers.Concatenate(name="grey_to_rgb")([inputs, inputs, inputs])
    try:
        backbone = keras.applications.ResNet50(
            include_top=False, weights="imagenet", input_tensor=rgb
        )
    except Exception as error:  # no internet, blocked hub ...
        raise ValueError(
            "fpn(weights='imagenet') downloads ResNet-50 weights and needs the internet; "
            f"it failed ({type(error).__name__}: {error}). Use weights=None (from scratch)."
        ) from error
    names = ("conv2_block3_out", "conv3_block4_out", "conv4_block6_out", "conv5_block3_out")
    return [backbone.get_layer(n).output for n in names]


def fpn(
    input_shape: tuple[int, int, int] = (512, 512, 1),
    num_classes: int = 3,
    encoder: str = "resnet18",
    pyramid: int = 256,
    head: int = 128,
    weights: str | None = None,
    name: str = "fpn",
    encoder_width: int = 64,
) -> keras.Model:
    """The FPN segmenter: ``(batch, H, W, 1)`` -> ``(batch, H, W, num_classes)`` softmax.

    Args:
        input_shape: ``(H, W, channels)``; H and W divisible by 32 (five halvings).
        num_classes: output classes.
        encoder: ``"resnet18"`` or ``"resnet34"`` (from scratch); ``"resnet10"`` (one block
            per stage) only to keep smoke runs short.
        pyramid: channels of the pyramid levels P2–P5 (256 in the FPN paper).
        head: channels of the semantic head (128 in panoptic FPN).
        weights: ``None`` (from scratch) or ``"imagenet"`` (ResNet-50, needs the internet).
        encoder_width: filters of the stem and of C2 (C3–C5 double it: 64-128-256-512 in
            ResNet-18/34); narrower for the ``cpu`` profile of notebook 08. From scratch only.

    Raises:
        ValueError: unknown encoder or weights, sides not divisible by 32, or a download
            that fails for ``weights="imagenet"``.
    """
    height, width = input_shape[:2]
    if encoder not in BLOCKS:
        raise ValueError(f"fpn: unknown encoder {encoder!r}; expected one of {sorted(BLOCKS)}")
    if weights not in (None, "imagenet"):
        raise ValueError(f"fpn: weights must be None or 'imagenet', got {weights!r}")
    if encoder_width < 1 or (weights == "imagenet" and encoder_width != 64):
        raise ValueError(
            f"fpn: encoder_width must be >= 1 (and 64 with weights='imagenet'), got {encoder_width}"
        )
    if height % 32 or width % 32:
        raise ValueError(f"fpn: input sides must be divisible by 32, got {height}x{width}")
    inputs = keras.Input(input_shape, name="image")
    features = (
        _imagenet_encoder(inputs)
        if weights == "imagenet"
        else _scratch_encoder(inputs, BLOCKS[encoder], encoder_width)
    )
    laterals = [
        layers.Conv2D(pyramid, 1, name=f"lateral_c{i + 2}")(c) for i, c in enumerate(features)
    ]
    levels = [laterals[-1]]
    for i in range(len(laterals) - 2, -1, -1):
        up = layers.UpSampling2D(2, interpolation="nearest", name=f"topdown_{i + 2}")(levels[0])
        levels.insert(0, layers.Add(name=f"merge_p{i + 2}")([laterals[i], up]))
    pyramid_levels = [
        layers.Conv2D(pyramid, 3, padding="same", name=f"smooth_p{i + 2}")(p)
        for i, p in enumerate(levels)
    ]
    merged = []
    for i, p in enumerate(pyramid_levels):  # P2 is at 1/4, P(i+2) at 1/2**(i+2)
        x = p
        for step in range(max(i, 1)):
            x = _conv_bn(x, head, 3, 1, f"head_p{i + 2}_{step + 1}")
            if i > 0:
                x = layers.UpSampling2D(
                    2, interpolation="bilinear", name=f"head_p{i + 2}_up{step + 1}"
                )(x)
        merged.append(x)
    x = layers.Add(name="head_sum")(merged)
    x = layers.Conv2D(num_classes, 1, name="head_logits")(x)
    x = layers.UpSampling2D(4, interpolation="bilinear", name="to_input_size")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="scores")(x)
    return keras.Model(inputs, outputs, name=name)
