"""GAN quality over training for 01, 02 (and its projection comparison) and 03, per run.

For every finished run ``build/runs/<assignment>_<profile>`` it reads the fixed-noise sample
grids ``SampleGrid`` saved each epoch and computes, per epoch:

- the Fréchet distance between the grid's samples and as many real training images, on the
  pooled features of the reference finding classifier (a fixed network trained on separate
  phantoms) — with so few samples it is biased upward: compare epochs and runs, not papers;
- the samples' diversity: mean pairwise distance over that of the real images (1 = as varied);
- for the conditional runs (02, 03: one finding per grid row), the conditional accuracy per
  finding: the share of a row the classifier assigns to the row's finding.

For a conditional run with an exported generator (``artifacts/<assignment>_<profile>``) it
also measures the final generator at the notebook's ``eval_per_finding`` per finding, and the
Fréchet distance at a fixed n = 512 with its real-vs-real spread (two disjoint real sets of
the same n). The judge's own accuracy on the real training images ("real") is the ceiling.
Set ``MEDGANLAB_PROFILE`` to choose the runs (default ``cpu``); runs not found are skipped.
Figures: ``build/bench/gan_quality_<profile>.png``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

# run folder (without _<profile>) -> (config of its notebook, the artifact it exports or None)
RUNS = {
    "01_dcgan": ("01_dcgan", None),
    "02_conditional_gan": ("02_conditional_gan", "02_conditional_gan"),
    "02_conditional_gan_projection": ("02_conditional_gan", None),
    "02_conditional_gan_concat": ("02_conditional_gan", None),
    "03_multiscale_attention_gan": ("03_multiscale_attention_gan", "03_multiscale_attention_gan"),
}
FIXED_N = 512  # samples for the final Fréchet distance and its real-vs-real spread


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


def _real(assignment: str, cfg) -> tuple[np.ndarray, np.ndarray]:
    """Real training images in [-1, 1] and their finding index (-1: unconditional 01)."""
    from medganlab.data import catalog, cxr_splits, nih, vocabulary

    if assignment == "01_dcgan":
        index = nih.load_index(
            catalog.cxr_dataset(n=cfg.train_images, size=cfg.image_size, seed=cfg.seed)
        )[: 2 * FIXED_N]
    else:
        root = catalog.cxr_dataset(
            n=cfg.train_images, size=cfg.image_size, seed=cfg.seed, single_finding=True
        )
        findings = list(vocabulary.FINDINGS)
        single = [
            r for r in nih.load_index(root) if len(r["labels"]) == 1 and r["labels"][0] in findings
        ]
        index = cxr_splits.split_records(single)["train"]
    images, labels = [], []
    for x, y in nih.make_dataset(
        index, size=cfg.image_size, batch=256, labels="multi-hot", shuffle=False
    ):
        images.append(x.numpy())
        labels.append(y.numpy())
    y = np.concatenate(labels)
    one = y.sum(axis=1) == 1
    return np.concatenate(images), np.where(one, np.argmax(y, axis=1), -1)


def _per_finding(predicted: np.ndarray, asked: np.ndarray, findings) -> dict[str, float]:
    return {
        f: float(np.mean(predicted[asked == k] == k)) if np.any(asked == k) else float("nan")
        for k, f in enumerate(findings)
    }


def _final(name, cfg, classifier, features, real, real_y, findings, profile) -> dict:
    """The exported generator: accuracy per finding, Fréchet at FIXED_N with spread."""
    from medganlab.evaluation.classifier import conditional_confusion
    from medganlab.evaluation.frechet import frechet_distance_features
    from medganlab.training import load_generator, mean_pairwise_distance

    generator, meta = load_generator(f"{name}_{profile}")
    latent = int(meta["latent_dim"])

    def draw(z, c):
        out = generator.predict([z, c], verbose=0)
        return np.asarray(out[-1] if isinstance(out, (list, tuple)) else out)

    def generate(k, n):
        c = np.eye(len(findings), dtype="float32")[[k] * n]
        return draw(np.random.default_rng(k).normal(size=(n, latent)).astype("float32"), c)

    per_class = getattr(cfg, "eval_per_finding", 64)
    confusion = conditional_confusion(generate, classifier, len(findings), per_class=per_class)
    accuracy = np.diag(confusion) / per_class
    rng = np.random.default_rng(0)
    pick = rng.permutation(len(real))[: 2 * FIXED_N]
    a, b = pick[:FIXED_N], pick[FIXED_N:]
    z = np.random.default_rng(99).normal(size=(len(a), latent)).astype("float32")
    fake = draw(z, np.eye(len(findings), dtype="float32")[real_y[a]])
    if fake.shape[1] != real.shape[1]:
        import tensorflow as tf

        fake = tf.image.resize(fake, real.shape[1:3], method="area").numpy()
    f_real = features.predict(real[a], verbose=0)
    return {
        "source": meta.get("source"),
        "created_at": meta.get("created_at"),
        "per_finding": per_class,
        "conditional_accuracy": dict(zip(findings, map(float, accuracy), strict=True)),
        "mean_conditional_accuracy": float(np.mean(accuracy)),
        # row: the finding asked for, column: the judge's verdict
        "confusion": confusion.tolist(),
        "frechet_n": len(a),
        "frechet": frechet_distance_features(features.predict(fake, verbose=0), f_real),
        "frechet_real_vs_real": frechet_distance_features(
            features.predict(real[b], verbose=0), f_real
        )
        if len(b) == len(a)
        else float("nan"),
        "diversity": mean_pairwise_distance(fake[:64]) / mean_pairwise_distance(real[a][:64]),
    }


def _run_one(name, assignment, export, profile, judge_cache) -> dict | None:
    import keras

    from medganlab.data import vocabulary
    from medganlab.evaluation.classifier import reference_classifier
    from medganlab.evaluation.frechet import frechet_distance_features
    from medganlab.paths import build_dir
    from medganlab.profiles import profile_for
    from medganlab.training import mean_pairwise_distance

    samples = build_dir() / "runs" / f"{name}_{profile}" / "samples"
    pngs = sorted(samples.glob("samples_epoch_*.png"))
    if not pngs:
        print(f"{name}_{profile}: no sample grids in {samples}; skipped")
        return None
    cfg = profile_for(assignment, profile)
    findings = list(vocabulary.FINDINGS)
    conditional = assignment != "01_dcgan"
    if cfg.image_size not in judge_cache:
        cond = profile_for("02_conditional_gan", profile)  # the classifier notebook 02 uses
        classifier, info = reference_classifier(
            cfg.image_size, n_images=cond.classifier_images, epochs=cond.classifier_epochs
        )
        features = keras.Model(classifier.input, classifier.get_layer("features").output)
        judge_cache[cfg.image_size] = (classifier, info, features)
    classifier, info, features = judge_cache[cfg.image_size]
    real, real_y = _real(assignment, cfg)
    row_size = getattr(cfg, "per_finding_samples", None)
    n = len(_tiles(pngs[0], cfg.image_size))
    real_div = mean_pairwise_distance(real[:n])
    real_features = features.predict(real[:n], verbose=0)
    result = {
        "run": f"{name}_{profile}",
        "samples_per_epoch": n,
        "judge_held_out_accuracy": float(info["held_out_accuracy"]),
        "real_diversity": real_div,
        "epochs": [],
    }
    if conditional:
        predicted = np.argmax(classifier.predict(real, verbose=0), axis=-1)
        result["real_accuracy"] = _per_finding(predicted, real_y, findings)
        result["training_images"] = {f: int(np.sum(real_y == k)) for k, f in enumerate(findings)}
    print(f"\n{result['run']}: {len(pngs)} epoch grids of {n} samples")
    print(
        f"{'epoch':>6}{'Fréchet':>10}{'diversity':>11}" + ("   cond. acc." if conditional else "")
    )
    for png in pngs:
        fake = _tiles(png, cfg.image_size)
        row = {
            "epoch": int(re.search(r"(\d+)", png.stem).group(1)),
            "frechet": frechet_distance_features(features.predict(fake, verbose=0), real_features),
            "diversity": mean_pairwise_distance(fake) / real_div,
        }
        if conditional and row_size:
            asked = np.arange(len(fake)) // row_size
            guess = np.argmax(classifier.predict(fake, verbose=0), axis=-1)
            row["conditional_accuracy"] = _per_finding(guess, asked, findings)
            row["mean_conditional_accuracy"] = float(np.mean(guess == asked))
        result["epochs"].append(row)
        acc = (
            f"{row['mean_conditional_accuracy']:>13.2f}"
            if "mean_conditional_accuracy" in row
            else ""
        )
        print(f"{row['epoch']:>6}{row['frechet']:>10.2f}{row['diversity']:>11.2f}{acc}")
    if export is not None and conditional:
        try:
            result["final"] = _final(
                export, cfg, classifier, features, real, real_y, findings, profile
            )
        except (FileNotFoundError, ValueError, KeyError) as error:
            print(f"{name}: final generator not measured ({type(error).__name__}: {error})")
        else:
            final = result["final"]
            print(
                f"final generator ({final['per_finding']} per finding): mean conditional "
                f"accuracy {final['mean_conditional_accuracy']:.2f} "
                + " ".join(f"{f[:5]} {a:.2f}" for f, a in final["conditional_accuracy"].items())
                + f"; Fréchet@{final['frechet_n']} {final['frechet']:.2f} (real vs real "
                f"{final['frechet_real_vs_real']:.2f}); diversity {final['diversity']:.2f}"
            )
    return result


def _plot(runs: list[dict], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    for r in runs:
        epochs = [e["epoch"] for e in r["epochs"]]
        axes[0].plot(epochs, [e["frechet"] for e in r["epochs"]], marker=".", label=r["run"])
        axes[1].plot(epochs, [e["diversity"] for e in r["epochs"]], marker=".", label=r["run"])
        if r["epochs"] and "mean_conditional_accuracy" in r["epochs"][0]:
            axes[2].plot(
                epochs,
                [e["mean_conditional_accuracy"] for e in r["epochs"]],
                marker=".",
                label=r["run"],
            )
    axes[0].set_title("Fréchet distance (classifier features, grid n)")
    axes[1].set_title("diversity (real = 1)")
    axes[2].set_title("conditional accuracy of the grid (chance 0.125)")
    axes[2].axhline(0.125, ls="--", c="k", lw=0.8)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)


def run(out_dir: Path) -> dict:
    profile = os.environ.get("MEDGANLAB_PROFILE", "cpu")
    judges: dict = {}
    runs = [
        r
        for name, (assignment, export) in RUNS.items()
        if (r := _run_one(name, assignment, export, profile, judges)) is not None
    ]
    if not runs:
        raise FileNotFoundError(
            f"no runs of 01, 02 or 03 in the {profile} profile under build/runs; run the notebooks"
        )
    _plot(runs, Path(out_dir) / f"gan_quality_{profile}.png")
    return {"profile": profile, "fixed_n": FIXED_N, "runs": runs}
