"""Plausible wrong answers for 02_conditional_gan (format: tests/mutants/README.md)."""

MUTANTS = [
    # conditional_generator
    dict(
        grade_id="conditional_generator",
        name="sigmoid output",
        old='padding="same", activation="tanh",',
        new='padding="same", activation="sigmoid",',
        expect="tanh",
    ),
    dict(
        grade_id="conditional_generator",
        name="no output activation",
        old='padding="same", activation="tanh",',
        new='padding="same",',
        expect="tanh",
    ),
    dict(
        grade_id="conditional_generator",
        name="output layer left in the mixed-precision compute dtype",
        old='kernel_initializer=INIT, dtype="float32")(x)',
        new="kernel_initializer=INIT)(x)",
        expect="float32",
    ),
    dict(
        grade_id="conditional_generator",
        name="label input never used (noise only)",
        old="x = layers.Concatenate()([z, c])",
        new="x = z",
        expect="feed c to the generator",
    ),
    # tile_label_channels
    dict(
        grade_id="tile_label_channels",
        name="channels-first label block",
        old="c = keras.ops.reshape(c, (-1, 1, 1, c.shape[-1]))\n"
        "    return keras.ops.tile(c, (1, height, width, 1))",
        new="c = keras.ops.reshape(c, (-1, c.shape[-1], 1, 1))\n"
        "    return keras.ops.tile(c, (1, 1, height, width))",
        expect="(batch, height, width, classes)",
    ),
    dict(
        grade_id="tile_label_channels",
        name="height and width swapped",
        old="keras.ops.tile(c, (1, height, width, 1))",
        new="keras.ops.tile(c, (1, width, height, 1))",
        expect="(batch, height, width, classes)",
    ),
    dict(
        grade_id="tile_label_channels",
        name="the first image's label for the whole batch",
        old="return keras.ops.tile(c, (1, height, width, 1))",
        new="return keras.ops.tile(c[:1], (keras.ops.shape(c)[0], height, width, 1))",
        expect="its own label",
    ),
    # conditional_discriminator
    dict(
        grade_id="conditional_discriminator",
        name="sigmoid on the logit layer",
        old='layers.Dense(1, kernel_initializer=INIT, dtype="float32")',
        new='layers.Dense(1, activation="sigmoid", kernel_initializer=INIT, dtype="float32")',
        expect="logits",
    ),
    dict(
        grade_id="conditional_discriminator",
        name="logit layer left in the mixed-precision compute dtype",
        old='layers.Dense(1, kernel_initializer=INIT, dtype="float32")',
        new="layers.Dense(1, kernel_initializer=INIT)",
        expect="float32",
    ),
    dict(
        grade_id="conditional_discriminator",
        name="label channels never concatenated (image only)",
        old="x = layers.Concatenate()([image, channels])",
        new="x = image",
        expect="feed the tiled label channels",
    ),
    # conditional_train_step
    dict(
        grade_id="conditional_train_step",
        name=".numpy() inside the step (fails in graph mode)",
        old='return {"d_loss": d_loss,',
        new='return {"d_loss": d_loss.numpy(),',
        expect="graph mode",
    ),
    dict(
        grade_id="conditional_train_step",
        name="labels not repeated for the concatenated batch",
        old="tf.concat([labels, labels], 0)",
        new="labels",
        expect="repeat the labels",
    ),
    dict(
        grade_id="conditional_train_step",
        name="discriminator called without training=True",
        old="tf.concat([labels, labels], 0)], training=True)",
        new="tf.concat([labels, labels], 0)])",
        expect="training=True",
    ),
    dict(
        grade_id="conditional_train_step",
        name="generator loss from the stale logits of D's update (no gradient to G)",
        old="fake_logits = score(gan.generator([gan.sample_noise(n), labels], training=True))[n:]",
        new="score(gan.generator([gan.sample_noise(n), labels], training=True))\n"
        "        fake_logits = logits[n:]",
        expect="no gradient",
    ),
    dict(
        grade_id="conditional_train_step",
        name="generator loss with the wrong sign",
        old="g_loss = bce(tf.ones_like(fake_logits), fake_logits)",
        new="g_loss = -bce(tf.ones_like(fake_logits), fake_logits)",
        expect="never negative",
    ),
]
