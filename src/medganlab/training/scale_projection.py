"""A projection term in notebook 03's conditional heads: a measured lever (issue 18).

Notebook 03's discriminators condition as the paper does (StackGAN-v2's joint head): the
one-hot label is tiled at 4x4, concatenated to the image features and convolved into the
conditional score. Like 02's concatenation, nothing in that head forces the score to depend
on the label early, and notebook 02 measured the difference a projection makes (Miyato &
Koyama 2018, :mod:`medganlab.models.conditional`).

:func:`with_scale_projection` keeps the paper's heads and adds the inner product of a learnt
per-finding vector with the image features to each conditional score::

    cond_i(x, c) = joint_head_i(features_i(x), c) + <embed_i(c), sum_pool(features_i(x))>

so that the conditional score of scale ``i`` rises with how well the image's features match
its label's vector, from D's first updates. The unconditional scores, the losses and the train step are
unchanged (the score list has the same order and shapes), so the student's LSGAN losses and
either train step (03's own, or :func:`~medganlab.training.auxiliary.auxiliary_multiscale_train_step`
with :func:`~medganlab.training.auxiliary.with_scale_classifier` wrapped around the result) run
as they are. The embedding is spectrally normalised, as the rest of 03's discriminators and
Miyato's projection layer.

Measured (``python -m medganlab.bench gan_recipes``, rows ``*_proj*``): without the class
head, G updated every 5th step, the tree obeys 0.16-0.29 of its requests, most of it kept
when the grey levels are matched (0.15-0.24; :mod:`medganlab.evaluation.grey_levels`), and
draws the most realistic chests of any 03 row; with the head no gain. The notebook's ``cpu`` recipe
(``cfg.projection = "all"``, 40 epochs, G every 2nd step, sampled from a moving average of
G) is the row ``lr2e-4_ema_proj_e40_k2``: 0.35-0.40 of the requests read as asked by the
average (0.27-0.31 matched), Fréchet 17-19.
"""

from __future__ import annotations

import keras
from keras import layers

from medganlab.training.auxiliary import FEATURES, scale_models, scale_trunk

__all__ = ["PROJECTION_EMBEDDING", "with_scale_projection"]

PROJECTION_EMBEDDING = "projection_embedding"  # per scale: f"{PROJECTION_EMBEDDING}_{size}"


def with_scale_projection(
    discriminators: keras.Model, num_classes: int, scales: str = "all"
) -> keras.Model:
    """03's discriminators with a projection term added to the conditional score.

    ``discriminators`` is notebook 03's model ``[x per scale..., c] -> scores`` that calls one
    sub-model ``[image, c] -> [unconditional, conditional]`` per scale, smallest first; each
    scale that gets the term needs a layer named :data:`~medganlab.training.auxiliary.FEATURES`
    whose output sees the image only. ``scales`` is ``"all"`` (every scale) or ``"top"`` (the
    largest only).

    Returns a model with the same inputs and the same scores in the same order; each scale is
    again a sub-model with a :data:`FEATURES` layer, so that
    :func:`~medganlab.training.auxiliary.with_scale_classifier` can add its class head on top.
    All weights of ``discriminators`` are shared; it is left as it was.

    Raises:
        ValueError: ``scales`` not "all" or "top", not one two-score sub-model per image
            input, no :data:`FEATURES` layer, or features that depend on the label input.
    """
    if scales not in ("all", "top"):
        raise ValueError(f"with_scale_projection: scales must be 'all' or 'top', got {scales!r}")
    sub_models, images, label = scale_models(discriminators, "with_scale_projection")
    if any(len(s.outputs) != 2 for s in sub_models):
        raise ValueError(
            f"with_scale_projection: expected sub-models [image, c] -> [unconditional, "
            f"conditional], got {[(s.name, len(s.outputs)) for s in sub_models]}"
        )
    last = len(sub_models) - 1
    scores = []
    for i, (scale, image) in enumerate(zip(sub_models, images, strict=True)):
        if scales == "top" and i != last:
            scores += scale([image, label])
            continue
        scores += _projected(scale, num_classes)([image, label])
    return keras.Model(discriminators.inputs, scores, name=f"{discriminators.name}_proj")


def _projected(scale: keras.Model, num_classes: int) -> keras.Model:
    """One scale's ``[image, c] -> [unconditional, conditional + projection]`` sub-model."""
    trunk = scale_trunk(scale, num_classes, "with_scale_projection")
    image = keras.Input(tuple(scale.inputs[0].shape[1:]), name="x")
    c = keras.Input(tuple(scale.inputs[1].shape[1:]), name="c")
    unconditional, conditional, own = trunk([image, c])
    own = layers.Identity(name=FEATURES)(own)  # for with_scale_classifier's head
    pooled = layers.GlobalAveragePooling2D(dtype="float32")(own)
    # sum pooling, as Miyato's projection discriminator: the mean times the positions
    pooled = layers.Rescaling(float(own.shape[1] * own.shape[2]), dtype="float32")(pooled)
    size = scale.inputs[0].shape[1]
    embed = layers.SpectralNormalization(
        layers.Dense(pooled.shape[-1], use_bias=False, dtype="float32"),
        dtype="float32",  # the wrapper would otherwise round the vectors to the compute dtype
        name=f"{PROJECTION_EMBEDDING}_{size}",
    )(c)
    projection = layers.Dot(axes=1, dtype="float32")([embed, pooled])
    conditional = layers.Add(dtype="float32")([conditional, projection])
    return keras.Model([image, c], [unconditional, conditional], name=f"{scale.name}_proj")
