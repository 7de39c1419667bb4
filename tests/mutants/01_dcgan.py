"""Plausible wrong answers for 01_dcgan (format: tests/mutants/README.md)."""

_D_CALLS = (  # from D's call in D's update to D's call in G's update
    "logits = gan.discriminator(tf.concat([real_images, fake_images], axis=0), training=True)\n"
    "        real_logits, fake_logits = logits[:batch_size], logits[batch_size:]\n"
    "        d_loss = discriminator_loss(real_logits, fake_logits)\n"
    "    apply_gradients(gan.d_optimizer, tape, d_loss, gan.discriminator.trainable_variables)\n"
    "    with tf.GradientTape() as tape:\n"
    "        fake_images = gan.generator(gan.sample_noise(batch_size), training=True)\n"
    "        logits = gan.discriminator(tf.concat([real_images, fake_images], axis=0), training=True)"
)

MUTANTS = [
    # build_generator
    dict(
        grade_id="build_generator",
        name="sigmoid output",
        old='padding="same", activation="tanh",',
        new='padding="same", activation="sigmoid",',
        expect="tanh",
    ),
    dict(
        grade_id="build_generator",
        name="no output activation",
        old='padding="same", activation="tanh",',
        new='padding="same",',
        expect="tanh",
    ),
    dict(
        grade_id="build_generator",
        name="output layer left in the mixed-precision compute dtype",
        old='kernel_initializer=init, dtype="float32")(x)',
        new="kernel_initializer=init)(x)",
        expect="float32",
    ),
    dict(
        grade_id="build_generator",
        name="one up-sampling layer too many (log2 of size / 2)",
        old="n_up = int(np.log2(image_size // 4))",
        new="n_up = int(np.log2(image_size // 2))",
        expect="expected shape",
    ),
    # build_discriminator
    dict(
        grade_id="build_discriminator",
        name="sigmoid on the logit layer",
        old='layers.Dense(1, kernel_initializer=init, dtype="float32")',
        new='layers.Dense(1, activation="sigmoid", kernel_initializer=init, dtype="float32")',
        expect="logits",
    ),
    dict(
        grade_id="build_discriminator",
        name="logit layer left in the mixed-precision compute dtype",
        old='layers.Dense(1, kernel_initializer=init, dtype="float32")',
        new="layers.Dense(1, kernel_initializer=init)",
        expect="float32",
    ),
    dict(
        grade_id="build_discriminator",
        name="stride 1 (no down-sampling)",
        old='layers.Conv2D(filters, 4, 2, padding="same"',
        new='layers.Conv2D(filters, 4, 1, padding="same"',
        expect="4x4",
    ),
    dict(
        grade_id="build_discriminator",
        name="no Flatten before the logit",
        old="(layers.Flatten()(x))",
        new="(x)",
        expect="one logit per image",
    ),
    # losses
    dict(
        grade_id="losses",
        name="real and fake labels swapped in L_D",
        old="bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits)",
        new="bce(tf.zeros_like(real_logits), real_logits) + bce(tf.ones_like(fake_logits), fake_logits)",
        expect="reals are labelled 1",
    ),
    dict(
        grade_id="losses",
        name="L_D averaged instead of summed",
        old="return bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits)",
        new="return (bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits)) / 2",
        expect="sum",
    ),
    dict(
        grade_id="losses",
        name="sigmoid applied before bce (twice in all)",
        old="bce(tf.ones_like(real_logits), real_logits)",
        new="bce(tf.ones_like(real_logits), tf.sigmoid(real_logits))",
        expect="as they are",
    ),
    dict(
        grade_id="losses",
        name="minimax generator loss (-BCE against 0)",
        old="return bce(tf.ones_like(fake_logits), fake_logits)",
        new="return -bce(tf.zeros_like(fake_logits), fake_logits)",
        expect="non-saturating",
    ),
    dict(
        grade_id="losses",
        name="generator loss against label 0",
        old="return bce(tf.ones_like(fake_logits), fake_logits)",
        new="return bce(tf.zeros_like(fake_logits), fake_logits)",
        expect="non-saturating",
    ),
    # train_step
    dict(
        grade_id="train_step",
        name=".numpy() inside the step (fails in graph mode)",
        old='"d_loss": d_loss,',
        new='"d_loss": d_loss.numpy(),',
        expect="graph mode",
    ),
    dict(
        grade_id="train_step",
        name="NumPy on a tensor inside the step (fails in graph mode)",
        old='"d_real_accuracy": tf.reduce_mean(tf.cast(real_logits > 0, "float32")),',
        new='"d_real_accuracy": np.mean(real_logits > 0),',
        expect="graph mode",
    ),
    dict(
        grade_id="train_step",
        name="discriminator called without training=True",
        old=_D_CALLS,
        new=_D_CALLS.replace("axis=0), training=True)", "axis=0))"),
        expect="training=True",
    ),
    dict(
        grade_id="train_step",
        name="generator called without training=True",
        old="fake_images = gan.generator(gan.sample_noise(batch_size), training=True)\n"
        "    with tf.GradientTape() as tape:\n"
        "        logits = gan.discriminator(tf.concat([real_images, fake_images], axis=0), training=True)\n"
        "        real_logits, fake_logits = logits[:batch_size], logits[batch_size:]\n"
        "        d_loss = discriminator_loss(real_logits, fake_logits)\n"
        "    apply_gradients(gan.d_optimizer, tape, d_loss, gan.discriminator.trainable_variables)\n"
        "    with tf.GradientTape() as tape:\n"
        "        fake_images = gan.generator(gan.sample_noise(batch_size), training=True)",
        new="fake_images = gan.generator(gan.sample_noise(batch_size))\n"
        "    with tf.GradientTape() as tape:\n"
        "        logits = gan.discriminator(tf.concat([real_images, fake_images], axis=0), training=True)\n"
        "        real_logits, fake_logits = logits[:batch_size], logits[batch_size:]\n"
        "        d_loss = discriminator_loss(real_logits, fake_logits)\n"
        "    apply_gradients(gan.d_optimizer, tape, d_loss, gan.discriminator.trainable_variables)\n"
        "    with tf.GradientTape() as tape:\n"
        "        fake_images = gan.generator(gan.sample_noise(batch_size))",
        expect="training=True",
    ),
    dict(
        grade_id="train_step",
        name="generator loss from the stale logits of D's update (no gradient to G)",
        old="g_loss = generator_loss(logits[batch_size:])",
        new="g_loss = generator_loss(fake_logits)",
        expect="no gradient",
    ),
    dict(
        grade_id="train_step",
        name="generator loss with the wrong sign",
        old="g_loss = generator_loss(logits[batch_size:])",
        new="g_loss = -generator_loss(logits[batch_size:])",
        expect="never negative",
    ),
]
