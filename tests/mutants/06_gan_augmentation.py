"""Plausible wrong answers for 06_gan_augmentation (format: tests/mutants/README.md)."""

MUTANTS = [
    # --- add_synthetic -----------------------------------------------------------------
    dict(
        grade_id="add_synthetic",
        name="weight r_k instead of r_k x n_k",
        old="weights.append(float(ratio * counts[k]))",
        new="weights.append(float(ratio))",
        expect="ratio 2 for finding 1",
    ),
    dict(
        grade_id="add_synthetic",
        name="real stream weighted 1 instead of n",
        old='streams, weights = [splits["train"]], [float(len(labels))]',
        new='streams, weights = [splits["train"]], [1.0]',
        expect="for the real stream",
    ),
    dict(
        grade_id="add_synthetic",
        name="label shifted by one (as if No Finding came first)",
        old='one_hot = tf.one_hot(k, labels.shape[1], dtype="float32")',
        new='one_hot = tf.one_hot(k + 1, labels.shape[1], dtype="float32")',
        expect="one-hot label",
    ),
    dict(
        grade_id="add_synthetic",
        name="synthetic images labelled normal",
        old="lambda image, y=one_hot: (image, y)",
        new="lambda image, y=one_hot: (image, tf.zeros_like(y))",
        expect="one-hot label",
    ),
    dict(
        grade_id="add_synthetic",
        name="no upper bound on the ratio",
        old="if not 0 <= ratio <= 10:",
        new="if ratio < 0:",
        expect="[0, 10]",
    ),
    dict(
        grade_id="add_synthetic",
        name="synthetic images mixed into every split",
        old='return {**splits, "train": train}',
        new=(
            "return {name: tf.data.Dataset.sample_from_datasets([stream, *streams[1:]], "
            "weights=weights, seed=seed) for name, stream in splits.items()}"
        ),
        expect="real-only",
    ),
    # --- bootstrap_finding_auc ---------------------------------------------------------
    dict(
        grade_id="finding_auc_ci",
        name="resample images instead of patients",
        old=(
            "pick = np.concatenate([members[p] for p in rng.integers(0, len(members), "
            "len(members))])"
        ),
        new="pick = rng.integers(0, len(labels), len(labels))",
        expect="resample patients",
    ),
    dict(
        grade_id="finding_auc_ci",
        name="a 90 % interval (tail not halved)",
        old="tail = 100 * (1 - level) / 2",
        new="tail = 100 * (1 - level)",
        expect="95 % interval",
    ),
    dict(
        grade_id="finding_auc_ci",
        name="np.percentile: a NaN replicate spoils the bounds",
        old="low, high = np.nanpercentile(replicates, [tail, 100 - tail], axis=0)",
        new="low, high = np.percentile(replicates, [tail, 100 - tail], axis=0)",
        expect="nanpercentile",
    ),
    dict(
        grade_id="finding_auc_ci",
        name="AUC reported as the mean of the replicates",
        old='return {"auc": finding_auc(labels, scores),',
        new='return {"auc": np.nanmean(replicates, axis=0),',
        expect="on all images",
    ),
    dict(
        grade_id="finding_auc_ci",
        name="resampling the first axis of the scores",
        old="np.take(scores, pick, axis=-2)",
        new="scores[pick]",
        expect="image axis",
    ),
    # --- paired_auc_difference ---------------------------------------------------------
    dict(
        grade_id="paired_difference",
        name="unpaired: another seed for the baseline",
        old="base = bootstrap_finding_auc(labels, baseline_scores, patients, n_boot, seed, level)",
        new=(
            "base = bootstrap_finding_auc(labels, baseline_scores, patients, n_boot, seed + 1, "
            "level)"
        ),
        expect="paired",
    ),
    dict(
        grade_id="paired_difference",
        name="baseline minus arm",
        old='"difference": arm["auc"] - base["auc"]',
        new='"difference": base["auc"] - arm["auc"]',
        expect="minus AUC(baseline)",
    ),
    dict(
        grade_id="paired_difference",
        name="interval from the two separate intervals",
        old="low, high = np.nanpercentile(replicates, [tail, 100 - tail], axis=0)",
        new='low, high = arm["low"] - base["low"], arm["high"] - base["high"]',
        expect="paired differences",
    ),
    dict(
        grade_id="paired_difference",
        name="replicates baseline minus arm",
        old='replicates = arm["replicates"] - base["replicates"]',
        new='replicates = base["replicates"] - arm["replicates"]',
        expect="inside its interval",
    ),
    dict(
        grade_id="finding_auc_ci",
        name="patients drawn with np.isin: a patient drawn twice counts once",
        old="        pick = np.concatenate([members[p] for p in rng.integers(0, len(members), len(members))])",
        new="        pick = np.flatnonzero(np.isin(patient_index, rng.integers(0, len(members), len(members))))",
        expect="drawn twice",
    ),
]
