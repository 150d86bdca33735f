"""`VAE`: a variational autoencoder (Kingma and Welling 2014), trained the way the Keras VAE
example trains one: a `keras.Model` subclass overriding ``train_step``.

The encoder gives each sample a Gaussian over codes (``z_mean``, ``z_log_var``, dense layers of
``latent_dim`` units after the spec's encoder stack); a code drawn from it (the
reparameterization trick) is decoded. The loss is the negative evidence lower bound, logged in
its two parts: ``reconstruction_loss`` (the compiled loss summed over a sample's values, the
ELBO's form, averaged over the batch) and ``kl_loss`` (the KL divergence of the code's Gaussian
from a standard normal, summed over the latent dimensions), and their sum ``loss`` (with any
weight penalties). Calling the model decodes the mean code: ``model(x)`` is the deterministic
reconstruction that anomaly scores use. Registered as ``dlkit>VAE``, so it loads in safe mode.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from dlkit._model.penalties import weight_penalties
from dlkit._plan.plan import Plan


@keras.saving.register_keras_serializable(package="dlkit")
class VAE(keras.Model):
    """An encoder to a Gaussian over codes, and a decoder from a code.

    Args:
        encoder: a model from a sample to ``[z_mean, z_log_var]``.
        decoder: a model from a code to a sample.
        noise: a layer put on the input in training only (a denoising VAE), or None.
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model,
                 noise: keras.layers.Layer | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.noise = encoder, decoder, noise
        self.seed_generator = keras.random.SeedGenerator()
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.built = True  # both networks are built

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, inputs: Any, training: bool = False) -> Any:
        """The reconstruction from the mean code."""
        z_mean, _ = self.encoder(inputs, training=training)
        return self.decoder(z_mean, training=training)

    def train_step(self, data: Any) -> dict[str, Any]:
        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            reconstruction, divergence = self.elbo_terms(x, training=True)
            loss = reconstruction + divergence + weight_penalties(self)
            scaled = self.optimizer.scale_loss(loss)
        weights = self.trainable_weights
        self.optimizer.apply(tape.gradient(scaled, weights), weights)
        return self.logged(loss, reconstruction, divergence)

    def test_step(self, data: Any) -> dict[str, Any]:
        x = data[0] if isinstance(data, (tuple, list)) else data
        reconstruction, divergence = self.elbo_terms(x, training=False)
        return self.logged(reconstruction + divergence + weight_penalties(self), reconstruction,
                           divergence)

    def elbo_terms(self, x: tf.Tensor, *, training: bool) -> tuple[tf.Tensor, tf.Tensor]:
        """The batch's mean reconstruction loss and KL divergence."""
        x = tf.cast(x, tf.float32)
        noisy = self.noise(x, training=training) if self.noise is not None else x
        z_mean, z_log_var = (tf.cast(t, tf.float32) for t in self.encoder(noisy,
                                                                         training=training))
        epsilon = keras.random.normal(tf.shape(z_mean), seed=self.seed_generator)
        z = z_mean + tf.exp(0.5 * z_log_var) * epsilon
        rebuilt = tf.cast(self.decoder(z, training=training), tf.float32)
        loss = keras.losses.get(self.loss)
        values = loss.call(x, rebuilt) if isinstance(loss, keras.losses.Loss) else loss(x, rebuilt)
        count = tf.shape(x)[0]
        # Each value of `values` is a mean over the last axis: summed over a sample's values.
        per_sample = tf.reduce_sum(tf.reshape(values, (count, -1)), axis=1) * \
            tf.cast(tf.shape(x)[-1], tf.float32)
        divergence = -0.5 * tf.reduce_sum(1.0 + z_log_var - tf.square(z_mean) -
                                          tf.exp(z_log_var), axis=1)
        return tf.reduce_mean(per_sample), tf.reduce_mean(divergence)

    def logged(self, loss: tf.Tensor, reconstruction: tf.Tensor,
               divergence: tf.Tensor) -> dict[str, Any]:
        for tracker, value in zip(self.metrics, (loss, reconstruction, divergence)):
            tracker.update_state(value)
        return {metric.name: metric.result() for metric in self.metrics}

    def get_config(self) -> dict[str, Any]:
        serialize = keras.saving.serialize_keras_object
        return {**super().get_config(), "encoder": serialize(self.encoder),
                "decoder": serialize(self.decoder),
                "noise": None if self.noise is None else serialize(self.noise)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> VAE:
        config = dict(config)
        parts = {key: keras.saving.deserialize_keras_object(config.pop(key))
                 for key in ("encoder", "decoder")}
        noise = config.pop("noise", None)
        return cls(**parts, noise=None if noise is None else
                   keras.saving.deserialize_keras_object(noise), **config)


def vae_model(plan: Plan) -> VAE:
    """The (uncompiled) VAE of a plan; every Keras object in it is new."""
    shape, vae = plan.model.input_shape, plan.model.autoencoder
    noise = vae.noise.make() if vae.noise is not None else None
    inputs = keras.Input(shape)
    features = inputs
    for part in vae.encoder:
        features = part.make()(features)
    encoder = keras.Model(inputs, [head.make()(features) for head in vae.heads],
                          name="encoder")
    decoder = keras.Sequential([keras.Input((vae.latent_dim,)),
                                *(part.make() for part in vae.decoder)], name="decoder")
    return VAE(encoder, decoder, noise=noise, name=plan.name)
