"""An auxiliary classifier in D (AC-GAN, Odena et al. 2017): a measured lever for notebook 02.

Neither of 02's discriminators is *taught* the findings: the concatenation and the projection
discriminator learn what a label means only through the real/fake game, which on a
400-update budget leaves the generator drawing one chest for every label (issue 18). AC-GAN
adds a supervised signal: D gets a second head that classifies the image into the findings,

- D's update adds ``weight * CE(labels, classes(real))``: the head learns the findings from
  the real images, as a classifier would (only the reals: trained on fakes too, as in the
  original paper, the head also rewards fakes that are easy to classify, not realistic);
- G's update adds ``weight * CE(labels, classes(G(z, labels)))``: G is asked to draw images
  that the head reads as the label it was given.

This changes the losses of the published GANs, so the notebooks keep it out of their graded
parts. :func:`with_auxiliary_classifier` adds the head to an ``[image, c] -> logit``
discriminator whose features see the image only (the projection discriminator), and
:func:`auxiliary_train_step` is the whole step: the reference version of 02's conditional
step plus the two terms. Notebook 02's projection run uses both when ``cfg.auxiliary_weight``
is set. For notebook 03's tree, :func:`with_scale_classifier` puts the head on the top
scale's image-only features (or one head per scale) and
:func:`auxiliary_multiscale_train_step` runs the student's own pyramid and LSGAN losses plus
the two terms. Both steps can take the class prior out of G's term (logit adjustment), and
03's can add class-conditional feature matching: levers the bench measured (issue 18).
``python -m medganlab.bench gan_recipes`` measures them all.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from medganlab.training.gan import _ce, _class_accuracy, reference_train_step
from medganlab.training.updates import apply_gradients, update_if

__all__ = [
    "CLASS_HEAD",
    "FEATURES",
    "auxiliary_multiscale_train_step",
    "auxiliary_train_step",
    "class_feature_gap",
    "log_prior",
    "scale_models",
    "scale_trunk",
    "with_auxiliary_classifier",
    "with_scale_classifier",
]

CLASS_HEAD = "auxiliary_classes"  # the Dense layer that reads the findings from D's features
CLASS_FEATURES = "class_features"  # 03, features=True: the extra output feature matching reads
FEATURES = "features"  # 03: the layer of a scale's D whose output both score heads read


def with_auxiliary_classifier(discriminator: keras.Model, num_classes: int) -> keras.Model:
    """``[image, c] -> [logit, class logits]``: ``discriminator`` plus a class head.

    The head is a ``Dense(num_classes)`` on the flattened input of the discriminator's last
    ``Dense`` layer (its image features), in float32; both outputs share all other weights.

    Raises:
        ValueError: the discriminator has no single ``Flatten`` layer, or its features depend
            on the label input (02's concatenation discriminator: the head would read the
            label channels back and learn nothing about the image; measured, its loss falls
            to 0.001 while the generator's conditional accuracy stays at 0.13).
    """
    flats = [layer for layer in discriminator.layers if isinstance(layer, layers.Flatten)]
    if len(flats) != 1:
        raise ValueError(
            f"with_auxiliary_classifier: expected a discriminator with one Flatten layer (its "
            f"features), got {len(flats)} in {discriminator.name!r}"
        )
    features = flats[0].output
    if len(discriminator.inputs) > 1:
        _refuse_label_in(discriminator, features, num_classes, "with_auxiliary_classifier")
    classes = layers.Dense(num_classes, dtype="float32", name=CLASS_HEAD)(features)
    return keras.Model(
        discriminator.inputs,
        [discriminator.output, classes],
        name=f"{discriminator.name}_ac",
    )


def _refuse_label_in(discriminator: keras.Model, features, num_classes: int, caller: str):
    """Raise if ``features`` of ``discriminator`` depend on its label input."""
    if _label_reaches(discriminator, features, num_classes):
        raise ValueError(
            f"{caller}: the features of {discriminator.name!r} depend on its label input "
            "(e.g. label channels concatenated to the image), so a class head would read the "
            "label back instead of the image. Use a discriminator whose features see the "
            "image only, such as the projection discriminator."
        )


def _label_reaches(discriminator: keras.Model, features, num_classes: int) -> bool:
    """Whether two labels give one random image different features (inference mode)."""
    probe = keras.Model(discriminator.inputs, features)
    image_shape = tuple(discriminator.inputs[0].shape[1:])
    image = np.random.default_rng(0).uniform(-1, 1, (1, *image_shape)).astype("float32")
    images = np.repeat(image, 2, axis=0)
    labels = np.eye(num_classes, dtype="float32")[[0, num_classes - 1]]
    out = np.asarray(probe([images, labels], training=False), dtype="float32")
    return bool(np.abs(out[0] - out[1]).max() > 1e-6)


def log_prior(class_prior, num_classes: int | None = None):
    """``log`` of each class's share, float32, for G's logit-adjusted class term.

    Raises:
        ValueError: ``class_prior`` is not one positive, finite number per class (``num_classes``
            of them, when given).
    """
    prior = np.asarray(class_prior, dtype="float64")
    wrong_size = num_classes is not None and prior.size != num_classes
    if (
        prior.ndim != 1
        or prior.size == 0
        or wrong_size
        or np.any(~np.isfinite(prior) | (prior <= 0))
    ):
        raise ValueError(
            f"class_prior: expected one positive share per class ({num_classes or 'K'} of "
            f"them), got {class_prior!r}"
        )
    return tf.constant(np.log(prior / prior.sum()), dtype="float32")


def auxiliary_train_step(gan, real_images, labels, weight: float = 1.0, class_prior=None) -> dict:
    """One AC-GAN update of D, then of G: 02's conditional step plus the class terms.

    ``gan.discriminator`` returns ``[logit, class logits]`` (:func:`with_auxiliary_classifier`).
    This is :func:`~medganlab.training.gan.reference_train_step` (the reference version of
    02's step) with ``class_weight=weight``. Returns 02's four values and ``class_loss`` (the
    head's cross-entropy on the reals) and ``class_accuracy`` (its accuracy on the fakes of
    D's update: how well G obeys the head).
    """
    return reference_train_step(
        gan,
        real_images,
        tf.cast(labels, "float32"),
        class_weight=weight,
        class_log_prior=None
        if class_prior is None
        else log_prior(class_prior, int(labels.shape[-1])),
    )


def with_scale_classifier(
    discriminators: keras.Model,
    num_classes: int,
    scales: str = "top",
    features: bool = False,
    standardise: bool = False,
) -> keras.Model:
    """03's discriminators plus a class head on the top scale (or every scale).

    Returns ``[...scores, class logits]`` (and the features, with ``features=True``).

    ``discriminators`` is notebook 03's model ``[x per scale..., c] -> scores`` that calls one
    sub-model per scale, smallest first; the last (top) one must have a layer named
    :data:`FEATURES` whose output both its heads read and which sees the image only. The head
    is ``Dense(num_classes)`` in float32 on those features, flattened; the scores and every
    other weight are shared with ``discriminators``, which is left as it was.

    ``scales="all"`` puts one such head on every scale instead (each sub-model then needs a
    :data:`FEATURES` layer); the class output is then ``(batch, scales, num_classes)``, smallest
    scale first, and :func:`auxiliary_multiscale_train_step` averages the cross-entropy over
    the heads: G must make its label readable at 16 px as well as at 64. ``scales="bottom"``
    puts the one head on the smallest scale: the label then shapes the tree's first draft,
    and the top scale answers to the LSGAN scores alone.

    ``standardise=True`` gives each head the features of its scale's image standardised to zero
    mean and unit deviation (the scale's D is called once on the image and its standardised
    copy stacked in one batch; its scores read the image as it is): the head cannot read a
    finding from the whole image's brightness or contrast, which a generator can set without
    drawing anything (:mod:`medganlab.evaluation.grey_levels`), while the scores still judge
    the grey levels. With ``features=True`` too, feature matching reads the standardised copy.

    ``features=True`` adds a last output: the headed scales' image features, flattened and
    concatenated in float32 (``(batch, F)``, a layer named :data:`CLASS_FEATURES`), for
    :func:`auxiliary_multiscale_train_step`'s class-conditional feature matching.

    Raises:
        ValueError: no sub-model per scale, no :data:`FEATURES` layer in a scale that gets a
            head, features that depend on the label input (the head would read the label
            back), or ``scales`` not "top", "bottom" or "all".
    """
    if scales not in ("top", "all", "bottom"):
        raise ValueError(
            f"with_scale_classifier: scales must be 'top', 'bottom' or 'all', got {scales!r}"
        )
    sub_models, images, label = scale_models(discriminators, "with_scale_classifier")
    headed = {
        "all": set(range(len(sub_models))),
        "top": {len(sub_models) - 1},
        "bottom": {0},
    }[scales]
    scores, heads, flats = [], [], []
    for i, (scale, image) in enumerate(zip(sub_models, images, strict=True)):
        if i not in headed:
            scores += scale([image, label])
            continue
        trunk = scale_trunk(scale, num_classes, "with_scale_classifier")
        if standardise:  # one call on [image; its standardised copy]: scores from the first
            both = layers.Lambda(  # half, the head's features from the second
                lambda t: keras.ops.concatenate([t[0], _standardise(t[0])], axis=0),
                dtype="float32",
                name=f"with_standardised_{image.shape[1]}",
            )([image])
            labels2 = layers.Lambda(
                lambda t: keras.ops.concatenate([t, t], axis=0),
                dtype="float32",
                name=f"labels2_{image.shape[1]}",
            )(label)
            *own, own_features = trunk([both, labels2])
            own = [_half(x, 0) for x in own]
            own_features = _half(own_features, 1)
        else:
            *own, own_features = trunk([image, label])
        scores += own
        flats.append(layers.Flatten(dtype="float32")(own_features))
        name = CLASS_HEAD if scales != "all" else f"{CLASS_HEAD}_{image.shape[1]}"
        heads.append(layers.Dense(num_classes, dtype="float32", name=name)(flats[-1]))
    if scales != "all":
        (classes,) = heads
    else:
        classes = layers.Concatenate(axis=1, dtype="float32")(
            [layers.Reshape((1, num_classes), dtype="float32")(h) for h in heads]
        )
    extra = []
    if features:
        joined = flats[0] if len(flats) == 1 else layers.Concatenate(dtype="float32")(flats)
        extra = [layers.Identity(dtype="float32", name=CLASS_FEATURES)(joined)]
    return keras.Model(
        discriminators.inputs, [*scores, classes, *extra], name=f"{discriminators.name}_ac"
    )


def scale_models(discriminators: keras.Model, caller: str):
    """03's one sub-model per scale: ``(sub-models, image inputs, label input)``, smallest first.

    Raises:
        ValueError: not one sub-model per image input, or one whose image shape is not that
            of its input (in order).
    """
    sub_models = [layer for layer in discriminators.layers if isinstance(layer, keras.Model)]
    images, label = discriminators.inputs[:-1], discriminators.inputs[-1]
    if len(sub_models) != len(images):
        raise ValueError(
            f"{caller}: expected one sub-model per image input of {discriminators.name!r} "
            f"({len(images)}), got {len(sub_models)}"
        )
    for scale, image in zip(sub_models, images, strict=True):  # smallest first, as the inputs
        if tuple(scale.inputs[0].shape[1:]) != tuple(image.shape[1:]):
            raise ValueError(
                f"{caller}: sub-model {scale.name!r} takes images of shape "
                f"{tuple(scale.inputs[0].shape[1:])}, but the matching input of "
                f"{discriminators.name!r} has {tuple(image.shape[1:])}: expected one sub-model "
                "per scale, in the order of the image inputs"
            )
    return sub_models, images, label


def scale_trunk(scale: keras.Model, num_classes: int, caller: str) -> keras.Model:
    """One scale's D as ``[image, c] -> [...its scores, its image-only features]``.

    Raises:
        ValueError: no layer named :data:`FEATURES`, or features that depend on the label.
    """
    names = [layer.name for layer in scale.layers]
    if FEATURES not in names:
        raise ValueError(
            f"{caller}: the discriminator {scale.name!r} has no layer named {FEATURES!r} (the "
            f"image-only features both heads read); its layers are {names}"
        )
    features = scale.get_layer(FEATURES).output
    _refuse_label_in(scale, features, num_classes, caller)
    return keras.Model(scale.inputs, [*scale.outputs, features], name=f"{scale.name}_features")


def _standardise(x):
    """Each image minus its mean, over its standard deviation (finite gradient when flat)."""
    x = keras.ops.cast(x, "float32")
    mean = keras.ops.mean(x, axis=(1, 2, 3), keepdims=True)
    variance = keras.ops.mean(keras.ops.square(x - mean), axis=(1, 2, 3), keepdims=True)
    return (x - mean) / keras.ops.sqrt(variance + 1e-6)


def _half(x, which: int):
    """The first (``which=0``) or second half of a batch doubled by concatenation."""
    return layers.Lambda(
        lambda t: (
            t[: keras.ops.shape(t)[0] // 2] if which == 0 else t[keras.ops.shape(t)[0] // 2 :]
        ),
        dtype="float32",
    )(x)


def _heads_ce(labels, classes):
    """Cross-entropy of one head's ``(batch, K)`` logits, or the mean over ``(batch, heads, K)``."""
    if len(classes.shape) == 3:
        labels = tf.repeat(labels[:, None, :], tf.shape(classes)[1], axis=1)
    return _ce(labels, classes)


def _heads_mean(classes):
    """The class logits of one head, or the mean of the heads' log-probabilities."""
    if len(classes.shape) == 3:
        return tf.reduce_mean(tf.nn.log_softmax(tf.cast(classes, "float32")), axis=1)
    return classes


def auxiliary_multiscale_train_step(
    gan,
    real_images,
    labels,
    *,
    pyramid,
    d_loss_fn,
    g_loss_fn,
    d_steps: int = 5,
    weight: float = 1.0,
    terms=None,
    class_prior=None,
    matching: float = 0.0,
) -> dict:
    """03's 1:d_steps LSGAN step with the student's parts, plus the class terms.

    ``gan.discriminator`` is :func:`with_scale_classifier`'s model. ``pyramid(images,
    sizes)``, ``d_loss_fn(real_scores, fake_scores)`` and ``g_loss_fn(fake_scores)`` are the
    notebook's real pyramid and LSGAN losses (Eq. 5 and 6). As in the notebook's step, D is
    updated on every step (one call on ``concat([real, fake])`` per scale) and G on every
    ``d_steps``-th (D read with ``training=False``); D's loss adds ``weight * CE`` of the head
    on the reals, G's loss ``weight * CE`` of the head on its fakes. ``terms(real_scores,
    fake_scores, sizes)``, if given, adds per-scale logs. Returns ``d_loss``, ``g_loss``,
    ``class_loss`` (the head on the reals) and ``class_accuracy`` (the head on the fakes of
    D's update, against the labels G was given).

    With one head per scale, ``class_loss`` is the mean of the heads' cross-entropies and
    ``class_accuracy`` reads the mean of their log-probabilities.

    ``class_prior`` (the training set's share of each class), if given, is divided out of
    the head's reading in G's term (logit adjustment, Menon et al. 2021): the head, trained
    on the reals, reads ``p(c | x)``, which includes how common ``c`` is, and G asked to
    draw a rare finding would otherwise have to exaggerate it to overcome its prior.

    ``matching > 0`` (the discriminator built with ``features=True``) adds to G's loss
    ``matching`` x :func:`class_feature_gap` between its fakes and the real batch, read by
    D in inference mode: the head's linear reading of one class can be met by features no
    real image of that class has; the whole class mean is harder to fake. Logged as
    ``feature_gap``: on G's steps the gap of G's update; on the others that of D's update's
    batch (D in training mode, before its update), so an epoch's mean is mostly the latter.
    """
    offset = None if class_prior is None else log_prior(class_prior, int(labels.shape[-1]))
    has_features = CLASS_FEATURES in [layer.name for layer in gan.discriminator.layers]
    if bool(matching) != has_features:
        raise ValueError(
            "auxiliary_multiscale_train_step: feature matching needs the discriminator built "
            "with with_scale_classifier(..., features=True), and that discriminator needs "
            f"matching > 0; got matching={matching!r} and a discriminator "
            f"{'with' if has_features else 'without'} the features output"
        )
    sizes = [output.shape[1] for output in gan.generator.outputs]
    labels = tf.cast(labels, "float32")
    n = tf.shape(labels)[0]
    reals = pyramid(tf.cast(real_images, "float32"), sizes)
    fakes = gan.generator([gan.sample_noise(n), labels], training=True)
    images = [tf.concat([r, tf.cast(f, "float32")], 0) for r, f in zip(reals, fakes, strict=True)]

    def read(inputs, training):
        """D's scores and class logits (and the features, when it has them)."""
        out = list(gan.discriminator(inputs, training=training))
        feats = out.pop() if has_features else None
        return out[:-1], out[-1], feats

    with tf.GradientTape() as tape:
        scores, classes, d_feats = read([*images, tf.concat([labels, labels], 0)], True)
        real_scores, fake_scores = [s[:n] for s in scores], [s[n:] for s in scores]
        d_loss = d_loss_fn(real_scores, fake_scores)
        class_loss = _heads_ce(labels, classes[:n])
        total = d_loss + weight * class_loss
    apply_gradients(gan.d_optimizer, tape, total, gan.discriminator.trainable_variables)

    def generator_update():
        with tf.GradientTape() as tape:
            fakes = gan.generator([gan.sample_noise(n), labels], training=True)
            scores, classes, fake_feats = read([*fakes, labels], False)
            g_loss = g_loss_fn(scores)
            if offset is not None:  # the head's reading without the classes' frequency
                classes = tf.cast(classes, "float32") - offset
            total = g_loss + weight * _heads_ce(labels, classes)
            gap = tf.zeros((), "float32")
            if matching:
                _, _, real_feats = read([*reals, labels], False)
                gap = class_feature_gap(labels, tf.stop_gradient(real_feats), fake_feats)
                total = total + matching * gap
        apply_gradients(gan.g_optimizer, tape, total, gan.generator.trainable_variables)
        return g_loss, gap

    g_loss, gap = update_if(
        tf.equal(gan.global_step % d_steps, 0),
        generator_update,
        lambda: (
            g_loss_fn(fake_scores),
            class_feature_gap(labels, d_feats[:n], d_feats[n:]) if matching else tf.zeros(()),
        ),
    )
    logs = {
        "d_loss": d_loss,
        "g_loss": g_loss,
        "class_loss": class_loss,
        "class_accuracy": _class_accuracy(labels, _heads_mean(classes[n:])),
    }
    if matching:
        logs["feature_gap"] = gap  # G's update on its steps, D's update's batch on the others
    if terms is not None:
        logs.update(terms(real_scores, fake_scores, sizes))
    return logs


def class_feature_gap(labels, real_features, fake_features):
    """How far the fakes' per-class mean features are from the reals', relative to the reals'.

    ``labels`` (one-hot, shared by both halves: G draws the batch's own labels),
    ``real_features`` and ``fake_features`` ``(batch, F)``. Over the classes present in the
    batch: ``Σ_k |mean fake_k − mean real_k|² / Σ_k |mean real_k|²``; 0 when the means agree.
    """
    labels = tf.cast(labels, "float32")
    counts = tf.reduce_sum(labels, axis=0)  # (K,)
    share = labels / tf.maximum(counts, 1.0)  # each column averages its class
    real_means = tf.matmul(share, tf.cast(real_features, "float32"), transpose_a=True)
    fake_means = tf.matmul(share, tf.cast(fake_features, "float32"), transpose_a=True)
    gap = tf.reduce_sum(tf.square(fake_means - real_means))
    return gap / tf.maximum(tf.reduce_sum(tf.square(real_means)), 1e-8)
