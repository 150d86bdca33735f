"""The float32 twin of a model: same layers and weights, every layer computing in float32.

A run trained under ``precision: mixed_bfloat16`` (the default on CPUs with AMX) or
``mixed_float16`` saves layers that compute in 16 bits. ONNX Runtime has no bfloat16
convolution on CPUs and LiteRT would need TensorFlow's Flex delegate for them, so every export
carries this twin; a mixed-precision model keeps its variables in float32, so the weights carry
over exactly.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

POLICY_CLASS = "DTypePolicy"


def float32_twin(model: keras.Model) -> keras.Model:
    """`model` itself when every layer computes in float32, else a float32 copy of it."""
    if all(layer.dtype_policy.compute_dtype == "float32" for layer in _all_layers(model)):
        return model
    config = _in_float32(keras.saving.serialize_keras_object(model))
    twin = keras.saving.deserialize_keras_object(config, safe_mode=True)
    twin.set_weights(model.get_weights())
    twin(_zeros(twin), training=False)  # a model that has run once is one Keras exports
    return twin


def compute_dtype(model: keras.Model) -> str:
    """The policy the model's layers compute in: ``float32``, or the mixed one they use."""
    names = {layer.dtype_policy.name for layer in _all_layers(model)} - {"float32"}
    return names.pop() if len(names) == 1 else ("float32" if not names else "mixed")


def _zeros(model: keras.Model) -> Any:
    """One sample of zeros per input (a dict of them for several inputs)."""
    def zeros(tensor: Any) -> np.ndarray:
        return np.zeros((1, *(d or 1 for d in tensor.shape[1:])), dtype=tensor.dtype)
    if len(model.inputs) == 1:
        return zeros(model.inputs[0])
    return {tensor.name.split(":")[0]: zeros(tensor) for tensor in model.inputs}


def _all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    found = []
    for layer in model.layers:
        found.append(layer)
        if isinstance(layer, keras.Model):
            found.extend(_all_layers(layer))
    return found


def _in_float32(config: Any) -> Any:
    """A serialized model with every dtype policy set to float32."""
    if isinstance(config, dict):
        if config.get("class_name") == POLICY_CLASS and isinstance(config.get("config"), dict):
            return {**config, "config": {**config["config"], "name": "float32"}}
        return {key: _in_float32(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_in_float32(value) for value in config]
    return config
