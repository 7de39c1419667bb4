"""The AC-GAN lever (training/auxiliary.py): a class head on D, trained on reals, asked of G."""

from __future__ import annotations

import functools

import keras
import numpy as np
import pytest
from keras import layers

from medganlab.models import build_projection_discriminator
from medganlab.training import GAN, augmented_discriminator
from medganlab.training.auxiliary import (
    CLASS_HEAD,
    auxiliary_multiscale_train_step,
    auxiliary_train_step,
    class_feature_gap,
    with_auxiliary_classifier,
    with_scale_classifier,
)

CLASSES, SIDE, LATENT = 3, 16, 8


def _generator():
    z, c = keras.Input((LATENT,)), keras.Input((CLASSES,))
    x = layers.Dense(4 * 4 * 8)(layers.Concatenate()([z, c]))
    x = layers.Reshape((4, 4, 8))(x)
    x = layers.Conv2DTranspose(8, 4, 2, padding="same", activation="relu")(x)
    image = layers.Conv2DTranspose(1, 4, 2, padding="same", activation="tanh", dtype="float32")(x)
    return keras.Model([z, c], image)


def _batch(n=12):
    """Class k is a bright band in rows 5k..5k+4: a head can learn it in a few steps."""
    labels = np.eye(CLASSES, dtype="float32")[np.arange(n) % CLASSES]
    images = np.full((n, SIDE, SIDE, 1), -1.0, "float32")
    for i, k in enumerate(np.arange(n) % CLASSES):
        images[i, 5 * k : 5 * k + 5] = 1.0
    return images, labels


def _gan(weight, augment=False, d_rate=1e-3):
    keras.utils.set_random_seed(0)
    d = with_auxiliary_classifier(build_projection_discriminator(SIDE, CLASSES, 4), CLASSES)
    if augment:
        d = augmented_discriminator(d, ("color", "translation"), seed=0)
    return _compiled(
        _generator(), d, functools.partial(auxiliary_train_step, weight=weight), d_rate
    )


def _compiled(generator, discriminator, step, d_rate):
    """A conditional GAN with Adam 1e-3 for G and Adam ``d_rate`` for D."""
    gan = GAN(generator, discriminator, latent_dim=LATENT, num_classes=CLASSES, train_step_fn=step)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(d_rate))
    return gan


def test_head_reads_the_features_and_returns_float32_class_logits():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        base = build_projection_discriminator(SIDE, CLASSES, 4)
        d = with_auxiliary_classifier(base, CLASSES)
    finally:
        keras.config.set_dtype_policy(previous)
    images, labels = _batch(4)
    logit, classes = d([images, labels], training=False)
    assert tuple(logit.shape) == (4, 1) and tuple(classes.shape) == (4, CLASSES)
    assert keras.backend.standardize_dtype(classes.dtype) == "float32"
    np.testing.assert_allclose(np.asarray(logit), np.asarray(base([images, labels])), atol=1e-2)
    shared = {id(v) for v in base.trainable_variables}
    own = [v for v in d.trainable_variables if id(v) not in shared]
    assert {v.path.split("/")[0] for v in own} == {CLASS_HEAD}, "only the head is new"


def test_a_discriminator_without_one_flatten_is_refused():
    x = keras.Input((SIDE, SIDE, 1))
    c = keras.Input((CLASSES,))
    plain = keras.Model([x, c], layers.Dense(1)(layers.GlobalAveragePooling2D()(x)))
    with pytest.raises(ValueError, match="one Flatten layer"):
        with_auxiliary_classifier(plain, CLASSES)


def test_the_head_learns_the_classes_of_the_reals_in_graph_mode():
    gan = _gan(weight=1.0, augment=True)
    images, labels = _batch()
    first = gan.train_on_batch(images, labels, return_dict=True)
    for _ in range(25):
        last = gan.train_on_batch(images, labels, return_dict=True)
    assert {"d_loss", "g_loss", "class_loss", "class_accuracy"} <= set(last)
    assert int(gan.d_optimizer.iterations.numpy()) == 26
    assert int(gan.g_optimizer.iterations.numpy()) == 26
    assert last["class_loss"] < 0.5 * first["class_loss"], (first, last)


@pytest.mark.parametrize("network", ["generator", "discriminator"])
def test_the_class_terms_reach_both_updates(network):
    """Weight 0 is 02's plain step; any weight > 0 changes D's and G's update from it. For G,
    D does not move (rate 0), so only G's own class term can make the difference."""
    images, labels = _batch()
    after = {}
    for weight in (0.0, 5.0):
        gan = _gan(weight, d_rate=0.0 if network == "generator" else 1e-3)
        gan.train_on_batch(images, labels)
        after[weight] = [np.asarray(v) for v in getattr(gan, network).trainable_variables]
    gap = max(float(np.abs(a - b).max()) for a, b in zip(after[0.0], after[5.0], strict=True))
    assert gap > 1e-6, f"the class term did not change {network}'s update"


def test_head_is_untouched_without_weight():
    gan = _gan(0.0)
    head = gan.discriminator.get_layer(CLASS_HEAD).kernel
    before = np.asarray(head).copy()
    gan.train_on_batch(*_batch())
    np.testing.assert_array_equal(np.asarray(head), before)


def test_a_discriminator_that_sees_the_label_in_its_features_is_refused():
    """02's concatenation D tiles the label into image channels: a head on its features would
    read the label back (class loss 0.001 in the measured run) and teach G nothing."""
    image, c = keras.Input((SIDE, SIDE, 1)), keras.Input((CLASSES,))
    tiled = layers.Lambda(lambda t: keras.ops.tile(keras.ops.reshape(t, (-1, 1, 1, CLASSES)),
                                                   (1, SIDE, SIDE, 1)))(c)  # fmt: skip
    x = layers.Conv2D(4, 4, 2, padding="same")(layers.Concatenate()([image, tiled]))
    concat = keras.Model([image, c], layers.Dense(1)(layers.Flatten()(x)))
    with pytest.raises(ValueError, match="depend on its label input"):
        with_auxiliary_classifier(concat, CLASSES)


# --- notebook 03: a class head on the top scale of the multi-scale discriminators ---

SCALES = (4, 8, 16)


def _scale_d(side, features=True, label_in_features=False):
    """03's per-scale D in miniature: [image, c] -> [uncond, cond]; the label joins late."""
    image, c = keras.Input((side, side, 1)), keras.Input((CLASSES,))
    x = image
    if label_in_features:
        x = layers.Concatenate()([x, _tile(c, side)])
    x = layers.LeakyReLU(0.2)(layers.Conv2D(4, 4, 2, padding="same")(x))
    if features:
        x = layers.Identity(name="features")(x)
    uncond = layers.Flatten()(layers.Conv2D(1, 2, dtype="float32")(x))
    joint = layers.Concatenate()([x, _tile(c, side // 2)])
    cond = layers.Flatten()(layers.Conv2D(1, 2, dtype="float32")(joint))
    return keras.Model([image, c], [uncond, cond], name=f"d_{side}")


def _tile(c, side):
    return layers.Lambda(
        lambda t: keras.ops.tile(keras.ops.reshape(t, (-1, 1, 1, CLASSES)), (1, side, side, 1))
    )(c)


def _multiscale_d(**kwargs):
    images = [keras.Input((s, s, 1)) for s in SCALES]
    c = keras.Input((CLASSES,))
    scores = []
    for side, image in zip(SCALES, images, strict=True):
        scores += _scale_d(side, **kwargs)([image, c])
    return keras.Model([*images, c], scores, name="msa")


def _tree_generator():
    z, c = keras.Input((LATENT,)), keras.Input((CLASSES,))
    x = layers.Reshape((2, 2, 8))(layers.Dense(32)(layers.Concatenate()([z, c])))
    outputs = []
    for _ in SCALES:
        x = layers.Conv2DTranspose(8, 4, 2, padding="same", activation="relu")(x)
        outputs.append(layers.Conv2D(1, 3, padding="same", activation="tanh", dtype="float32")(x))
    return keras.Model([z, c], outputs)


def _pyramid(images, sizes):
    side = images.shape[1]
    return [keras.ops.average_pool(images, side // s, side // s, "valid") for s in sizes]


def _lsgan_d(real, fake):
    return 0.5 * sum(
        keras.ops.mean(keras.ops.square(r - 1.0)) + keras.ops.mean(keras.ops.square(f))
        for r, f in zip(real, fake, strict=True)
    )


def _lsgan_g(fake):
    return 0.5 * sum(keras.ops.mean(keras.ops.square(f - 1.0)) for f in fake)


def _scale_gan(
    weight=1.0, d_steps=2, terms=None, d_rate=1e-3, *, scales="top", features=False, **options
):
    """The miniature tree with :func:`with_scale_classifier`'s D and the multiscale step;
    ``options`` go to the step (``class_prior``, ``matching``)."""
    keras.utils.set_random_seed(0)
    step = functools.partial(
        auxiliary_multiscale_train_step, pyramid=_pyramid, d_loss_fn=_lsgan_d,
        g_loss_fn=_lsgan_g, d_steps=d_steps, weight=weight, terms=terms, **options,
    )  # fmt: skip
    d = with_scale_classifier(_multiscale_d(), CLASSES, scales=scales, features=features)
    return _compiled(_tree_generator(), d, step, d_rate)


def test_scale_head_adds_float32_class_logits_and_keeps_the_six_scores():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        base = _multiscale_d()
        d = with_scale_classifier(base, CLASSES)
    finally:
        keras.config.set_dtype_policy(previous)
    images, labels = _batch(4)
    inputs = [*_pyramid(images, SCALES), keras.ops.convert_to_tensor(labels)]
    *scores, classes = d(inputs, training=False)
    assert len(scores) == 2 * len(SCALES) and tuple(classes.shape) == (4, CLASSES)
    assert keras.backend.standardize_dtype(classes.dtype) == "float32"
    for got, want in zip(scores, base(inputs, training=False), strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-6)
    shared = {id(v) for v in base.trainable_variables}
    own = [v for v in d.trainable_variables if id(v) not in shared]
    assert {v.path.split("/")[0] for v in own} == {CLASS_HEAD}, "only the head is new"
    assert len(base.outputs) == 2 * len(SCALES), "the discriminators are left as they were"


def test_scale_head_needs_image_only_features():
    with pytest.raises(ValueError, match="no layer named 'features'"):
        with_scale_classifier(_multiscale_d(features=False), CLASSES)
    with pytest.raises(ValueError, match="depend on its label input"):
        with_scale_classifier(_multiscale_d(label_in_features=True), CLASSES)


def test_multiscale_step_updates_d_every_step_g_every_dth_and_learns_the_classes():
    logged = []

    def terms(real, fake, sizes):
        logged.append(tuple(sizes))
        return {f"d_{sizes[-1]}_uncond": _lsgan_d(real[-2:-1], fake[-2:-1])}

    gan = _scale_gan(weight=1.0, d_steps=2, terms=terms)
    images, labels = _batch()
    first = gan.train_on_batch(images, labels, return_dict=True)
    for _ in range(29):
        last = gan.train_on_batch(images, labels, return_dict=True)
    assert {"d_loss", "g_loss", "class_loss", "class_accuracy", "d_16_uncond"} <= set(last)
    assert logged and logged[0] == SCALES, "terms get the generator's sizes, smallest first"
    assert int(gan.d_optimizer.iterations.numpy()) == 30
    assert int(gan.g_optimizer.iterations.numpy()) == 15, "G on every 2nd step"
    assert last["class_loss"] < 0.5 * first["class_loss"], (first, last)


@pytest.mark.parametrize("network", ["generator", "discriminator"])
def test_the_class_terms_reach_both_multiscale_updates(network):
    images, labels = _batch()
    after = {}
    for weight in (0.0, 5.0):
        gan = _scale_gan(weight, d_steps=1, d_rate=0.0 if network == "generator" else 1e-3)
        gan.train_on_batch(images, labels)
        after[weight] = [np.asarray(v) for v in getattr(gan, network).trainable_variables]
    gap = max(float(np.abs(a - b).max()) for a, b in zip(after[0.0], after[5.0], strict=True))
    assert gap > 1e-6, f"the class term did not change {network}'s update"


def test_heads_on_every_scale_give_one_float32_head_per_scale():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        base = _multiscale_d()
        d = with_scale_classifier(base, CLASSES, scales="all")
        with_features = with_scale_classifier(base, CLASSES, scales="all", features=True)
    finally:
        keras.config.set_dtype_policy(previous)
    images, labels = _batch(4)
    inputs = [*_pyramid(images, SCALES), keras.ops.convert_to_tensor(labels)]
    *scores, classes = d(inputs, training=False)
    assert len(scores) == 2 * len(SCALES)
    assert tuple(classes.shape) == (4, len(SCALES), CLASSES)
    assert keras.backend.standardize_dtype(classes.dtype) == "float32"
    for got, want in zip(scores, base(inputs, training=False), strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-6)
    shared = {id(v) for v in base.trainable_variables}
    own = {v.path.split("/")[0] for v in d.trainable_variables if id(v) not in shared}
    assert own == {f"{CLASS_HEAD}_{s}" for s in SCALES}, own
    *_, other_classes, features = with_features(inputs, training=False)
    assert tuple(other_classes.shape) == tuple(classes.shape), "features come after the classes"
    flat_sizes = sum(int(np.prod(m.get_layer("features").output.shape[1:])) for m in base.layers
                     if isinstance(m, keras.Model))  # fmt: skip
    assert tuple(features.shape) == (4, flat_sizes), "every scale's features, flattened"
    assert keras.backend.standardize_dtype(features.dtype) == "float32"
    with pytest.raises(ValueError, match="'top', 'bottom' or 'all'"):
        with_scale_classifier(base, CLASSES, scales="middle")


def test_every_head_counts_in_the_class_loss():
    """The step's class loss is the mean of the heads' cross-entropies, and it trains them."""
    gan = _scale_gan(1.0, d_steps=2, scales="all")
    d = gan.discriminator
    images, labels = _batch()
    *_, classes = d([*_pyramid(images, SCALES), keras.ops.convert_to_tensor(labels)], training=True)
    per_head = [
        float(keras.ops.mean(keras.losses.categorical_crossentropy(labels, classes[:, i], True)))
        for i in range(len(SCALES))
    ]
    first = gan.train_on_batch(images, labels, return_dict=True)
    np.testing.assert_allclose(first["class_loss"], np.mean(per_head), rtol=1e-4)
    mean = float(np.mean(per_head))
    assert min(abs(h - mean) for h in per_head) > 10 * 1e-4 * mean, (
        "the heads differ, so no single head's loss would match the mean"
    )
    for _ in range(29):
        last = gan.train_on_batch(images, labels, return_dict=True)
    assert last["class_loss"] < 0.5 * first["class_loss"], (first, last)


PRIORS = (("none", None), ("uniform", [1.0] * CLASSES), ("skewed", [0.8, 0.15, 0.05]))


def _largest_change(before, after):
    """The largest absolute difference between two lists of weight arrays."""
    return max(float(np.abs(x - y).max()) for x, y in zip(before, after, strict=True))


def _prior_gan(class_prior, d_rate=0.0):
    return _scale_gan(5.0, d_steps=1, d_rate=d_rate, class_prior=class_prior)


def test_class_prior_is_divided_out_of_g_term_only():
    """A uniform prior changes nothing (a constant shift of the logits); a skewed one changes
    G's update, and the wrong shape or a zero share is refused."""
    images, labels = _batch()
    after = {}
    for name, prior in PRIORS:
        gan = _prior_gan(prior)
        logs = gan.train_on_batch(images, labels, return_dict=True)
        after[name] = ([np.asarray(v) for v in gan.generator.trainable_variables], logs)
    assert _largest_change(after["none"][0], after["uniform"][0]) < 1e-6
    assert _largest_change(after["none"][0], after["skewed"][0]) > 1e-6, (
        "the prior did not reach G's update"
    )
    assert after["none"][1]["class_loss"] == pytest.approx(after["skewed"][1]["class_loss"]), (
        "D's head is trained on the plain cross-entropy"
    )
    d_after = {}
    for name in ("none", "skewed"):  # D's update is the same with or without the prior
        gan = _prior_gan(dict(PRIORS)[name], d_rate=1e-3)
        gan.train_on_batch(images, labels)
        d_after[name] = [np.asarray(v) for v in gan.discriminator.trainable_variables]
    assert _largest_change(d_after["none"], d_after["skewed"]) < 1e-6
    for bad in ([0.5, 0.5, 0.0], [0.5, 0.5], [[0.3, 0.3, 0.4]]):  # a zero, too few, 2-D
        with pytest.raises(ValueError, match="one positive share per class"):
            _prior_gan(bad).train_on_batch(images, labels)


def test_class_prior_reaches_g_in_the_single_scale_step_too():
    images, labels = _batch()
    after = {}
    for name, prior in PRIORS:
        keras.utils.set_random_seed(0)
        d = with_auxiliary_classifier(build_projection_discriminator(SIDE, CLASSES, 4), CLASSES)
        step = functools.partial(auxiliary_train_step, weight=5.0, class_prior=prior)
        gan = _compiled(_generator(), d, step, 0.0)
        gan.train_on_batch(images, labels)
        after[name] = [np.asarray(v) for v in gan.generator.trainable_variables]
    assert _largest_change(after["none"], after["uniform"]) < 1e-6
    assert _largest_change(after["none"], after["skewed"]) > 1e-6, (
        "the prior did not reach G's update"
    )


def test_class_feature_gap_compares_per_class_means():
    labels = np.eye(2, dtype="float32")[[0, 0, 1]]
    real = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]], "float32")
    assert float(class_feature_gap(labels, real, real[[1, 0, 2]])) == pytest.approx(0.0)
    fake = np.array([[2.0, 0.0], [2.0, 0.0], [0.0, 0.0]], "float32")  # class 0 right, 1 off
    # means: real (2, 0) and (0, 2); fake (2, 0) and (0, 0) -> gap 4 / (4 + 4)
    assert float(class_feature_gap(labels, real, fake)) == pytest.approx(0.5)
    mixed = np.array([[0.0, 2.0], [0.0, 2.0], [2.0, 0.0]], "float32")  # same overall mean
    assert float(class_feature_gap(labels, real, mixed)) == pytest.approx(2.0)


def test_feature_matching_reaches_g_and_is_logged():
    images, labels = _batch()
    after = {}
    for matching in (0.0, 5.0):
        gan = _scale_gan(1.0, d_steps=1, d_rate=0.0, features=bool(matching), matching=matching)
        logs = gan.train_on_batch(images, labels, return_dict=True)
        after[matching] = [np.asarray(v) for v in gan.generator.trainable_variables]
    assert logs["feature_gap"] > 0.0
    assert _largest_change(after[0.0], after[5.0]) > 1e-6, (
        "feature matching did not change G's update"
    )


@pytest.mark.parametrize("matching, features", [(1.0, False), (0.0, True)])
def test_feature_matching_and_the_features_output_go_together(matching, features):
    gan = _scale_gan(1.0, d_steps=1, features=features, matching=matching)
    with pytest.raises(ValueError, match="features=True"):
        gan.train_on_batch(*_batch())


def test_feature_matching_with_a_head_per_scale_trains_on_both_kinds_of_step():
    """Every scale's features, G on every 2nd step: the gap is logged on both kinds of step
    and falls as D's and G's means meet."""
    gan = _scale_gan(1.0, d_steps=2, scales="all", features=True, matching=5.0)
    images, labels = _batch()
    gaps = [gan.train_on_batch(images, labels, return_dict=True)["feature_gap"] for _ in range(40)]
    assert np.all(np.isfinite(gaps)) and min(gaps[:2]) > 0.0, gaps[:2]
    assert int(gan.g_optimizer.iterations.numpy()) == 20
    assert np.mean(gaps[-10:]) < np.mean(gaps[:10]), gaps


def test_bottom_head_reads_the_smallest_scale():
    base = _multiscale_d()
    d = with_scale_classifier(base, CLASSES, scales="bottom")
    head = d.get_layer(CLASS_HEAD)
    smallest = next(m for m in base.layers if isinstance(m, keras.Model))
    want = int(np.prod(smallest.get_layer("features").output.shape[1:]))
    assert head.kernel.shape == (want, CLASSES), (head.kernel.shape, want)
    images, labels = _batch(4)
    *scores, classes = d([*_pyramid(images, SCALES), keras.ops.convert_to_tensor(labels)])
    assert len(scores) == 2 * len(SCALES) and tuple(classes.shape) == (4, CLASSES)


def test_a_standardised_head_is_blind_to_the_grey_levels_of_the_whole_image():
    """Brightness and contrast changes move the scores, not the class logits."""
    keras.utils.set_random_seed(0)
    base = _multiscale_d()
    d = with_scale_classifier(base, CLASSES, standardise=True)
    plain = with_scale_classifier(base, CLASSES)  # the same D, the head on the image as it is
    images, labels = _batch(4)
    images = images * 0.8 + np.random.default_rng(0).normal(0, 0.1, images.shape)
    scale = np.array([0.5, 1.5, 0.8, 1.2]).reshape(4, 1, 1, 1)  # each image its own change
    changed = scale * images + np.array([0.2, -0.3, 0.0, 0.1]).reshape(4, 1, 1, 1)

    def outputs(model, x):
        inputs = [*_pyramid(x.astype("float32"), SCALES), keras.ops.convert_to_tensor(labels)]
        return [np.asarray(o) for o in model(inputs, training=False)]

    before, after = outputs(d, images), outputs(d, changed)
    np.testing.assert_allclose(after[-1], before[-1], atol=1e-2)  # eps in the std
    assert max(np.abs(a - b).max() for a, b in zip(after[:-1], before[:-1], strict=True)) > 1e-3
    assert np.abs(after[-2] - before[-2]).max() > 1e-3, "the top scale's scores see the change"
    for got, want in zip(before[:-1], outputs(plain, images)[:-1], strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)  # the scores read the image as it is
    unblind = np.abs(outputs(plain, changed)[-1] - outputs(plain, images)[-1]).max()
    assert unblind > 1e-3, "without standardise the head reads the grey levels"
