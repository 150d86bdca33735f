"""The model as every export carries it: a float32 twin, called in inference mode.

A run trained under ``precision: mixed_bfloat16`` (the default on CPUs with AMX) or
``mixed_float16`` saves layers that compute in 16 bits. ONNX Runtime has no bfloat16
convolution on CPUs and LiteRT would need TensorFlow's Flex delegate for them, so every export
carries this twin; a mixed-precision model keeps its variables in float32, so the weights carry
over exactly.

The twin is the model saved to a temporary ``.keras`` file whose ``config.json`` names float32
policies, loaded back in safe mode: Keras' own loading restores everything a layer keeps, the
variables and also a lookup layer's vocabulary (an asset, not a weight) and a Normalization
layer's mean and variance (computed from its variables once they are loaded); copying weights
into a model made from the config would leave both behind.

Keras' SavedModel and ONNX exports call the model without ``training=False``, and its random
augmentation layers (RandomTranslation, RandomRotation, ...) default to ``training=True``: the
exported graph would augment every request (and tf2onnx has no kernel for their random ops,
onnx/tensorflow-onnx#2395; keras-team/keras#19108 shows the same). `inference_only` wraps the
model in one whose only node calls it with ``training=False``, which Keras keeps when the
outer call names no mode.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import keras

from dlkit._deploy.trained import takes_dict
from dlkit._model.layers import every_layer
from dlkit._model.saving import load_model

POLICY_CLASS = "DTypePolicy"
CONFIG_FILE = "config.json"  # the model's config inside a .keras archive


def float32_twin(model: keras.Model) -> keras.Model:
    """`model` itself when every layer computes in float32, else a float32 copy of it."""
    if all(layer.dtype_policy.compute_dtype == "float32" for layer in every_layer(model.layers)):
        return model
    with tempfile.TemporaryDirectory(prefix="dlkit-float32-") as folder:
        saved, twin_file = Path(folder) / "model.keras", Path(folder) / "float32.keras"
        model.save(saved)
        with zipfile.ZipFile(saved) as source, zipfile.ZipFile(twin_file, "w") as target:
            for item in source.infolist():
                data = source.read(item.filename)
                if item.filename == CONFIG_FILE:
                    data = json.dumps(_in_float32(json.loads(data))).encode()
                target.writestr(item, data)
        twin = load_model(twin_file, compile=False)
    twin(_zeros(twin), training=False)  # a model that has run once is one Keras exports
    return twin


def inference_only(model: keras.Model, names: list[str]) -> keras.Model:
    """`model` wrapped so that calling it without a mode runs it in inference mode; its inputs
    keep their dtypes and structure and are named `names` (in ``model.inputs`` order: a model
    loaded again in a session may carry ``input_layer_1`` where the run's had ``input_layer``),
    its outputs keep theirs."""
    named = {id(tensor): name for tensor, name in zip(model.inputs, names)}

    def twin_input(tensor: Any) -> Any:
        return keras.Input(tensor.shape[1:], dtype=tensor.dtype, name=named[id(tensor)])
    if isinstance(model, keras.Sequential) or not takes_dict(model) and len(model.inputs) == 1:
        inputs: Any = twin_input(model.inputs[0])
    else:
        inputs = keras.tree.map_structure(twin_input, model.input)
    return keras.Model(inputs, model(inputs, training=False), name=model.name)


def compute_dtype(model: keras.Model) -> str:
    """The policy the model's layers compute in: ``float32``, or the mixed one they use."""
    names = {layer.dtype_policy.name for layer in every_layer(model.layers)} - {"float32"}
    return names.pop() if len(names) == 1 else ("float32" if not names else "mixed")


def _zeros(model: keras.Model) -> Any:
    """One sample of zeros (empty strings for a string input) per input, by name where the
    model takes its inputs by name."""
    import tensorflow as tf

    def zeros(tensor: Any) -> Any:
        shape = (1, *(d or 1 for d in tensor.shape[1:]))
        return tf.fill(shape, "") if tensor.dtype == "string" else tf.zeros(shape, tensor.dtype)
    if len(model.inputs) == 1 and not takes_dict(model):
        return zeros(model.inputs[0])
    return {tensor.name.split(":")[0]: zeros(tensor) for tensor in model.inputs}


def _in_float32(config: Any) -> Any:
    """A serialized model with every dtype policy set to float32."""
    if isinstance(config, dict):
        if config.get("class_name") == POLICY_CLASS and isinstance(config.get("config"), dict):
            return {**config, "config": {**config["config"], "name": "float32"}}
        return {key: _in_float32(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_in_float32(value) for value in config]
    return config
