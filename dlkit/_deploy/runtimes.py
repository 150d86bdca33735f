"""An export loaded in its own runtime, called like the model: inputs by name, outputs in the
model's order.

- SavedModel: `tf.saved_model.load` and its ``serving_default`` signature (what TensorFlow
  Serving calls);
- ONNX: an ONNX Runtime `InferenceSession` on the CPU;
- LiteRT: the LiteRT interpreter (``ai_edge_litert``) and its ``serving_default`` signature.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dlkit._deploy.extras import require

Inputs = dict[str, np.ndarray]
Runner = Callable[[Inputs], list[np.ndarray]]
Raw = Callable[[Inputs], dict | list]
SIGNATURE = "serving_default"
RUNTIMES = {"saved_model": "TensorFlow (tf.saved_model.load)", "onnx": "ONNX Runtime",
            "litert": "the LiteRT interpreter"}


def load_runner(fmt: str, path: Path, input_names: list[str],
                output_names: list[str]) -> Runner:
    """The export at `path` in its runtime, as ``runner({name: array}) -> [outputs]``."""
    loaders = {"saved_model": _saved_model, "onnx": _onnx, "litert": _litert}
    run = loaders[fmt](path, input_names)
    return lambda inputs: _in_order(run(inputs), output_names)


def _in_order(outputs: dict | list, names: list[str]) -> list[np.ndarray]:
    """The outputs in the model's order: by name where the export kept the model's names (a
    dict of outputs), else ``output_0``, ``output_1``, ... by number."""
    if isinstance(outputs, list):
        return [np.asarray(o) for o in outputs]
    if set(outputs) == set(names):
        return [np.asarray(outputs[name]) for name in names]

    def index(name: str) -> int:
        found = re.search(r"(\d+)$", name)
        return int(found.group(1)) if found else 0
    return [np.asarray(outputs[name]) for name in sorted(outputs, key=index)]


def _matched(model_names: list[str], runtime_names: list[str]) -> dict[str, str]:
    """The runtime's name of each model input: the same name where the export kept it (Keras
    names the inputs after the model's), else by position."""
    if set(model_names) <= set(runtime_names):
        return {name: name for name in model_names}
    return dict(zip(model_names, runtime_names))


def _saved_model(path: Path, input_names: list[str]) -> Raw:
    import tensorflow as tf

    signature = tf.saved_model.load(str(path)).signatures[SIGNATURE]
    _, wanted = signature.structured_input_signature
    names = _matched(input_names, sorted(wanted))

    def run(inputs: Inputs) -> dict | list:
        tensors = {names[k]: tf.constant(v) for k, v in inputs.items()}
        return {k: v.numpy() for k, v in signature(**tensors).items()}
    return run


def _onnx(path: Path, input_names: list[str]) -> Raw:
    ort = require("onnxruntime", "export", purpose="checking an ONNX export")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = _matched(input_names, [i.name for i in session.get_inputs()])

    def run(inputs: Inputs) -> dict | list:
        return [np.asarray(o) for o in session.run(None, {names[k]: v for k, v in inputs.items()})]
    return run


def _litert(path: Path, input_names: list[str]) -> Raw:
    interpreter = require("ai_edge_litert.interpreter", "export",
                          purpose="checking a LiteRT export").Interpreter(model_path=str(path))
    runner = interpreter.get_signature_runner(SIGNATURE)
    names = _matched(input_names, sorted(runner.get_input_details()))

    def run(inputs: Inputs) -> dict | list:
        return runner(**{names[k]: v for k, v in inputs.items()})
    return run
