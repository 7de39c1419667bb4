"""Is the finding drawn, or only signalled by brightness? The judge on grey-level-matched images.

A conditional generator can make the reference classifier (the "judge") read its label
without drawing the finding: a brighter or more contrasted image for one label, a duller one
for another. The judge, trained on real images only, never learnt to ignore such cues.
:func:`match_grey_levels` takes every grey-level cue away: each image keeps the *order* of its
pixels (its shapes, edges and textures) but takes the sorted pixel values of a real image
drawn at random from all findings, so its histogram says nothing about its label.

Real images lose a little too (a large effusion also whitens the histogram), so the check
compares a generator's matched accuracy with the judge's accuracy on matched *real* images
(:func:`matched_ceiling`), never with its raw accuracy. Measured on the 64-px phantoms: the
judge reads 0.75-1.00 of the real single-finding images as their finding (0.95 on average over
the findings), about 0.64-0.95 after matching (0.83); notebook 03's tree with a class head at
weight 3 (its former `cpu` recipe) fell from 0.28 to 0.11 (Nodule 0.64 -> 0.00), 02's
concatenation run from 0.19 to 0.15.
"""

from __future__ import annotations

import numpy as np

from medganlab.evaluation.fdd import resize_images

__all__ = ["match_grey_levels", "matched_ceiling"]


def match_grey_levels(images, references, seed: int = 0) -> np.ndarray:
    """Each image with the grey levels of a reference image drawn at random.

    Args:
        images: ``(n, H, W, C)`` images.
        references: ``(m, H, W, C)`` images of the same shape (real images of every class).
        seed: which references are drawn.

    Returns:
        float32 ``(n, H, W, C)``: image ``i``'s darkest pixel takes the reference's darkest
        value, its brightest the reference's brightest, and so on. Equal pixels (a flat
        region, a saturated background) are ordered at random, so that a flat region takes
        a scatter of neighbouring values, not a ramp in raster order.

    Raises:
        ValueError: ``images`` and ``references`` are not 4-d with the same image shape,
            either is empty, or either holds a value that is not finite (a generator that
            draws NaN must not be scored as if it drew the reference's grey levels).
    """
    images = np.asarray(images, dtype="float32")
    references = np.asarray(references, dtype="float32")
    if images.ndim != 4 or references.ndim != 4 or images.shape[1:] != references.shape[1:]:
        raise ValueError(
            f"match_grey_levels: expected images (n, H, W, C) and references (m, H, W, C) of "
            f"the same image shape, got {images.shape} and {references.shape}"
        )
    if len(images) == 0 or len(references) == 0:
        raise ValueError(
            f"match_grey_levels: expected at least one image and one reference image, got "
            f"{len(images)} and {len(references)}"
        )
    for name, array in (("images", images), ("references", references)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"match_grey_levels: {name} hold NaN or infinite values")
    n = len(images)
    flat = images.reshape(n, -1)
    rng = np.random.default_rng(seed)
    drawn = rng.integers(len(references), size=n)
    values = np.sort(references.reshape(len(references), -1)[drawn], axis=1)
    order = np.lexsort((rng.random(flat.shape), flat), axis=1)  # by value, ties at random
    out = np.empty_like(flat)
    np.put_along_axis(out, order, values, axis=1)
    return out.reshape(images.shape)


def matched_ceiling(classifier, images, labels, seed: int = 0, batch: int = 256) -> np.ndarray:
    """The judge's accuracy per class on real ``images`` matched to each other's grey levels.

    ``labels`` are class indices ``(n,)``; returns one share per class (``nan`` for a class
    without images), the ceiling a generator's matched accuracy is compared with. Images of
    another size than the classifier's input are matched, then area-resized to it.
    """
    images = np.asarray(images, dtype="float32")
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(
            f"matched_ceiling: expected one class index per image ({len(images)},), got labels "
            f"of shape {labels.shape}"
        )
    matched = resize_images(match_grey_levels(images, images, seed=seed), classifier.input_shape[1])
    read = np.argmax(classifier.predict(matched, batch_size=batch, verbose=0), axis=-1)
    num_classes = int(classifier.output_shape[-1])
    return np.array(
        [np.mean(read[labels == k] == k) if np.any(labels == k) else np.nan
         for k in range(num_classes)]
    )  # fmt: skip
