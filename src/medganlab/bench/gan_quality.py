"""GAN quality over training, from a finished run's per-epoch sample grids.

For ``build/runs/01_dcgan_<profile>`` (the fixed-noise grids ``SampleGrid`` saved every
epoch) this computes, per epoch, the Fréchet distance between the grid's samples and as many
real images, on the pooled features of the reference finding classifier (a fixed feature
network trained on separate phantoms), and the samples' diversity. With 64 samples the
distance is biased upward (see notebook 04): compare epochs with each other, not with papers.
Set ``MEDGANLAB_PROFILE`` to choose which run to read (default ``cpu``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np


def _tiles(png: Path, size: int, pad: int = 2) -> np.ndarray:
    from PIL import Image

    grid = np.asarray(Image.open(png), dtype="float32") / 127.5 - 1.0
    n_rows = (grid.shape[0] - pad) // (size + pad)
    n_cols = (grid.shape[1] - pad) // (size + pad)
    tiles = [
        grid[
            pad + r * (size + pad) : pad + r * (size + pad) + size,
            pad + c * (size + pad) : pad + c * (size + pad) + size,
        ]
        for r in range(n_rows)
        for c in range(n_cols)
    ]
    return np.stack(tiles)[..., None]


def run(out_dir: Path) -> dict:
    import keras

    from medganlab.data import catalog, nih
    from medganlab.evaluation.classifier import reference_classifier
    from medganlab.evaluation.frechet import frechet_distance_features
    from medganlab.paths import build_dir
    from medganlab.profiles import profile_for
    from medganlab.training import mean_pairwise_distance

    profile = os.environ.get("MEDGANLAB_PROFILE", "cpu")
    cfg = profile_for("01_dcgan", profile)
    samples = build_dir() / "runs" / f"01_dcgan_{profile}" / "samples"
    pngs = sorted(samples.glob("samples_epoch_*.png"))
    if not pngs:
        raise FileNotFoundError(
            f"{samples}: no sample grids; run notebook 01 in the {profile} profile"
        )
    cond = profile_for("02_conditional_gan", profile)  # the same cached classifier as notebook 02
    classifier, _ = reference_classifier(
        cfg.image_size, n_images=cond.classifier_images, epochs=cond.classifier_epochs
    )
    features = keras.Model(classifier.input, classifier.get_layer("features").output)
    n = len(_tiles(pngs[0], cfg.image_size))
    index = nih.load_index(
        catalog.cxr_dataset(n=cfg.train_images, size=cfg.image_size, seed=cfg.seed)
    )
    real = np.concatenate(
        [x for x, _ in nih.make_dataset(index[:n], size=cfg.image_size, batch=n, shuffle=False)]
    )
    real_features = features.predict(real, verbose=0)
    rows = []
    print(
        f"{'epoch':>6}{'Fréchet distance':>18}{'diversity':>11}   (real diversity {mean_pairwise_distance(real):.2f})"
    )
    for png in pngs:
        fake = _tiles(png, cfg.image_size)
        fd = frechet_distance_features(features.predict(fake, verbose=0), real_features)
        epoch = int(re.search(r"(\d+)", png.stem).group(1))
        rows.append({"epoch": epoch, "frechet": fd, "diversity": mean_pairwise_distance(fake)})
        print(f"{epoch:>6}{fd:>18.3f}{rows[-1]['diversity']:>11.2f}")
    return {"profile": profile, "samples_per_epoch": n, "epochs": rows}
