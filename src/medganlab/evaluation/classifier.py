"""A reference finding classifier trained on the phantom, to judge conditional generators.

Notebook 02 asks: when the generator is told "Effusion", does the image show an effusion?
This small CNN, trained on single-finding phantom radiographs, answers per finding. It is
cached under the artifacts folder so every notebook and benchmark reuses one model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = [
    "build_finding_classifier",
    "single_finding_index",
    "reference_classifier",
    "conditional_accuracy",
    "conditional_confusion",
]


def build_finding_classifier(image_size: int, num_classes: int = 8, width: int = 16):
    """Conv blocks → global average pooling (layer ``features``) → class logits."""
    import keras
    from keras import layers

    image = keras.Input((image_size, image_size, 1))
    x, filters = image, width
    while x.shape[1] > 4:
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        # momentum 0.9: with Keras' default 0.99 the moving statistics lag far behind a short
        # training run, and evaluation-mode predictions fall to chance.
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
        filters = min(filters * 2, 8 * width)
    features = layers.GlobalAveragePooling2D(name="features")(x)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(features)
    return keras.Model(image, logits, name="finding_classifier")


def single_finding_index(root: Path, findings: tuple[str, ...]) -> list[dict]:
    """Records of ``root`` with exactly one of ``findings`` (and nothing else)."""
    from medganlab.data import nih

    return [r for r in nih.load_index(root) if len(r["labels"]) == 1 and r["labels"][0] in findings]


def _one_hot_dataset(index, size, batch, shuffle, seed):
    """Single-finding records → (image, one-hot over the 8 findings) batches."""
    from medganlab.data import nih

    # For single-finding images NIH's multi-hot vector over the 8 findings is one-hot.
    return nih.make_dataset(
        index, size=size, batch=batch, labels="multi-hot", shuffle=shuffle, cache=True, seed=seed
    )


def reference_classifier(
    image_size: int,
    n_images: int = 2400,
    epochs: int = 8,
    seed: int = 1234,
    batch: int = 64,
    retrain: bool = False,
    verbose: int | str = 0,
):
    """Load (or train once and cache) the reference classifier for ``image_size`` images.

    Trained on a balanced single-finding phantom set (a different seed from any GAN's
    training set), with softmax cross-entropy over the 8 findings.

    Returns:
        (model, info) where info has the held-out accuracy and the class names.
    """
    import json

    import keras

    from medganlab.data import catalog, vocabulary
    from medganlab.data.cxr.rendering import GENERATOR_VERSION
    from medganlab.paths import artifacts_dir
    from medganlab.runtime import jit_compile_default

    findings = tuple(vocabulary.FINDINGS)
    # the phantom's version is part of the key: a classifier of older films misreads new ones
    folder = artifacts_dir() / (
        f"finding_classifier_v2_g{GENERATOR_VERSION}_s{image_size}_n{n_images}_e{epochs}_seed{seed}"
    )
    if (folder / "model.keras").is_file() and not retrain:
        return keras.saving.load_model(folder / "model.keras"), json.loads(
            (folder / "info.json").read_text()
        )
    root = catalog.cxr_dataset(
        n=n_images, size=image_size, seed=seed, prevalence="balanced", single_finding=True
    )
    index = single_finding_index(root, findings)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(index))
    cut = int(0.85 * len(index))
    train = [index[i] for i in order[:cut]]
    held = [index[i] for i in order[cut:]]
    keras.utils.set_random_seed(seed)
    model = build_finding_classifier(image_size, len(findings))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=jit_compile_default(),
    )
    model.fit(
        _one_hot_dataset(train, image_size, batch, True, seed),
        epochs=epochs,
        verbose=verbose,
    )
    _, accuracy = model.evaluate(_one_hot_dataset(held, image_size, batch, False, seed), verbose=0)
    info = {
        "findings": list(findings),
        "held_out_accuracy": float(accuracy),
        "train_images": len(train),
        "held_out_images": len(held),
        "image_size": image_size,
    }
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "model.keras")
    (folder / "info.json").write_text(json.dumps(info, indent=1))
    return model, info


def conditional_confusion(
    generate, classifier, num_classes: int, per_class: int, batch: int = 64
) -> np.ndarray:
    """Where the classifier puts the images generated for each class.

    Args:
        generate: ``generate(class_index, n) -> images (n, H, W, 1) in [-1, 1]``.
        classifier: a model returning class logits (images are area-resized to its input).
        num_classes: number of classes.
        per_class: images generated per class.

    Returns:
        counts, shape (num_classes, num_classes): row = the class asked for, column = the
        class the classifier assigns; every row sums to ``per_class``.
    """
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    counts = np.zeros((num_classes, num_classes), dtype=int)
    size = classifier.input_shape[1]
    for k in range(num_classes):
        images = np.asarray(generate(k, per_class))
        if images.shape[0] != per_class:
            raise ValueError(
                f"generate({k}, {per_class}) returned {images.shape[0]} images, expected {per_class}"
            )
        if images.shape[1] != size:
            import tensorflow as tf

            images = tf.image.resize(images, (size, size), method="area").numpy()
        logits = classifier.predict(images, batch_size=batch, verbose=0)
        counts[k] = np.bincount(np.argmax(logits, axis=-1), minlength=num_classes)[:num_classes]
    return counts


def conditional_accuracy(
    generate, classifier, num_classes: int, per_class: int, batch: int = 64
) -> np.ndarray:
    """Share of generated images the classifier assigns to the class they were asked for.

    The diagonal of :func:`conditional_confusion` over ``per_class``; arguments as there.

    Returns:
        accuracy per class, shape (num_classes,).
    """
    counts = conditional_confusion(generate, classifier, num_classes, per_class, batch)
    return np.diag(counts) / float(per_class)
