"""The given segmenters of assignment 08: full-size parameter counts, shapes, bad input."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from medganlab.models import fpn, heavy_unet
from medganlab.models.fpn import FPN_PARAMS
from medganlab.models.unet import HEAVY_UNET_PARAMS


def test_heavy_unet_has_ronnebergers_widths_at_full_size():
    model = heavy_unet((512, 512, 1))
    assert model.count_params() == HEAVY_UNET_PARAMS
    assert model.output_shape == (None, 512, 512, 3)
    plain = heavy_unet((512, 512, 1), batch_norm=False)
    assert plain.count_params() == 31_030_723, "the original U-Net (no BN): 31.0 M parameters"
    convs = [layer.filters for layer in model.layers if layer.name.endswith("_conv1")]
    assert convs == [64, 128, 256, 512, 1024, 512, 256, 128, 64]


def test_fpn_full_size_counts_and_pyramid():
    model = fpn((512, 512, 1))
    assert model.count_params() == FPN_PARAMS
    assert model.output_shape == (None, 512, 512, 3)
    assert fpn((512, 512, 1), encoder="resnet34").count_params() == 25_528_515
    sides = {
        layer.name: layer.output.shape[1]
        for layer in model.layers
        if layer.name.startswith("smooth_p")
    }
    assert sides == {"smooth_p2": 128, "smooth_p3": 64, "smooth_p4": 32, "smooth_p5": 16}


@pytest.mark.parametrize("build", [heavy_unet, fpn])
def test_small_forward_pass_gives_class_probabilities(build):
    model = build((64, 64, 1))
    x = np.random.default_rng(0).normal(size=(2, 64, 64, 1)).astype("float32")
    probs = keras.ops.convert_to_numpy(model(x, training=False))
    assert probs.shape == (2, 64, 64, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-4)


def test_outputs_stay_float32_under_mixed_precision():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        assert heavy_unet((32, 32, 1), base=4).output.dtype == "float32"
        assert fpn((64, 64, 1), pyramid=8, head=4).output.dtype == "float32"
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="divisible by 2\\*\\*depth = 16"):
        heavy_unet((100, 100, 1))
    with pytest.raises(ValueError, match="divisible by 32"):
        fpn((48, 48, 1))
    with pytest.raises(ValueError, match="resnet18"):
        fpn((64, 64, 1), encoder="vgg")
    with pytest.raises(ValueError, match="None or 'imagenet'"):
        fpn((64, 64, 1), weights="coco")
