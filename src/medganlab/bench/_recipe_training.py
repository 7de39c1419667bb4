"""Train one recipe row of :mod:`medganlab.bench.gan_recipes` and measure its generators.

The graded functions come from the notebook's solution ``.py`` (imports, defs, classes and the
``INIT`` assignment only; nothing of the notebook runs), so a row measures the notebook's code.
"""

from __future__ import annotations

import ast
import functools
import shutil
import time
from pathlib import Path

import numpy as np

FIXED_N = 512  # real and generated images for the Fréchet distance (fewer if the set is small)


def load_graded(assignment: str) -> dict:
    """The namespace of ``solutions/<assignment>/<assignment>.py``'s imports, defs and classes."""
    from medganlab.paths import home

    source = home() / "solutions" / assignment / f"{assignment}.py"
    tree = ast.parse(source.read_text())
    keep = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))
        or (isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "INIT")
    ]
    namespace: dict = {}
    exec(compile(ast.Module(keep, []), str(source), "exec"), namespace)  # noqa: S102
    return namespace


def _index(assignment: str, cfg) -> list:
    from medganlab.data import catalog, cxr_splits, nih, vocabulary
    from medganlab.evaluation.classifier import single_finding_index

    if assignment == "01_dcgan":
        return nih.load_index(
            catalog.cxr_dataset(n=cfg.train_images, size=cfg.image_size, seed=cfg.seed)
        )
    root = catalog.cxr_dataset(
        n=cfg.train_images, size=cfg.image_size, seed=cfg.seed, single_finding=True
    )
    single = single_finding_index(root, tuple(vocabulary.FINDINGS))
    return cxr_splits.split_records(single)["train"]


def _class_prior(index: list) -> np.ndarray:
    """Each finding's share of the training records' labels (at least one image each)."""
    from medganlab.data import nih

    counts = np.sum([nih.label_vector(r["labels"]) for r in index], axis=0, dtype="float64")
    counts = np.maximum(counts, 1.0)
    return counts / counts.sum()


def _head_weight(top: float, extras: dict, epochs: int):
    """The class head's weight: ``top``, or a variable a callback sets epoch by epoch.

    ``auxiliary_ramp_epochs`` grows it from ``top / ramp`` to ``top``;
    ``auxiliary_weight_end`` moves it linearly from ``top`` to that value by the last epoch.
    Returns ``(weight, callbacks)``.
    """
    import keras

    ramp, end = extras.get("auxiliary_ramp_epochs"), extras.get("auxiliary_weight_end")
    if end is not None:
        last = max(epochs - 1, 1)

        def schedule(epoch):
            return top + (float(end) - top) * min(1.0, epoch / last)
    elif ramp:

        def schedule(epoch):
            return top * min(1.0, (epoch + 1) / ramp)
    else:
        return top, []
    weight = keras.Variable(schedule(0), dtype="float32", trainable=False, name="ac_weight")
    update = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs=None: weight.assign(schedule(epoch))
    )
    return weight, [update]


def wants_balance(cfg, extras: dict) -> bool:
    """Class-balanced batches: 02's config field (its cpu profile sets it), else 03's extra key."""
    return bool(getattr(cfg, "balance", False) or extras.get("balance", False))


def train(assignment: str, cfg, extras: dict, out: Path) -> dict:
    """Train one row as its notebook does; returns the generators, the grid and the timings."""
    import keras

    from medganlab.data import nih
    from medganlab.training import GAN, SampleGrid, fit_gan
    from medganlab.training.recipes import GeneratorEMA, augmented_discriminator

    ns = load_graded(assignment)
    balance = wants_balance(cfg, extras)
    if balance and extras.get("auxiliary_adjust"):  # balanced batches: the head's prior is flat
        raise ValueError(
            "auxiliary_adjust with balance=True would take out a prior the head never saw "
            "(class-balanced batches); use one or the other"
        )
    index = _index(assignment, cfg)
    class_prior = _class_prior(index) if extras.get("auxiliary_adjust") else None
    train_ds = nih.make_dataset(
        index,
        size=cfg.image_size,
        batch=cfg.batch_size,
        labels="multi-hot",
        shuffle=True,
        cache=True,
        seed=cfg.seed,
        drop_remainder=True,
        balance=balance,
    )
    if balance and cfg.steps_per_epoch is None:
        cfg = cfg.replace(steps_per_epoch=nih.balanced_steps(index, cfg.batch_size))
    keras.utils.set_random_seed(cfg.seed)
    ema_decay = getattr(cfg, "ema_decay", None) or extras.get("ema_decay")
    # 03's attention tau is a schedule: the average copies it (as the notebook's does)
    ema = GeneratorEMA(ema_decay, copy=("tau",)) if ema_decay else None
    callbacks: list = []
    augment_options: dict = {}  # 03: every scale, and G's update (it reads D in inference mode)
    grid: dict = {"generator": ema}
    d_lr = cfg.discriminator_learning_rate  # D's own rate, else G's (as published)
    if assignment == "01_dcgan":
        generator = ns["build_generator"](cfg.latent_dim, cfg.image_size, cfg.generator_width)
        discriminator = ns["build_discriminator"](cfg.image_size, cfg.discriminator_width)
        grid["num_samples"] = cfg.sample_grid**2
        kind, step_fn, kwargs = "dcgan", ns["train_step"], {}
    elif assignment == "02_conditional_gan":
        generator = ns["build_conditional_generator"](
            cfg.latent_dim, cfg.num_classes, cfg.image_size, cfg.generator_width
        )
        kind = cfg.discriminator
        if kind == "projection":
            from medganlab.models.conditional import build_projection_discriminator

            discriminator = build_projection_discriminator(
                cfg.image_size,
                cfg.num_classes,
                cfg.discriminator_width,
                spectral_norm=bool(extras.get("spectral_norm", False)),
            )
        elif kind == "concat":
            discriminator = ns["build_conditional_discriminator"](
                cfg.image_size, cfg.num_classes, cfg.discriminator_width
            )
        else:
            raise ValueError(f"discriminator: expected 'concat' or 'projection', got {kind!r}")
        step_fn, kwargs = ns["conditional_train_step"], {"num_classes": cfg.num_classes}
        weight = cfg.auxiliary_weight  # on whichever D the row names (the notebook: projection)
        if weight:  # AC-GAN: a class head on D's features, trained on the reals (not graded)
            from medganlab.training.auxiliary import auxiliary_train_step, with_auxiliary_classifier

            discriminator = with_auxiliary_classifier(discriminator, cfg.num_classes)
            step_fn = functools.partial(
                auxiliary_train_step,
                weight=float(weight),
                class_prior=class_prior,
            )
            kind = f"{kind}+ac"
    else:  # 03_multiscale_attention_gan
        generator = ns["build_generator"](
            cfg.latent_dim,
            cfg.num_classes,
            cfg.image_size,
            cfg.generator_width,
            cfg.attention_pool,
            cfg.learnable_gamma,
        )
        sizes = [cfg.image_size // 4, cfg.image_size // 2, cfg.image_size]
        discriminator = ns["build_discriminators"](sizes, cfg.num_classes, cfg.discriminator_width)
        kind = "multiscale"
        if cfg.projection:  # a projection term in the conditional heads
            from medganlab.training.scale_projection import with_scale_projection

            discriminator = with_scale_projection(discriminator, cfg.num_classes, cfg.projection)
            kind = "multiscale+proj"
        step_fn = functools.partial(ns["multiscale_train_step"], d_steps=cfg.d_steps_per_g_step)
        augment_options = {"image_inputs": len(sizes), "always": True}
        if cfg.auxiliary_weight:  # a class head on the top scale, the student's losses (given)
            from medganlab.training.auxiliary import (
                auxiliary_multiscale_train_step,
                with_scale_classifier,
            )

            matching = float(extras.get("feature_matching", 0.0))
            discriminator = with_scale_classifier(
                discriminator,
                cfg.num_classes,
                extras.get("auxiliary_scales", "top"),
                features=bool(matching),
                standardise=bool(extras.get("head_standardise")),
            )
            weight, schedule = _head_weight(float(cfg.auxiliary_weight), extras, cfg.epochs)
            callbacks += schedule
            step_fn = functools.partial(
                auxiliary_multiscale_train_step,
                pyramid=ns["real_pyramid"],
                d_loss_fn=ns["lsgan_discriminator_loss"],
                g_loss_fn=ns["lsgan_generator_loss"],
                d_steps=cfg.d_steps_per_g_step,
                weight=weight,
                terms=ns["loss_terms"],
                class_prior=class_prior,
                matching=matching,
            )
            kind = f"{kind}+ac"
        kwargs = {"num_classes": cfg.num_classes}
        grid["output_index"] = -1
        callbacks.append(ns["TauSchedule"](generator, cfg.tau_step, cfg.tau_every_epochs))
    if assignment != "01_dcgan":
        labels = np.repeat(np.eye(cfg.num_classes, dtype="float32"), cfg.per_finding_samples, 0)
        grid.update(num_samples=len(labels), labels=labels, ncols=cfg.per_finding_samples)
    diff_augment = getattr(cfg, "diff_augment", ()) or extras.get("diff_augment", ())
    if diff_augment:
        discriminator = augmented_discriminator(
            discriminator, diff_augment, seed=cfg.seed, **augment_options
        )
    gan = GAN(generator, discriminator, latent_dim=cfg.latent_dim, train_step_fn=step_fn, **kwargs)
    gan.compile(
        g_optimizer=keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1),
        d_optimizer=keras.optimizers.Adam(d_lr, beta_1=cfg.beta_1),
    )
    shutil.rmtree(out / "samples", ignore_errors=True)  # SampleGrid would resume old frames
    samples = SampleGrid(out / "samples", **grid)
    callbacks += [c for c in (ema, samples) if c is not None]
    start = time.perf_counter()
    history = fit_gan(
        gan, train_ds, epochs=cfg.epochs, steps_per_epoch=cfg.steps_per_epoch,
        callbacks=callbacks, verbose=2,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    d_steps = int(gan.d_optimizer.iterations.numpy())
    g_steps = int(gan.g_optimizer.iterations.numpy())
    steps = d_steps if assignment == "03_multiscale_attention_gan" else g_steps
    return {
        "samplers": {"G": generator, **({"EMA": ema.generator} if ema else {})},
        "index": index,
        "row": {
            "discriminator": kind,
            "balance": balance,
            "ema_decay": ema_decay,
            "lr_g": cfg.learning_rate,
            "lr_d": d_lr,
            "batch_size": cfg.batch_size,
            "diff_augment": list(diff_augment),
            "epochs": cfg.epochs,
            "steps": steps,
            "g_steps": g_steps,
            "train_seconds": round(seconds, 1),
            "s_per_step": round(seconds / max(steps, 1), 3),
            "train_images": len(index),
            "final_losses": {k: float(v[-1]) for k, v in history.history.items() if v},
            "grid": str(samples.paths[-1]) if samples.paths else None,
        },
    }


def measure(assignment: str, cfg, judge_cfg, index: list, samplers: dict) -> dict:
    """Accuracy per finding, Fréchet distance and diversity of each sampler (see gan_recipes)."""
    import keras

    from medganlab.data import nih, vocabulary
    from medganlab.evaluation.classifier import conditional_confusion, reference_classifier
    from medganlab.evaluation.frechet import frechet_distance_features
    from medganlab.evaluation.grey_levels import match_grey_levels, matched_ceiling
    from medganlab.training import mean_pairwise_distance

    classifier, _ = reference_classifier(
        cfg.image_size,
        n_images=judge_cfg.classifier_images,
        epochs=judge_cfg.classifier_epochs,
    )
    features = keras.Model(classifier.input, classifier.get_layer("features").output)
    conditional = assignment != "01_dcgan"
    if not conditional:
        index = index[: 2 * FIXED_N]
    real, real_y = [], []
    for x, y in nih.make_dataset(
        index, size=cfg.image_size, batch=256, labels="multi-hot", shuffle=False
    ):
        real.append(x.numpy())
        real_y.append(y.numpy())
    real, real_y = np.concatenate(real), np.argmax(np.concatenate(real_y), -1)
    out: dict = {}
    if conditional:
        pick = np.random.default_rng(0).choice(len(real), min(FIXED_N, len(real)), replace=False)
    else:  # 01: the first n real images; the next n give the real-vs-real distance
        n = min(FIXED_N, len(real) // 2)
        pick = np.arange(n)
        other = features.predict(real[n : 2 * n], verbose=0)
    real_f = features.predict(real[pick], verbose=0)
    real_div = mean_pairwise_distance(real[pick[:64]])
    if not conditional:
        out["real_vs_real_frechet"] = float(frechet_distance_features(other, real_f))
    findings = list(vocabulary.FINDINGS)
    k_classes = len(findings)

    def draw(g, z, c=None):
        y = g.predict(z if c is None else [z, c], verbose=0)
        return np.asarray(y[-1] if isinstance(y, (list, tuple)) else y, dtype="float32")

    for name, g in samplers.items():
        z = np.random.default_rng(99).normal(size=(len(pick), cfg.latent_dim)).astype("float32")
        c = np.eye(k_classes, dtype="float32")[real_y[pick]] if conditional else None
        fake = draw(g, z, c)
        metrics = {
            "frechet": float(frechet_distance_features(features.predict(fake, verbose=0), real_f)),
            "diversity": float(mean_pairwise_distance(fake[:64]) / real_div),
        }
        if conditional:

            def generate(k, n, g=g):
                zk = np.random.default_rng(k).normal(size=(n, cfg.latent_dim)).astype("float32")
                return draw(g, zk, np.eye(k_classes, dtype="float32")[[k] * n])

            counts = conditional_confusion(
                generate, classifier, k_classes, per_class=judge_cfg.eval_per_finding
            )
            acc = np.diag(counts) / float(judge_cfg.eval_per_finding)
            metrics["accuracy"] = dict(zip(findings, map(float, acc), strict=True))
            # row: the finding asked for; column: the judge's reading (where the misses go)
            metrics["confusion"] = np.asarray(counts, dtype=int).tolist()
            metrics["mean"] = float(np.mean(acc))
            # the same requests with every fake given a random real image's grey levels: is
            # the finding drawn, or signalled by brightness? (evaluation/grey_levels.py)
            matched = conditional_confusion(
                lambda k, n, generate=generate: match_grey_levels(generate(k, n), real, seed=k),
                classifier,
                k_classes,
                per_class=judge_cfg.eval_per_finding,
            )
            matched_acc = np.diag(matched) / float(judge_cfg.eval_per_finding)
            metrics["matched_accuracy"] = dict(zip(findings, map(float, matched_acc), strict=True))
            metrics["matched_mean"] = float(np.mean(matched_acc))
        out[name] = metrics
    if conditional:  # the judge on the real training images: the ceiling
        pred = np.argmax(classifier.predict(real, verbose=0), -1)
        out["real_accuracy"] = {
            f: float(np.mean(pred[real_y == k] == k)) if np.any(real_y == k) else None
            for k, f in enumerate(findings)
        }
        ceiling = matched_ceiling(classifier, real, real_y)
        out["real_matched_accuracy"] = {
            f: None if np.isnan(v) else float(v) for f, v in zip(findings, ceiling, strict=True)
        }
    return out
