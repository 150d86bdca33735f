"""What a format cannot carry, found in the model before any converter runs.

Converters that meet these layers either fail with pages of trace or, worse, "succeed":
tf2onnx converts a TextVectorization model that then predicts garbage
(onnx/tensorflow-onnx#1886), and LiteRT's built-in ops have no string operations (they would need
TensorFlow's Flex delegate, which the LiteRT runtime does not ship). So dlkit refuses them by
layer class, naming the layer, the format and the way out.
"""

from __future__ import annotations

import keras

from dlkit._core.errors import ExportError

STRING_LAYERS = ("TextVectorization", "StringLookup", "Hashing")
WAY_OUT = {
    "onnx": "export format saved_model instead (TensorFlow Serving runs it), or keep the text "
            "preprocessing outside the model and export the rest",
    "litert": "export format saved_model instead, or keep the text preprocessing outside the "
              "model (turn strings into token ids in the app) and export the rest",
}
CANNOT_CARRY = {"onnx": STRING_LAYERS, "litert": STRING_LAYERS, "saved_model": ()}


def check_carried(model: keras.Model, fmt: str) -> None:
    """Raises `ExportError` naming every layer of `model` that `fmt` cannot carry."""
    refused = [(path, layer) for path, layer in _layers(model, model.name)
               if type(layer).__name__ in CANNOT_CARRY[fmt]]
    strings = [t.name for t in model.inputs if str(t.dtype) == "string"]
    if not refused and not strings:
        return
    named = ", ".join(f"{path} ({type(layer).__name__})" for path, layer in refused) or \
        f"string input(s) {', '.join(strings)}"
    raise ExportError(f"format {fmt} cannot carry {named}: string preprocessing does not "
                      f"convert to {fmt} (onnx/tensorflow-onnx#1886: it converts and then "
                      f"predicts garbage). Way out: {WAY_OUT[fmt]}. Nothing was written")


def _layers(model: keras.Model, prefix: str) -> list[tuple[str, keras.layers.Layer]]:
    """Every layer, nested models' layers included, with its path like ``model/base/conv1``."""
    found = []
    for layer in model.layers:
        path = f"{prefix}/{layer.name}"
        found.append((path, layer))
        if isinstance(layer, keras.Model):
            found.extend(_layers(layer, path))
    return found
