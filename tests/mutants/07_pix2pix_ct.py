"""Plausible wrong answers for 07_pix2pix_ct (format: tests/mutants/README.md)."""

MUTANTS = [
    # build_patchgan
    dict(
        grade_id="build_patchgan",
        name="a fourth stride-2 block (a 142x142 receptive field, not 70x70)",
        old="x = downsample(x, 4 * width)",
        new="x = downsample(downsample(x, 4 * width), 8 * width)",
        expect="receptive field of 70",
    ),
    dict(
        grade_id="build_patchgan",
        name="3x3 kernels in the stride-1 convolutions",
        old="x = layers.Conv2D(8 * width, 4, kernel_initializer=init, use_bias=False)(x)",
        new="x = layers.Conv2D(8 * width, 3, kernel_initializer=init, use_bias=False)(x)",
        expect="receptive field",
    ),
    dict(
        grade_id="build_patchgan",
        name="the condition is not concatenated: D judges the image alone",
        old="x = layers.Concatenate()([condition, image])",
        new="x = image",
        expect="condition",
    ),
    dict(
        grade_id="build_patchgan",
        name="a sigmoid on the patch logits",
        old='logits = layers.Conv2D(1, 4, kernel_initializer=init, dtype="float32")(x)',
        new='logits = layers.Conv2D(1, 4, kernel_initializer=init, dtype="float32", activation="sigmoid")(x)',
        expect="logits",
    ),
    dict(
        grade_id="build_patchgan",
        name="no padding before the stride-1 convolutions (smaller patch grid)",
        old="x = layers.ZeroPadding2D()(x)\n    logits",
        new="logits",
        expect="patch logits of shape",
    ),
    # discriminator_loss
    dict(
        grade_id="losses",
        name="discriminator loss not halved",
        old="return 0.5 * (real + fake)",
        new="return real + fake",
        expect="½·(log 2 + log 2)",
    ),
    dict(
        grade_id="losses",
        name="real patches labelled 0 in the discriminator loss",
        old="real = bce(tf.ones_like(real_logits), real_logits)",
        new="real = bce(tf.zeros_like(real_logits), real_logits)",
        expect="real logits 2",
    ),
    dict(
        grade_id="losses",
        name="the fake term is missing from the discriminator loss",
        old="return 0.5 * (real + fake)",
        new="return real",
        expect="fake logits -1",
    ),
    # generator_loss
    dict(
        grade_id="losses",
        name="λ = 1 instead of 100",
        old="l1_weight=100.0):",
        new="l1_weight=1.0):",
        expect="λ = 100",
    ),
    dict(
        grade_id="losses",
        name="L2 (squared error) instead of L1",
        old='l1 = tf.reduce_mean(tf.abs(tf.cast(real_images, "float32") - fake_images))',
        new='l1 = tf.reduce_mean(tf.square(tf.cast(real_images, "float32") - fake_images))',
        expect="L1 term",
    ),
    dict(
        grade_id="losses",
        name="adversarial term against 0 (the discriminator's target for fakes)",
        old="adversarial = bce(tf.ones_like(fake_logits), fake_logits)",
        new="adversarial = bce(tf.zeros_like(fake_logits), fake_logits)",
        expect="adversarial term",
    ),
    # train_step
    dict(
        grade_id="train_step",
        name="two discriminator calls (real pairs, then fake pairs)",
        old=(
            "logits = gan.discriminator(\n"
            "            [tf.concat([conditions, conditions], axis=0),\n"
            "             tf.concat([real_images, fake_images], axis=0)], training=True)\n"
            "        real_logits, fake_logits = logits[:batch_size], logits[batch_size:]"
        ),
        new=(
            "real_logits = gan.discriminator([conditions, real_images], training=True)\n"
            "        fake_logits = gan.discriminator([conditions, fake_images], training=True)"
        ),
        expect="one discriminator call",
    ),
    dict(
        grade_id="train_step",
        name="generator run in inference mode",
        old="fake_images = gan.generator(conditions, training=True)",
        new="fake_images = gan.generator(conditions, training=False)",
        expect="training=True",
    ),
    dict(
        grade_id="train_step",
        name="the generator's update only uses the adversarial term",
        old="apply_gradients(gan.g_optimizer, g_tape, g_total,",
        new="apply_gradients(gan.g_optimizer, g_tape, g_gan,",
        expect="L1 term to fall",
    ),
    dict(
        grade_id="train_step",
        name="the generator's update is forgotten",
        old="apply_gradients(gan.g_optimizer, g_tape, g_total, gan.generator.trainable_variables)",
        new="",
        expect="generator's weights to change",
    ),
]
