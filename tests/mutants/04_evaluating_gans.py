"""Plausible wrong answers for 04_evaluating_gans (format: tests/mutants/README.md)."""

MUTANTS = [
    dict(
        grade_id="frechet_distance",
        name="computed in the inputs' float32",
        old="mu1, mu2 = (np.atleast_1d(np.asarray(m, np.float64)) for m in (mu1, mu2))\n"
        "    sigma1, sigma2 = (np.atleast_2d(np.asarray(s, np.float64)) for s in (sigma1, sigma2))",
        new="mu1, mu2 = (np.atleast_1d(np.asarray(m)) for m in (mu1, mu2))\n"
        "    sigma1, sigma2 = (np.atleast_2d(np.asarray(s)) for s in (sigma1, sigma2))",
        expect="float64",
    ),
    dict(
        grade_id="frechet_distance",
        name="trace term without the factor 2",
        old="- 2 * np.sqrt(np.clip(inner, 0, None)).sum()",
        new="- np.sqrt(np.clip(inner, 0, None)).sum()",
        expect="must be 0",
    ),
    dict(
        grade_id="frechet_distance",
        name="mean term not squared",
        old="value = diff @ diff +",
        new="value = np.abs(diff).sum() +",
        expect="expected 9 + 1 = 10",
    ),
    dict(
        grade_id="frechet_distance",
        name="element-wise square root of the covariance product",
        old="- 2 * np.sqrt(np.clip(inner, 0, None)).sum()",
        new="- 2 * np.trace(np.sqrt(np.abs(sigma1 @ sigma2)))",
        expect="not the element-wise",
    ),
    dict(
        grade_id="frechet_distance",
        name="negative eigenvalues clipped silently (no ValueError)",
        old="if inner.min() < -1e-6 * max(1.0, np.abs(inner).max()):",
        new="if False:",
        expect="raise ValueError",
    ),
]
