"""An autoencoder as a plain functional `keras.Model`: an ``encoder`` and a ``decoder`` (each a
`keras.Sequential` of the spec's layers, saved on their own as ``encoder.keras`` and
``decoder.keras``), with an optional noise layer in front that acts in training only (a
denoising autoencoder: noisy input, clean target). It trains on ``(x, x)``.
"""

from __future__ import annotations

import keras

from dlkit._plan.plan import Plan


def autoencoder_model(plan: Plan) -> keras.Model:
    """The (uncompiled) autoencoder of a plan; every Keras object in it is new, made in the
    order a hand-written script makes them."""
    shape, autoencoder = plan.model.input_shape, plan.model.autoencoder
    inputs = keras.Input(shape)
    noisy = autoencoder.noise.make()(inputs) if autoencoder.noise is not None else inputs
    encoder = keras.Sequential([keras.Input(shape),
                                *(part.make() for part in autoencoder.encoder)], name="encoder")
    decoder = keras.Sequential([keras.Input(autoencoder.code_shape),
                                *(part.make() for part in autoencoder.decoder)], name="decoder")
    return keras.Model(inputs, decoder(encoder(noisy)), name=plan.name)
