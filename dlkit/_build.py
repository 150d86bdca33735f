"""Stage 3: a validated spec becomes a compiled, built `keras.Model`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import keras
import tensorflow as tf

from dlkit._errors import Problem, SpecError
from dlkit._resolve import ModelParts, model_parts
from dlkit._runtime import auto_steps_per_execution, resolve_precision
from dlkit._schema import Problems
from dlkit._shapes import locate_shape_error
from dlkit._spec import Spec, load_spec

MIXED_PRECISIONS = ("mixed_bfloat16", "mixed_float16")
MIRRORED_STRATEGIES = (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy)


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
    runtime = data["runtime"]
    precision = resolve_precision(runtime["precision"], runtime["strategy"])
    parts = _resolve(_with_precision(data, precision))
    model = _assemble(data, parts.layers)
    optimizer = parts.optimizer
    if precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    steps = _steps_per_execution(runtime["steps_per_execution"], model, data)
    model.compile(optimizer=optimizer, loss=parts.loss, metrics=parts.metrics,
                  steps_per_execution=steps)
    return model


def _steps_per_execution(steps: int | str, model: keras.Model, data: dict) -> int:
    """Several batches per call, except under mirrored strategies, where Keras' loop over
    several steps fails (keras-team/keras#19246: a merge_call inside its tf.cond)."""
    mirrored = isinstance(tf.distribute.get_strategy(), MIRRORED_STRATEGIES)
    if steps == "auto":
        return 1 if mirrored else auto_steps_per_execution(model, data["train"]["batch_size"])
    if mirrored and steps > 1:
        raise SpecError(Problem("runtime.steps_per_execution", f"{steps} batches per call do "
                                "not work under a mirrored strategy in this Keras "
                                f"({keras.__version__}; keras-team/keras#19246); use auto or 1"))
    return steps


def _resolve(data: dict) -> ModelParts:
    problems = Problems()
    parts = model_parts(data, problems)
    if problems.items:  # e.g. a registered layer was unregistered since validation
        raise SpecError(problems.items)
    return parts


def _with_precision(data: dict, precision: str) -> dict:
    """Gives every layer but the output layer the mixed dtype policy `precision`, if any.

    The output layer stays float32, so that losses and softmax are computed in full precision.
    """
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
