"""The ``model`` section: the input shape and the layers."""

from __future__ import annotations

from dlkit._core.errors import Problems
from dlkit._spec.rules import (
    check_component,
    check_keys,
    is_int,
    key_path,
    mapping_or_none,
)

MODEL_KEYS = ("input_shape", "layers", "regularization")


def check_model(value: object, problems: Problems) -> object:
    if value is None:
        problems.add("model", "missing: a spec needs a model section with input_shape and layers")
        return None
    model = mapping_or_none(value, "model", problems)
    if model is None:
        return value
    check_keys(model, MODEL_KEYS, "model", problems)
    shape = model.get("input_shape")
    if not (isinstance(shape, list) and shape
            and all(d is None or (is_int(d) and 0 < d <= 10**7) for d in shape)):
        problems.add("model.input_shape", "expected a non-empty list of positive integers (null "
                     f"for a dimension of any size), like [8, 8, 1]; received {shape!r}")
    layers = model.get("layers")
    if not isinstance(layers, list) or not layers:
        problems.add("model.layers", f"expected a non-empty list of layers, received {layers!r}")
    else:
        for index, layer in enumerate(layers):
            path = key_path("model.layers", index)
            if isinstance(layer, str):
                problems.add(path, f"a layer is a mapping like {{type: {layer}, ...}}, received "
                             f"the string {layer!r}")
            elif mapping_or_none(layer, path, problems) is not None:
                check_component(layer, path, problems, what="layer")
    regularization = model.get("regularization")
    if regularization is not None and mapping_or_none(
            regularization, "model.regularization", problems) is not None:
        if "type" not in regularization:
            check_keys(regularization, ("l1", "l2"), "model.regularization", problems)
            if not regularization:
                problems.add("model.regularization", "give a strength, like {l2: 1.0e-4}")
    return {"input_shape": shape, "layers": layers, "regularization": regularization}
