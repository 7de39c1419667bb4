"""Grey-level matching (evaluation/grey_levels.py): shapes survive, brightness cues do not."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from medganlab.evaluation.grey_levels import match_grey_levels, matched_ceiling

SIDE = 8


def _images(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, SIDE, SIDE, 1)).astype("float32")


def _distinct_references(m=6):
    """References whose histograms differ: reference j lies in [j, j + 1)."""
    return np.stack([_images(1, seed=10 + j)[0] * 0.5 + 0.5 + j for j in range(m)])


def _picked(out):
    """Which reference each matched image took its grey levels from (by its range)."""
    return [int(np.floor(o.min())) for o in out]


def test_each_image_keeps_its_pixel_order_and_takes_a_reference_histogram():
    images, references = _images(40), _distinct_references()
    out = match_grey_levels(images, references, seed=0)
    assert out.shape == images.shape and out.dtype == np.float32
    for image, matched, j in zip(images, out, _picked(out), strict=True):
        np.testing.assert_array_equal(np.argsort(matched.ravel()), np.argsort(image.ravel()))
        np.testing.assert_array_equal(np.sort(matched.ravel()), np.sort(references[j].ravel()))
    picked = _picked(out)
    assert len(set(picked)) >= 4, f"references drawn at random, got {picked}"
    np.testing.assert_array_equal(out, match_grey_levels(images, references, seed=0))
    assert _picked(match_grey_levels(images, references, seed=1)) != picked


def test_a_flat_region_takes_scattered_values_not_a_ramp():
    image = np.full((1, SIDE, SIDE, 1), 0.5, "float32")
    reference = np.linspace(-1, 1, SIDE * SIDE, dtype="float32").reshape(1, SIDE, SIDE, 1)
    out = match_grey_levels(image, reference)[0, ..., 0]
    np.testing.assert_array_equal(np.sort(out.ravel()), reference.ravel())
    assert not np.all(np.diff(out.ravel()) > 0), "raster order would make a ramp"


def _side_and_brightness(n):
    """Class 0: a bright left half; class 1: a bright right half; brightness set apart."""
    labels = np.arange(n) % 2
    images = np.full((n, SIDE, SIDE, 1), -0.5, "float32")
    for i, k in enumerate(labels):
        images[i, :, : SIDE // 2] += 0.5 if k == 0 else 0.0
        images[i, :, SIDE // 2 :] += 0.5 if k == 1 else 0.0
    return images, labels


def _reader(kind):
    """A fixed 'judge': class 1 if the image is bright on average / on its right half."""
    image = keras.Input((SIDE, SIDE, 1))
    if kind == "brightness":
        score = keras.layers.GlobalAveragePooling2D()(image)
    else:
        halves = keras.layers.Lambda(
            lambda t: (
                keras.ops.mean(t[:, :, SIDE // 2 :], axis=(1, 2))
                - keras.ops.mean(t[:, :, : SIDE // 2], axis=(1, 2))
            )
        )(image)
        score = halves
    logits = keras.layers.Concatenate()([-score, score])
    return keras.Model(image, logits)


def test_a_brightness_signal_is_removed_and_a_drawn_shape_is_kept():
    real, labels = _side_and_brightness(20)
    # a "generator" that signals class 1 by a brighter image and draws no half
    fake = np.where(labels[:, None, None, None] == 1, 0.3, -0.3).astype("float32")
    fake = fake + _images(20, seed=2) * 0.1
    brightness = _reader("brightness")
    before = np.argmax(brightness.predict(fake, verbose=0), -1)
    after = np.argmax(brightness.predict(match_grey_levels(fake, real), verbose=0), -1)
    assert np.mean(before == labels) == 1.0
    assert np.mean(after == labels) < 0.8, "the brightness cue survived the matching"
    # a generator that draws the half: the matched image is still read by its side
    drawn = real + _images(20, seed=3) * 0.05
    side = _reader("side")
    after = np.argmax(side.predict(match_grey_levels(drawn, real), verbose=0), -1)
    assert np.mean(after == labels) == 1.0


def test_the_ceiling_is_the_judge_on_matched_real_images():
    real, labels = _side_and_brightness(20)
    np.testing.assert_array_equal(matched_ceiling(_reader("side"), real, labels), [1.0, 1.0])
    shares = matched_ceiling(_reader("side"), real[labels == 0], labels[labels == 0])
    assert shares[0] == 1.0 and np.isnan(shares[1])
    larger = np.repeat(np.repeat(real, 2, axis=1), 2, axis=2)  # resized to the reader's 8 px
    np.testing.assert_array_equal(matched_ceiling(_reader("side"), larger, labels), [1.0, 1.0])


@pytest.mark.parametrize(
    "images, references, message",
    [
        (np.zeros((2, SIDE, SIDE)), np.zeros((2, SIDE, SIDE, 1)), "same image shape"),
        (np.zeros((2, SIDE, SIDE, 1)), np.zeros((2, 4, 4, 1)), "same image shape"),
        (np.zeros((2, SIDE, SIDE, 1)), np.zeros((0, SIDE, SIDE, 1)), "at least one image"),
        (np.zeros((0, SIDE, SIDE, 1)), np.zeros((2, SIDE, SIDE, 1)), "at least one image"),
        (np.full((2, SIDE, SIDE, 1), np.nan), np.zeros((2, SIDE, SIDE, 1)), "images hold NaN"),
        (np.zeros((2, SIDE, SIDE, 1)), np.full((2, SIDE, SIDE, 1), np.inf), "references hold"),
    ],
)
def test_bad_input_is_refused(images, references, message):
    with pytest.raises(ValueError, match=message):
        match_grey_levels(images, references)


def test_the_ceiling_wants_one_class_index_per_image():
    real, labels = _side_and_brightness(4)
    with pytest.raises(ValueError, match="one class index per image"):
        matched_ceiling(_reader("side"), real, np.eye(2)[labels])
    with pytest.raises(ValueError, match="one class index per image"):
        matched_ceiling(_reader("side"), real, labels[:3])
