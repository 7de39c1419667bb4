"""Plausible wrong answers for 00_setup_and_data (format: tests/mutants/README.md)."""

MUTANTS = [
    # stored_to_hu
    dict(
        grade_id="stored_to_hu",
        name="multiplies in the stored integer type, casts afterwards",
        old="hu = np.asarray(stored).astype(np.float32) * np.float32(slope) + np.float32(intercept)",
        new="hu = (np.asarray(stored) * slope + intercept).astype(np.float32)",
        expect="overflow",
    ),
    dict(
        grade_id="stored_to_hu",
        name="no cast at all (float64 result, integer overflow)",
        old="hu = np.asarray(stored).astype(np.float32) * np.float32(slope) + np.float32(intercept)",
        new="hu = np.asarray(stored) * slope + intercept",
        expect="float32",
    ),
    dict(
        grade_id="stored_to_hu",
        name="slope and intercept swapped",
        old="* np.float32(slope) + np.float32(intercept)",
        new="* np.float32(intercept) + np.float32(slope)",
        expect="stored * slope + intercept",
    ),
    dict(
        grade_id="stored_to_hu",
        name="intercept subtracted",
        old="* np.float32(slope) + np.float32(intercept)",
        new="* np.float32(slope) - np.float32(intercept)",
        expect="stored * slope + intercept",
    ),
    # window_to_unit
    dict(
        grade_id="window_to_unit",
        name="no clipping",
        old="clipped = np.clip(np.asarray(hu, dtype=np.float32), low, high)",
        new="clipped = np.asarray(hu, dtype=np.float32)",
        expect="clip",
    ),
    dict(
        grade_id="window_to_unit",
        name="maps the window to [0, 1]",
        old="return (2.0 * (clipped - low) / (high - low) - 1.0).astype(np.float32)",
        new="return ((clipped - low) / (high - low)).astype(np.float32)",
        expect="[-1, 1]",
    ),
    dict(
        grade_id="window_to_unit",
        name="width taken as the half-width",
        old="low = center - width / 2.0\n    high = center + width / 2.0",
        new="low = center - width\n    high = center + width",
        expect="lower edge -1",
    ),
    dict(
        grade_id="window_to_unit",
        name="window starts at the level instead of centring on it",
        old="low = center - width / 2.0\n    high = center + width / 2.0",
        new="low = center\n    high = center + width",
        expect="level 0",
    ),
    dict(
        grade_id="window_to_unit",
        name="no check of the width",
        old="if width <= 0:",
        new="if width < 0:",
        expect="ValueError",
    ),
    # cardiothoracic_ratio
    dict(
        grade_id="cardiothoracic_ratio",
        name="width of the whole mask instead of its widest row",
        old="for row in np.asarray(mask, dtype=bool):",
        new="for row in [np.asarray(mask, dtype=bool).any(axis=0)]:",
        expect="widest row",
    ),
    dict(
        grade_id="cardiothoracic_ratio",
        name="counts the pixels of a row instead of its extent",
        old="best = max(best, int(columns[-1] - columns[0] + 1))",
        new="best = max(best, int(columns.size))",
        expect="gaps included",
    ),
    dict(
        grade_id="cardiothoracic_ratio",
        name="extent off by one (last - first)",
        old="best = max(best, int(columns[-1] - columns[0] + 1))",
        new="best = max(best, int(columns[-1] - columns[0]))",
        expect="first column + 1",
    ),
    dict(
        grade_id="cardiothoracic_ratio",
        name="rows and columns swapped (vertical extent)",
        old="for row in np.asarray(mask, dtype=bool):",
        new="for row in np.asarray(mask, dtype=bool).T:",
        expect="horizontal",
    ),
    dict(
        grade_id="cardiothoracic_ratio",
        name="thorax over heart",
        old="return widest(heart_mask) / thorax",
        new="return thorax / widest(heart_mask)",
        expect="heart width / thorax width",
    ),
    # hu_per_label
    dict(
        grade_id="hu_per_label",
        name="mean instead of median",
        old="table[int(value)] = tuple(float(v) for v in np.percentile(voxels, [50, 5, 95]))",
        new="table[int(value)] = (float(np.mean(voxels)),\n"
        "                             *(float(v) for v in np.percentile(voxels, [5, 95])))",
        expect="median",
    ),
    dict(
        grade_id="hu_per_label",
        name="percentiles in the wrong order (p95 before p5)",
        old="np.percentile(voxels, [50, 5, 95])",
        new="np.percentile(voxels, [50, 95, 5])",
        expect="5th percentile, 95th percentile",
    ),
    dict(
        grade_id="hu_per_label",
        name="fractions passed to np.percentile (quantile confusion)",
        old="np.percentile(voxels, [50, 5, 95])",
        new="np.percentile(voxels, [0.5, 0.05, 0.95])",
        expect="median",
    ),
    dict(
        grade_id="hu_per_label",
        name="nearest-rank percentiles",
        old="np.percentile(voxels, [50, 5, 95])",
        new='np.percentile(voxels, [50, 5, 95], method="nearest")',
        expect="linear percentiles",
    ),
    dict(
        grade_id="hu_per_label",
        name="numpy integers as keys",
        old="table[int(value)] =",
        new="table[value] =",
        expect="plain Python ints",
    ),
]
