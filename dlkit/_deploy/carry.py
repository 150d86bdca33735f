"""What a format cannot carry, found in the model before any converter runs.

Converters that meet these layers either fail with pages of trace or, worse, "succeed":

- string preprocessing (TextVectorization, StringLookup, Hashing, or any string input): tf2onnx
  converts a TextVectorization model that then predicts garbage (onnx/tensorflow-onnx#1886),
  and LiteRT's built-in ops have no string operations (they would need TensorFlow's Flex
  delegate, which the LiteRT runtime does not ship);
- ``Normalization`` in ONNX: Keras 3.15.1 with tf2onnx 1.17.0 writes its mean and variance as
  extra inputs of the ONNX graph (``.../Sub/y:0``, ``.../Sqrt/x:0``), which ONNX Runtime then
  demands on every call; adapted or given as arguments alike (measured here). A table's
  encoding normalizes every numeric column, so a table run never goes to ONNX.

dlkit's own ``dlkit>FillMissing`` (missing numbers to the training mean) is plain tensor math
(``isnan``, ``where``) and converts to every format: checked in tests/test_export.py.
"""

from __future__ import annotations

import keras

from dlkit._core.errors import ExportError

STRINGS, NORMALIZATION = "strings", "normalization"
REASONS = {
    ("onnx", STRINGS): "string preprocessing does not convert to onnx (onnx/tensorflow-onnx#1886: "
                       "it converts and then predicts garbage)",
    ("litert", STRINGS): "string preprocessing does not convert to litert (its built-in ops "
                         "have no string operations)",
    ("onnx", NORMALIZATION): "tf2onnx writes a Normalization layer's mean and variance as extra "
                             "inputs of the ONNX model, which then cannot run",
}
WAY_OUT = {
    ("onnx", STRINGS): "export format saved_model instead (TensorFlow Serving runs it), or "
                       "keep the text preprocessing outside the model and export the rest",
    ("litert", STRINGS): "export format saved_model instead, or keep the text preprocessing "
                         "outside the model (turn strings into token ids in the app) and "
                         "export the rest",
    ("onnx", NORMALIZATION): "export format saved_model or litert instead (both carry it), or "
                             "normalize the inputs outside the model",
}
STRING_LAYERS = ("TextVectorization", "StringLookup", "Hashing")
CANNOT_CARRY = {
    "onnx": {**dict.fromkeys(STRING_LAYERS, STRINGS), "Normalization": NORMALIZATION},
    "litert": dict.fromkeys(STRING_LAYERS, STRINGS),
    "saved_model": {},
}


def check_carried(model: keras.Model, fmt: str) -> None:
    """Raises `ExportError` naming every layer (and string input) of `model` that `fmt`
    cannot carry, why, and the way out."""
    refused: dict[str, list[str]] = {}
    for path, layer in _layers(model, model.name):
        kind = CANNOT_CARRY[fmt].get(type(layer).__name__)
        if kind:
            refused.setdefault(kind, []).append(f"{path} ({type(layer).__name__})")
    strings = [t.name.split(":")[0] for t in model.inputs if str(t.dtype) == "string"]
    if strings and STRINGS not in refused and (fmt, STRINGS) in REASONS:
        refused[STRINGS] = [f"string input(s) {', '.join(strings)}"]
    if not refused:
        return
    parts = [f"{', '.join(names)}: {REASONS[fmt, kind]}. Way out: "
             f"{WAY_OUT[fmt, kind]}" for kind, names in refused.items()]
    raise ExportError(f"format {fmt} cannot carry " + "; and ".join(parts) +
                      ". Nothing was written")


def _layers(model: keras.Model, prefix: str) -> list[tuple[str, keras.layers.Layer]]:
    """Every layer, nested models' layers included, with its path like ``model/base/conv1``."""
    found = []
    for layer in model.layers:
        path = f"{prefix}/{layer.name}"
        found.append((path, layer))
        if isinstance(layer, keras.Model):
            found.extend(_layers(layer, path))
    return found
