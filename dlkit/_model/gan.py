"""`GAN`: a generative adversarial network trained the way the Keras guides train one.

A `keras.Model` subclass that overrides ``train_step`` ("Customizing what happens in fit()",
keras.io): each step the discriminator learns to tell a batch of real samples (label 1) from
as many generated ones (label 0), then the generator learns to make the discriminator call
fresh generated samples real (the non-saturating loss of Goodfellow et al. 2014), each network
with its own optimizer. It logs ``d_loss``, ``g_loss`` and ``mmd``: the squared maximum mean
discrepancy between the batch of real samples and the generated ones (Gretton et al. 2012,
Gaussian kernels at 0.25, 1 and 4 times the real batch's mean squared distance between
samples): unlike either loss, it falls as the generated samples' distribution nears the data's.
On validation data (``val_d_loss``, ``val_g_loss``, ``val_mmd``) nothing is trained.

It is registered with `keras.saving.register_keras_serializable` (as ``dlkit>GAN``), so a saved
GAN loads in Keras' safe mode, its two optimizers' states included.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from dlkit._model.penalties import weight_penalties
from dlkit._plan.parts import make
from dlkit._plan.plan import Plan

KERNEL_SCALES = (0.25, 1.0, 4.0)


@keras.saving.register_keras_serializable(package="dlkit")
class GAN(keras.Model):
    """A generator and a discriminator trained against each other.

    Calling the model on latent vectors (``model(z)``) generates samples.

    Args:
        generator: a model from ``(latent_dim,)`` noise to a sample.
        discriminator: a model from a sample to one logit (or probability) that it is real.
        latent_dim: the size of the noise vectors.

    Example:
        >>> gan = GAN(generator, discriminator, latent_dim=8)
        >>> gan.compile(generator_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        ...             discriminator_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        ...             loss=keras.losses.BinaryCrossentropy(from_logits=True))
        >>> gan.fit(x, epochs=20)
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = int(latent_dim)
        self.seed_generator = keras.random.SeedGenerator()
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.mmd_tracker = keras.metrics.Mean(name="mmd")
        self.generator_optimizer = self.discriminator_optimizer = self.adversarial_loss = None
        self.built = True  # both networks are built: the GAN has no weights of its own

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        """What `fit` logs and resets every epoch."""
        return [self.d_loss_tracker, self.g_loss_tracker, self.mmd_tracker]

    def call(self, inputs: Any, training: bool = False) -> Any:
        """Generated samples for latent vectors `inputs`."""
        return self.generator(inputs, training=training)

    def compile(self, generator_optimizer: Any = None, discriminator_optimizer: Any = None,
                loss: Any = None, **kwargs: Any) -> None:
        """Sets each network's optimizer and the adversarial loss (a name or a Keras loss);
        the other arguments go to `keras.Model.compile` (``steps_per_execution``, ...)."""
        if generator_optimizer is None or discriminator_optimizer is None or loss is None:
            raise ValueError("a GAN is compiled with generator_optimizer, "
                             "discriminator_optimizer and loss")
        super().compile(optimizer=None, **kwargs)
        self.generator_optimizer = keras.optimizers.get(generator_optimizer)
        self.discriminator_optimizer = keras.optimizers.get(discriminator_optimizer)
        self.adversarial_loss = keras.losses.get(loss)
        # Built now, so that saved weights (a backup: --resume) load into them.
        self.generator_optimizer.build(self.generator.trainable_variables)
        self.discriminator_optimizer.build(self.discriminator.trainable_variables)

    def train_step(self, data: Any) -> dict[str, Any]:
        real = samples_of(data)
        count = tf.shape(real)[0]
        fake = self.generator(self.noise(count), training=True)
        with tf.GradientTape() as tape:
            d_loss = self.discriminator_loss(real, fake, training=True)
            scaled = self.discriminator_optimizer.scale_loss(d_loss)
        weights = self.discriminator.trainable_weights
        self.discriminator_optimizer.apply(tape.gradient(scaled, weights), weights)
        with tf.GradientTape() as tape:
            g_loss = self.generator_loss(self.generator(self.noise(count), training=True),
                                         training=True)
            scaled = self.generator_optimizer.scale_loss(g_loss)
        weights = self.generator.trainable_weights
        self.generator_optimizer.apply(tape.gradient(scaled, weights), weights)
        return self.logged(d_loss, g_loss, mmd(real, fake))

    def test_step(self, data: Any) -> dict[str, Any]:
        real = samples_of(data)
        fake = self.generator(self.noise(tf.shape(real)[0]), training=False)
        return self.logged(self.discriminator_loss(real, fake, training=False),
                           self.generator_loss(fake, training=False), mmd(real, fake))

    def noise(self, count: Any) -> tf.Tensor:
        """`count` latent vectors drawn from a standard normal distribution."""
        return keras.random.normal((count, self.latent_dim), seed=self.seed_generator)

    def discriminator_loss(self, real: tf.Tensor, fake: tf.Tensor, *,
                           training: bool) -> tf.Tensor:
        """How badly the discriminator tells real samples (1) from generated ones (0)."""
        count = tf.shape(real)[0]
        both = tf.concat([tf.cast(real, fake.dtype), fake], axis=0)
        labels = tf.concat([tf.ones((count, 1)), tf.zeros((count, 1))], axis=0)
        loss = self.adversarial_loss(labels, self.discriminator(both, training=training))
        return loss + weight_penalties(self.discriminator)

    def generator_loss(self, fake: tf.Tensor, *, training: bool) -> tf.Tensor:
        """How well the discriminator spots generated samples (whose target label is 1)."""
        count = tf.shape(fake)[0]
        loss = self.adversarial_loss(tf.ones((count, 1)),
                                     self.discriminator(fake, training=training))
        return loss + weight_penalties(self.generator)

    def logged(self, d_loss: tf.Tensor, g_loss: tf.Tensor, distance: tf.Tensor
               ) -> dict[str, Any]:
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.mmd_tracker.update_state(distance)
        return {metric.name: metric.result() for metric in self.metrics}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "latent_dim": self.latent_dim,
                "generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> GAN:
        config = dict(config)
        networks = {key: keras.saving.deserialize_keras_object(config.pop(key))
                    for key in ("generator", "discriminator")}
        return cls(**networks, **config)

    def get_compile_config(self) -> dict[str, Any]:
        """The two optimizers and the loss, so that a saved GAN loads compiled."""
        if self.generator_optimizer is None:
            return {}
        serialize = keras.saving.serialize_keras_object
        return {"generator_optimizer": serialize(self.generator_optimizer),
                "discriminator_optimizer": serialize(self.discriminator_optimizer),
                "loss": serialize(self.adversarial_loss)}

    def compile_from_config(self, config: dict[str, Any]) -> None:
        self.compile(**{key: keras.saving.deserialize_keras_object(value)
                        for key, value in config.items()})


def samples_of(data: Any) -> tf.Tensor:
    """The real samples of a batch: ``x``, or the ``x`` of ``(x, y)`` (a GAN needs no labels)."""
    return data[0] if isinstance(data, (tuple, list)) else data


def mmd(real: tf.Tensor, fake: tf.Tensor) -> tf.Tensor:
    """The squared maximum mean discrepancy between two batches of samples (a biased estimate:
    0 only for identical batches), with Gaussian kernels of several widths scaled to the real
    batch's mean squared distance between samples."""
    count = tf.shape(real)[0]
    x = tf.reshape(tf.cast(real, tf.float32), (count, -1))
    y = tf.reshape(tf.cast(fake, tf.float32), (tf.shape(fake)[0], -1))
    xx, yy, xy = _squared_distances(x, x), _squared_distances(y, y), _squared_distances(x, y)
    scale = tf.reduce_mean(xx) + 1e-8
    total = 0.0
    for factor in KERNEL_SCALES:
        width = factor * scale
        total += tf.reduce_mean(tf.exp(-xx / width)) + tf.reduce_mean(tf.exp(-yy / width)) \
            - 2.0 * tf.reduce_mean(tf.exp(-xy / width))
    return total


def _squared_distances(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    norms_a = tf.reduce_sum(tf.square(a), axis=1, keepdims=True)
    norms_b = tf.reduce_sum(tf.square(b), axis=1, keepdims=True)
    return tf.maximum(norms_a + tf.transpose(norms_b) - 2.0 * tf.matmul(a, b, transpose_b=True),
                      0.0)


def gan_model(plan: Plan) -> GAN:
    """The (uncompiled) GAN of a plan; every Keras object in it is new."""
    gan, shape = plan.model.gan, plan.model.input_shape
    generator = keras.Sequential([keras.Input((gan.latent_dim,)),
                                  *(part.make() for part in gan.generator)], name="generator")
    discriminator = keras.Sequential([keras.Input(shape),
                                      *(part.make() for part in gan.discriminator)],
                                     name="discriminator")
    return GAN(generator, discriminator, gan.latent_dim, name=plan.name)


def compile_gan(model: GAN, plan: Plan, *, steps_per_execution: int) -> GAN:
    """Compiles a GAN with the plan's two optimizers and loss (new objects)."""
    gan = plan.model.gan
    optimizers = [gan.generator_optimizer.make(), gan.discriminator_optimizer.make()]
    if plan.runtime.precision == "mixed_float16":
        optimizers = [keras.optimizers.LossScaleOptimizer(o) for o in optimizers]
    model.compile(generator_optimizer=optimizers[0], discriminator_optimizer=optimizers[1],
                  loss=make(gan.loss), steps_per_execution=steps_per_execution)
    return model
