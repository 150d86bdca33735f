"""A model's float32 twin: the analyses measure losses in full precision, whatever the run used.

A run trained under ``mixed_bfloat16`` (``precision: auto`` on CPUs with AMX, and on TPUs) or
``mixed_float16`` computes in 8- or 11-bit mantissas: about 3 significant digits, too coarse for
a loss surface's fine structure and far too coarse for epsilon-sharpness, whose box moves every
weight by 0.1%. The twin has the same layers, weights and compiled loss, with every mixed layer
computing in float32 (the variables are float32 under every policy, so nothing is rounded).
"""

from __future__ import annotations

import keras

from dlkit._model.layers import every_layer

MIXED = ("mixed_bfloat16", "mixed_float16")


def is_mixed(model: keras.Model) -> bool:
    """Whether any layer of ``model`` (nested models included) computes in a mixed policy."""
    return any(_policy(layer) in MIXED for layer in every_layer(model.layers))


def float32_twin(model: keras.Model) -> keras.Model:
    """``model`` itself when it computes in float32, else a compiled float32 copy.

    Args:
        model: a compiled, built Sequential or functional model.

    Returns:
        A model with the same architecture, weights and compiled loss whose layers compute in
        float32; the optimizer is a new one of the same configuration (never used here).
    """
    if not is_mixed(model):
        return model

    def in_float32(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        if _policy(layer) in MIXED:
            config["dtype"] = "float32"
        return type(layer).from_config(config)

    twin = keras.models.clone_model(model, clone_function=in_float32, recursive=True)
    twin.set_weights(model.get_weights())
    twin.compile_from_config(model.get_compile_config())
    return twin


def _policy(layer: keras.layers.Layer) -> str:
    return str(getattr(getattr(layer, "dtype_policy", None), "name", ""))
