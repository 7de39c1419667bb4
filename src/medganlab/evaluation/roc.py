"""ROC plumbing for assignment 05: patient-level bootstrap CIs and the overlaid-ROC figure.

The ROC points and the trapezoid AUC are what students write in the notebook; this module
takes their AUC function (``auc_fn``) and only resamples and draws. The reference AUC is
scikit-learn's ``roc_auc_score``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

__all__ = ["PAPER_AUC", "reference_auc", "bootstrap_auc", "plot_roc_curves"]

# Lee et al. 2021, Fig. 5 (no confidence intervals given).
PAPER_AUC = {"3x3 ELU": 0.996, "3x3 Tanh": 0.976, "3x3 Sigmoid": 0.91}


def reference_auc(y_true, y_score) -> float:
    """scikit-learn's ROC AUC (the course's reference)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.asarray(y_true).ravel(), np.asarray(y_score).ravel()))


def bootstrap_auc(
    y_true: Sequence[float],
    y_score: Sequence[float],
    groups: Sequence[object],
    auc_fn: Callable[[np.ndarray, np.ndarray], float] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float]:
    """AUC with a percentile bootstrap CI that resamples *patients* (``groups``), not images.

    Images of one patient are correlated; resampling them one by one would treat follow-ups
    as independent evidence and give too narrow an interval.

    Returns:
        ``auc`` (on all images), ``low``, ``high``, ``n_boot`` (resamples used: those with
        both classes), ``patients``.
    """
    auc_fn = auc_fn or reference_auc
    y, s = np.asarray(y_true, float).ravel(), np.asarray(y_score, float).ravel()
    groups = np.asarray([str(g) for g in groups])
    if not len(y) == len(s) == len(groups):
        raise ValueError(f"lengths differ: {len(y)} labels, {len(s)} scores, {len(groups)} groups")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    names, inverse = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inverse == k) for k in range(len(names))]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        pick = np.concatenate([members[k] for k in rng.integers(0, len(names), len(names))])
        if 0 < y[pick].sum() < len(pick):
            values.append(float(auc_fn(y[pick], s[pick])))
    if not values:
        raise ValueError("no bootstrap resample held both classes; expected more patients")
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return {
        "auc": float(auc_fn(y, s)),
        "low": float(low),
        "high": float(high),
        "n_boot": len(values),
        "patients": len(names),
    }


def plot_roc_curves(
    curves: Mapping[str, Mapping[str, object]],
    title: str = "ROC on the test split",
    paper: Mapping[str, float] | None = None,
):
    """Overlay ROC curves; ``curves[name]`` has ``fpr``, ``tpr``, ``auc`` and ``low``/``high``.

    ``paper`` adds the published AUC to the legend entry of the same name.
    """
    import matplotlib.pyplot as plt

    if not curves:
        raise ValueError("plot_roc_curves: expected at least one curve")
    fig, ax = plt.subplots(figsize=(5.2, 5))
    for name, c in curves.items():
        label = f"{name}: AUC {c['auc']:.3f} [{c['low']:.3f}, {c['high']:.3f}]"
        if paper and name in paper:
            label += f" (paper {paper[name]:.3f})"
        ax.plot(c["fpr"], c["tpr"], lw=1.6, label=label)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="chance")
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1.01),
        xlabel="false positive rate (1 - specificity)",
        ylabel="true positive rate (sensitivity)",
        title=title,
        aspect="equal",
    )
    ax.legend(loc="lower right", fontsize=7.5)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
