"""Plausible wrong answers for 08_kidney_segmentation (format: tests/mutants/README.md)."""

MUTANTS = [
    # slice_iou and mean_over_slices
    dict(
        grade_id="slice_iou",
        name="one IoU pooled over all slices instead of one per slice",
        old="    inter = np.sum(truth & guess, axis=1)\n    union = np.sum(truth | guess, axis=1)",
        new="    inter = np.full(len(truth), np.sum(truth & guess))\n"
        "    union = np.full(len(truth), np.sum(truth | guess))",
        expect="per-slice",
    ),
    dict(
        grade_id="slice_iou",
        name="an empty-vs-empty slice scores 0 with empty='one'",
        old='fill = 1.0 if empty == "one" else np.nan',
        new='fill = 0.0 if empty == "one" else np.nan',
        expect="empty-vs-empty",
    ),
    dict(
        grade_id="slice_iou",
        name="an empty-vs-empty slice scores 0 instead of being excluded",
        old='fill = 1.0 if empty == "one" else np.nan',
        new='fill = 1.0 if empty == "one" else 0.0',
        expect="NaN for the empty-vs-empty",
    ),
    dict(
        grade_id="slice_iou",
        name="a region is one label value: foreground is kidney only",
        old="    truth = np.isin(labels, REGIONS[region]).reshape(len(labels), -1)\n"
        "    guess = np.isin(predicted, REGIONS[region]).reshape(len(predicted), -1)",
        new="    truth = (labels == REGIONS[region][0]).reshape(len(labels), -1)\n"
        "    guess = (predicted == REGIONS[region][0]).reshape(len(predicted), -1)",
        expect="foreground",
    ),
    dict(
        grade_id="slice_iou",
        name="Dice's formula instead of IoU",
        old="inter / np.maximum(union, 1), fill)",
        new="2 * inter / np.maximum(union + inter, 1), fill)",
        expect="kidney IoU",
    ),
    dict(
        grade_id="slice_iou",
        name="the mean keeps the excluded (NaN) slices",
        old="    kept = scores[~np.isnan(scores)]",
        new="    kept = scores",
        expect="excluded slices left out",
    ),
    # slice_dice
    dict(
        grade_id="slice_dice",
        name="IoU's formula instead of Dice",
        old="2 * inter / np.maximum(sizes, 1)",
        new="inter / np.maximum(sizes - inter, 1)",
        expect="kidney Dice",
    ),
    dict(
        grade_id="slice_dice",
        name="the factor 2 is missing",
        old="2 * inter / np.maximum(sizes, 1)",
        new="inter / np.maximum(sizes, 1)",
        expect="Dice",
    ),
    dict(
        grade_id="slice_dice",
        name="sizes summed over the whole batch",
        old="    sizes = np.sum(truth, axis=1) + np.sum(guess, axis=1)",
        new="    sizes = np.sum(truth) + np.sum(guess)",
        expect="Dice",
    ),
    dict(
        grade_id="slice_dice",
        name="'exclude' ignored: empty-vs-empty always 1",
        old='fill = 1.0 if empty == "one" else np.nan',
        new="fill = 1.0",
        expect="NaN for the empty-vs-empty",
    ),
    # make_pair_augmenter
    dict(
        grade_id="pair_augmenter",
        name="radians passed as RandomRotation's factor (a fraction of a full turn)",
        old="layers.RandomRotation(rotation_degrees / 360.0,",
        new="layers.RandomRotation(np.radians(rotation_degrees),",
        expect="360 degrees",
    ),
    dict(
        grade_id="pair_augmenter",
        name="no shift by +1/-1: what moves in is 0 HU, not air",
        old='        data = {"images": tf.cast(images, "float32") + 1.0,\n'
        '                "segmentation_masks": tf.cast(labels, "float32")}\n'
        "        for step in steps:\n"
        "            data = step(data, training=True)\n"
        '        moved = tf.cast(data["images"], "float32") - 1.0',
        new='        data = {"images": tf.cast(images, "float32"),\n'
        '                "segmentation_masks": tf.cast(labels, "float32")}\n'
        "        for step in steps:\n"
        "            data = step(data, training=True)\n"
        '        moved = tf.cast(data["images"], "float32")',
        expect="air",
    ),
    dict(
        grade_id="pair_augmenter",
        name="slice and label map transformed by separate calls (different draws, bilinear labels)",
        old="        for step in steps:\n            data = step(data, training=True)",
        new='        for step in steps:\n            data = {"images": step(data["images"], training=True),\n'
        '                    "segmentation_masks": step(data["segmentation_masks"], training=True)}',
        expect="aligned",
    ),
    dict(
        grade_id="pair_augmenter",
        name="the zoom is forgotten",
        old='        layers.RandomZoom(zoom, fill_mode="constant", fill_value=0.0, seed=seed + 2),\n',
        new="",
        expect="zoom",
    ),
    dict(
        grade_id="pair_augmenter",
        name="the layers called with training=False (no augmentation at all)",
        old="data = step(data, training=True)",
        new="data = step(data, training=False)",
        expect="random transform",
    ),
    dict(
        grade_id="pair_augmenter",
        name="label maps returned as float32",
        old='        masks = tf.cast(tf.round(tf.cast(data["segmentation_masks"], "float32")), labels.dtype)',
        new='        masks = tf.cast(data["segmentation_masks"], "float32")',
        expect="uint8",
    ),
    # build_light_unet
    dict(
        grade_id="build_light_unet",
        name="no skip connections",
        old='        x = layers.Concatenate(name=f"skip{level + 1}")([x, skips[level]])\n',
        new="",
        expect="skip connection",
    ),
    dict(
        grade_id="build_light_unet",
        name="a transposed convolution instead of UpSampling2D",
        old='x = layers.UpSampling2D(2, name=f"upsample{level + 1}")(x)',
        new='x = layers.Conv2DTranspose(x.shape[-1], 2, strides=2, name=f"upsample{level + 1}")(x)',
        expect="UpSampling2D",
    ),
    dict(
        grade_id="build_light_unet",
        name="widths grow linearly (w, 2w, 3w) instead of doubling",
        old='x = conv_block(x, width * 2**level, f"down{level + 1}")',
        new='x = conv_block(x, width * (level + 1), f"down{level + 1}")',
        expect="parameters",
    ),
    dict(
        grade_id="build_light_unet",
        name="probabilities in the compute dtype (no dtype='float32' on the last layer)",
        old='activation="softmax", dtype="float32", name="scores"',
        new='activation="softmax", name="scores"',
        expect="float32",
    ),
    dict(
        grade_id="build_light_unet",
        name="logits instead of softmax probabilities",
        old='activation="softmax", dtype="float32", name="scores"',
        new='dtype="float32", name="scores"',
        expect="softmax",
    ),
    dict(
        grade_id="build_light_unet",
        name="no check of the input sides",
        old="    if input_shape[0] % 2**depth or input_shape[1] % 2**depth:\n"
        '        raise ValueError(f"input sides must be divisible by 2**depth = {2**depth}, '
        'got {input_shape[:2]}")\n',
        new="",
        expect="input sides",
    ),
    # the package's own scorer (which the notebook runs later) instead of the student's
    dict(
        grade_id="slice_iou",
        name="slice_iou wraps the package's seg.slice_scores",
        old="    labels, predicted = np.asarray(labels), np.asarray(predicted)\n"
        "    if labels.shape != predicted.shape:",
        new='    return seg.slice_scores(labels, predicted, region, empty)["iou"]\n'
        "    labels, predicted = np.asarray(labels), np.asarray(predicted)\n"
        "    if labels.shape != predicted.shape:",
        expect="your own implementation",
    ),
    dict(
        grade_id="slice_iou",
        name="mean_over_slices is an alias of the package's mean",
        old="    scores = np.asarray(scores, dtype=np.float64).ravel()",
        new="    from medganlab.evaluation.segmentation import mean_score as average\n"
        "    return average(scores)",
        expect="your own implementation",
    ),
]
