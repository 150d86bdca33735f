"""TensorFlow Serving's REST predict format: request bodies checked, responses made.

A request is ``{"instances": [...]}`` (the row format: one item per sample, a dict of named
inputs per sample for several inputs) or ``{"inputs": ...}`` (the columnar format: one tensor,
or a dict of tensors by input name), optionally with ``"signature_name": "serving_default"``.
Answers are ``{"predictions": [...]}`` and ``{"outputs": ...}`` respectively. Inputs are named
as the exported SavedModel names them (`dlkit._deploy.trained.serving_name`: a table column
``class`` is ``class_``), so one client works here and against TensorFlow Serving. An input of
one value per sample takes a bare value per instance (``{"age": 8, "sex": "female"}``); a
missing number is ``NaN``, a missing category ``""``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlkit._deploy.trained import ModelInput

SIGNATURE = "serving_default"


class BadRequest(Exception):
    """A request the server refuses, with its HTTP status and what is wrong."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Request:
    """A checked request: arrays by input name, and which format to answer in."""

    inputs: dict[str, np.ndarray]
    row_format: bool

    @property
    def count(self) -> int:
        return len(next(iter(self.inputs.values())))


def parse(body: bytes, inputs: list[ModelInput]) -> Request:
    """Checks a request body against the model's inputs.

    Raises:
        BadRequest: malformed JSON, neither or both of instances and inputs, a missing or
            unknown input name, a value of the wrong type or shape.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object with \"instances\" or \"inputs\"")
    unknown = sorted(set(data) - {"instances", "inputs", "signature_name"})
    if unknown or ("instances" in data) == ("inputs" in data):
        raise BadRequest("give exactly one of \"instances\" (a list, one item per sample) or "
                         "\"inputs\" (columnar), and optionally \"signature_name\"" +
                         (f"; unknown key(s): {', '.join(unknown)}" if unknown else ""))
    if data.get("signature_name", SIGNATURE) != SIGNATURE:
        raise BadRequest(f"unknown signature_name {data['signature_name']!r}; this model has "
                         f"{SIGNATURE!r}")
    if "instances" in data:
        return Request(_rows(data["instances"], inputs), row_format=True)
    return Request(_columns(data["inputs"], inputs), row_format=False)


def _rows(instances: Any, inputs: list[ModelInput]) -> dict[str, np.ndarray]:
    if not isinstance(instances, list) or not instances:
        raise BadRequest("\"instances\" must be a non-empty list, one item per sample")
    named = all(isinstance(item, dict) for item in instances)
    if len(inputs) > 1 and not named:
        raise BadRequest(f"the model takes several inputs ({_names(inputs)}): give each instance "
                         "as an object of them")
    if not named:
        return {inputs[0].name: _array(instances, inputs[0], "instances")}
    for index, item in enumerate(instances):
        _check_names(item, inputs, f"instances[{index}]")
    return {i.name: _array([item[i.serving] for item in instances], i,
                           f"instances[*].{i.serving}") for i in inputs}


def _columns(value: Any, inputs: list[ModelInput]) -> dict[str, np.ndarray]:
    if isinstance(value, dict):
        _check_names(value, inputs, "inputs")
        arrays = {i.name: _array(value[i.serving], i, f"inputs.{i.serving}") for i in inputs}
    elif len(inputs) > 1:
        raise BadRequest(f"the model takes several inputs ({_names(inputs)}): give \"inputs\" "
                         "as an object of them")
    else:
        arrays = {inputs[0].name: _array(value, inputs[0], "inputs")}
    counts = {name: len(a) for name, a in arrays.items()}
    if len(set(counts.values())) > 1:
        raise BadRequest(f"the inputs have different sample counts: {counts}")
    return arrays


def _check_names(item: dict, inputs: list[ModelInput], where: str) -> None:
    missing = [i.serving for i in inputs if i.serving not in item]
    extra = sorted(set(item) - {i.serving for i in inputs})
    if missing or extra:
        raise BadRequest(f"{where}: " + "; ".join(
            ([f"missing input(s) {', '.join(missing)}"] if missing else []) +
            ([f"unknown input(s) {', '.join(extra)}"] if extra else [])) +
            f"; the model takes {_names(inputs)}")


def _array(value: Any, model_input: ModelInput, where: str) -> np.ndarray:
    """`value` as a batch for `model_input`, of exactly its sample shape and dtype."""
    want = [d for d in model_input.shape]
    try:
        array = np.asarray(value, dtype=object if model_input.dtype == "string" else None)
    except ValueError:
        raise BadRequest(f"{where}: the samples are not all of one shape; input "
                         f"{model_input.serving} takes samples of shape {want}") from None
    if array.ndim == 0 or (model_input.dtype != "string" and array.dtype.kind not in "biuf"):
        kind = "a list of samples" if array.ndim == 0 else f"numbers, received {_kind(array)}"
        raise BadRequest(f"{where}: input {model_input.serving} takes {kind} "
                         f"(samples of shape {want})")
    if model_input.dtype == "string" and not all(isinstance(v, str) for v in array.flat):
        raise BadRequest(f"{where}: input {model_input.serving} takes strings (a missing value is "
                         "\"\")")
    if want == [1] and array.ndim == 1:
        array = array[:, None]  # one value per sample for an input of shape [1]
    got = list(array.shape[1:])
    if len(got) != len(want) or any(w is not None and w != g for w, g in zip(want, got)):
        raise BadRequest(f"{where}: input {model_input.serving} takes samples of shape {want}; "
                         f"received {got}")
    return array.astype(model_input.dtype if model_input.dtype != "string" else str)


def _kind(array: np.ndarray) -> str:
    return {"U": "strings", "S": "strings", "b": "booleans",
            "O": "mixed or null values (a missing number is NaN)"}.get(
        array.dtype.kind, str(array.dtype))


def _names(inputs: list[ModelInput]) -> str:
    return ", ".join(i.serving for i in inputs)


def response(request: Request, outputs: list[np.ndarray], names: list[str]) -> dict:
    """The answer, in the request's format (one output: bare values; several: by name)."""
    if not request.row_format:
        if len(outputs) == 1:
            return {"outputs": outputs[0].tolist()}
        return {"outputs": {n: o.tolist() for n, o in zip(names, outputs)}}
    if len(outputs) == 1:
        return {"predictions": outputs[0].tolist()}
    return {"predictions": [{n: o[i].tolist() for n, o in zip(names, outputs)}
                            for i in range(request.count)]}
