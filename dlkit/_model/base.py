"""Stage 5 for transfer learning: the base made with its weights, the head put on it, and which
of the base's layers train.

The model is a plain functional `keras.Model`: ``input -> [the application's preprocessing]
-> base (a nested model named "base") -> head``. Freezing follows the Keras guide, with its
Keras 3 correction (keras-team/keras#20285): `fit` calls every layer with ``training=True``,
so a frozen base is frozen by ``trainable = False``, and its BatchNormalization layers keep
``trainable = False`` in every phase: they run in inference mode, their moving statistics never
change, even when the layers around them are unfrozen for fine-tuning.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras

from dlkit._core.errors import Problem, SpecError, first_line
from dlkit._model.layers import every_layer
from dlkit._model.networks import graph_model
from dlkit._model.saving import load_model
from dlkit._plan.base import BasePlan
from dlkit._plan.parts import make
from dlkit._plan.plan import Plan
from dlkit._plan.saved_base import cut
from dlkit._spec.sections.base import BASE_NAME
from dlkit._plan.transfer import weights_file_problem

WEIGHTS = "model.base.weights"
MIXED = ("mixed_bfloat16", "mixed_float16")


def assemble_with_base(plan: Plan) -> keras.Model:
    """The functional model of a plan with a base, its base frozen as the first phase wants.

    Raises:
        SpecError: the base's weights cannot be had (offline, damaged or unfitting file), at
            ``model.base.weights``.
        ModelFileError: a saved base cannot be loaded.
    """
    spec = plan.model.base
    base = make_base(spec, plan.runtime.precision)
    set_trainable(base, 0 if spec.trainable else None)
    preprocessing = [part.make() for part in spec.preprocessing]

    def front(tensor: Any) -> Any:
        for layer in preprocessing:
            tensor = layer(tensor)
        return base(tensor)

    if plan.model.graph is not None:
        return graph_model(plan.model.graph, plan.name, sources=lambda tensors: tensors.update(
            {BASE_NAME: front(tensors[spec.input])}))
    inputs = keras.Input(shape=spec.input_shape)
    tensor = front(inputs)
    for part in plan.model.layers:
        tensor = part.make()(tensor)
    return keras.Model(inputs, tensor, name=plan.name)


def make_base(spec: BasePlan, precision: str = "float32") -> keras.Model:
    """The base with its weights: the application (under the run's dtype policy) or the cut
    of the saved model."""
    if spec.application is None:
        return cut(load_model(spec.path, compile=False), spec.until)
    arguments = {**make(spec.application.args), "weights": spec.weights,
                 "input_shape": spec.input_shape}
    with _dtype_policy(precision if precision in MIXED else None):
        try:
            return spec.application.cls(**arguments)
        except Exception as exc:  # noqa: BLE001 - sorted into what a user can do below
            raise SpecError(Problem(WEIGHTS, _weights_problem(spec, exc))) from None


def _weights_problem(spec: BasePlan, exc: Exception) -> str:
    """What went wrong while getting an application's weights, and the ways out."""
    text = first_line(exc)
    failure = re.match(r"URL fetch failure on (\S+?):? ", text)
    if spec.weights == "imagenet" and failure:
        file = failure.group(1).rpartition("/")[2]
        return (f"the ImageNet weights of {spec.label} could not be downloaded ({text}). "
                f"Either train without them (weights: null), or get the file {file} and put "
                f"it in Keras' cache ({keras_cache() / file}) or anywhere and give its path "
                f"(weights: path/to/{file})")
    if spec.weights == "imagenet":
        return (f"the ImageNet weights of {spec.label} in Keras' cache ({keras_cache()}) "
                f"cannot be used ({type(exc).__name__}: {text}); the file is damaged or "
                "truncated: delete it so that Keras downloads it again, or use weights: null")
    problem = spec.weights and weights_file_problem(Path(spec.weights))
    return (f"{spec.weights} cannot be loaded into {spec.label} ({type(exc).__name__}: "
            f"{problem or text}); give a weights file saved from this application with the "
            "same arguments, imagenet, or null")


def keras_cache() -> Path:
    """Where Keras keeps downloaded weights: ``$KERAS_HOME/models``, else ``~/.keras/models``."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "models"


@contextlib.contextmanager
def _dtype_policy(name: str | None) -> Iterator[None]:
    """Layers made inside take the dtype policy `name` (None: as they are)."""
    if name is None:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def base_of(model: keras.Model) -> keras.Model:
    """The base inside a model `assemble_with_base` made."""
    return model.get_layer(BASE_NAME)


def set_trainable(base: keras.Model, first: int | None) -> None:
    """The base's layers from index `first` (its input left out) train, those below do not;
    None: none does. BatchNormalization layers never train: they stay in inference mode."""
    _set_everywhere(base, first is not None)
    layers = [layer for layer in base.layers if not isinstance(layer, keras.layers.InputLayer)]
    for layer in layers[:first or 0]:
        _set_everywhere(layer, False)
    for layer in batch_normalizations(base):
        layer.trainable = False


def _set_everywhere(layer: keras.layers.Layer, value: bool) -> None:
    """Sets `trainable` on a layer and on every layer of the models inside it. Keras' own
    propagation cannot be trusted here: on TensorFlow, setting ``trainable`` to the value a
    model already has does nothing at all, not even to the layers inside it whose own value
    differs (TensorFlow's tracking skips assigning an attribute the object it holds), so a
    base loaded frozen stays frozen after ``base.trainable = True``."""
    layer.trainable = value
    for inner in layer.layers if isinstance(layer, keras.Model) else ():
        _set_everywhere(inner, value)


def batch_normalizations(model: keras.Model) -> Iterator[keras.layers.Layer]:
    """Every BatchNormalization layer of `model`, in the models inside it too."""
    return (layer for layer in every_layer(model.layers)
            if isinstance(layer, keras.layers.BatchNormalization))
