"""Stage 3: a validated spec becomes a compiled, built `keras.Model`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import keras

from dlkit._errors import SpecError
from dlkit._resolve import ModelParts, model_parts
from dlkit._schema import Problems
from dlkit._shapes import locate_shape_error
from dlkit._spec import Spec, load_spec

MIXED_PRECISIONS = ("mixed_bfloat16", "mixed_float16")


def build(spec: Spec | Mapping[str, Any] | str | os.PathLike[str]) -> keras.Model:
    """Builds and compiles the model a spec describes.

    The result is a plain `keras.Sequential`: the same layers, configs, optimizer and loss as
    the network written by hand in Keras, so it trains, saves and serves like one.

    Args:
        spec: a `Spec`, or anything `dlkit.load_spec` takes.

    Returns:
        A compiled and built `keras.Model`.

    Raises:
        SpecError: the spec is invalid, or its layers do not fit together (shapes), with the
            path of the first layer that cannot take its input.

    Example:
        >>> model = dlkit.build("examples/digits_mlp.yaml")
        >>> model.fit(x, y, epochs=5, callbacks=dlkit.callbacks(spec))
    """
    data = load_spec(spec).to_dict()
    parts = _resolve(data)
    model = _assemble(data, parts.layers)
    optimizer = parts.optimizer
    if data["runtime"]["precision"] == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(optimizer=optimizer, loss=parts.loss, metrics=parts.metrics)
    return model


def _resolve(data: dict) -> ModelParts:
    problems = Problems()
    parts = model_parts(_with_precision(data), problems)
    if problems.items:  # e.g. a registered layer was unregistered since validation
        raise SpecError(problems.items)
    return parts


def _with_precision(data: dict) -> dict:
    """Gives every layer but the output layer the spec's mixed dtype policy, if any.

    The output layer stays float32, so that losses and softmax are computed in full precision.
    """
    precision = data["runtime"]["precision"]
    if precision not in MIXED_PRECISIONS:
        return data
    layers = [dict(layer) for layer in data["model"]["layers"]]
    for layer in layers[:-1]:
        layer.setdefault("dtype", precision)
    return {**data, "model": {**data["model"], "layers": layers}}


def _assemble(data: dict, layers: list) -> keras.Model:
    shape = tuple(data["model"]["input_shape"])
    try:
        return keras.Sequential([keras.Input(shape=shape), *layers], name=data["name"])
    except Exception as exc:  # noqa: BLE001 - located and reported with the layer's path below
        raise SpecError(locate_shape_error(data, shape, exc)) from None
