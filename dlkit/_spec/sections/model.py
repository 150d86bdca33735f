"""The ``model`` section: a stack (``input_shape`` + ``layers``) or a graph (``inputs`` +
``graph`` + ``outputs``, see `dlkit._spec.sections.graph`), or another ``kind`` of model
(autoencoder, vae, gan: `dlkit._spec.sections.kinds`), and a default penalty."""

from __future__ import annotations

from dlkit._core.errors import Problems
from dlkit._spec.rules import check_keys, check_layer, check_shape, key_path, mapping_or_none
from dlkit._spec.sections.base import check_base
from dlkit._spec.sections.graph import GRAPH_KEYS, check_graph_model
from dlkit._spec.sections.kinds import check_kind, check_kind_model, model_kind

STACK_KEYS = ("input_shape", "layers")
MODEL_KEYS = ("kind", *STACK_KEYS, *GRAPH_KEYS, "base", "regularization")


def is_graph_model(model: object) -> bool:
    """Whether a model section describes a graph (named inputs, nodes and outputs)."""
    return isinstance(model, dict) and any(key in model for key in GRAPH_KEYS)


def check_model(value: object, problems: Problems) -> object:
    if value is None:
        problems.add("model", "missing: a spec needs a model section with input_shape and "
                     "layers (or inputs, graph and outputs)")
        return None
    model = mapping_or_none(value, "model", problems)
    if model is None:
        return value
    if not check_kind(model, problems):
        return model
    regularization = _regularization(model.get("regularization"), problems)
    if model_kind(model) not in ("sequential", None):
        return {**check_kind_model({k: v for k, v in model.items() if k != "regularization"},
                                   problems), "regularization": regularization}
    check_keys(model, MODEL_KEYS, "model", problems)
    if is_graph_model(model):
        for key in STACK_KEYS:
            if key in model:
                problems.add(f"model.{key}", "a model is a stack (input_shape and layers) or a "
                             "graph (inputs, graph and outputs), not both; a graph names its "
                             "input shapes in model.inputs")
        return {**check_graph_model(model, problems), **_base(model, problems),
                "regularization": regularization}
    check_shape(model.get("input_shape"), "model.input_shape", problems)
    layers = model.get("layers")
    if not isinstance(layers, list) or not layers:
        problems.add("model.layers", f"expected a non-empty list of layers, received {layers!r}")
    else:
        for index, layer in enumerate(layers):
            check_layer(layer, key_path("model.layers", index), problems)
    return {"input_shape": model.get("input_shape"), **_base(model, problems), "layers": layers,
            "regularization": regularization}


def _base(model: dict, problems: Problems) -> dict:
    """``{"base": ...}`` checked, when the model has a base (`dlkit._spec.sections.base`)."""
    if "base" not in model:
        return {}
    inputs = model.get("inputs")
    names = [str(n) for n in inputs] if isinstance(inputs, dict) else []
    return {"base": check_base(model["base"], names if is_graph_model(model) else None,
                               problems)}


def _regularization(value: object, problems: Problems) -> object:
    if value is not None and mapping_or_none(value, "model.regularization",
                                             problems) is not None:
        if "type" not in value:
            check_keys(value, ("l1", "l2"), "model.regularization", problems)
            if not value:
                problems.add("model.regularization", "give a strength, like {l2: 1.0e-4}")
    return value
