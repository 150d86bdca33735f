"""Transfer learning in passes 2 and 3: ``model.base`` resolved and made once without weights,
the head checked on top of it, and ``train.fine_tune`` resolved against the base's layers.

Everything here runs inside `dlkit._plan.load.make_plan`'s scratch graph: the base is made
from its application function (``weights=None``) or from a saved model's config, so its
input shapes, layer names and output are known before any weights are downloaded or read.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from dlkit._core.errors import Problems, did_you_mean, first_line
from dlkit._plan.applications import (application_part, preprocessing_parts,
                                      resolve_application)
from dlkit._plan.base import BasePlan, FineTunePlan
from dlkit._plan.parts import Part, PartError, make
from dlkit._plan.shapes import Shapes, check_memory
from dlkit._plan.saved_base import check_until, cut, layer_names, read_architecture
from dlkit._runtime.steps import model_multiply_adds
from dlkit._spec.rules import key_path
from dlkit._spec.sections.base import BASE_NAME, PATH, application_arguments

WEIGHT_FILES = (".h5", ".hdf5", ".keras")  # what `keras.Model.load_weights` reads
FINE_TUNE = "train.fine_tune"


@dataclass
class Base:
    """A base as validation made it: its plan, and its layers made in the scratch graph."""

    plan: BasePlan
    model: keras.Model
    preprocessing: list

    def __call__(self, tensor: Any) -> Any:
        """The base (after its preprocessing) applied to `tensor`."""
        for layer in self.preprocessing:
            tensor = layer(tensor)
        return self.model(tensor)

    def source(self, problems: Problems) -> Callable[[dict], None]:
        """For a graph: adds the base's output to the named tensors, as ``base``."""
        def add(tensors: dict) -> None:
            try:
                tensors[BASE_NAME] = self(tensors[self.plan.input])
            except Exception as exc:  # noqa: BLE001 - Keras' own message, with our path
                problems.add(PATH, self.refusal(tensors[self.plan.input], exc))
        return add

    def refusal(self, tensor: Any, exc: Exception) -> str:
        return (f"{self.plan.label} cannot take the input of shape {tuple(tensor.shape)}: "
                f"{first_line(exc)}")


def plan_base(spec: dict, problems: Problems) -> Base | None:
    """Resolves and makes ``model.base`` (in a scratch graph); None without one, or after
    recording its problems."""
    model = spec.get("model")
    base = model.get("base") if isinstance(model, dict) else None
    if not isinstance(base, dict) or problems.count_under(PATH):
        return None
    shape, taken = _input_of(model)
    if shape is None:
        return None  # pass 1 reported the input shape
    if "application" in base:
        return _application(base, shape, taken, problems)
    return _saved(base, shape, taken, problems)


def _input_of(model: dict) -> tuple[tuple | None, str | None]:
    """The shape the base takes, and for a graph the name of the input it takes."""
    inputs = model.get("inputs")
    if not isinstance(inputs, dict):
        shape = model.get("input_shape")
        return (tuple(shape) if isinstance(shape, list) else None), None
    taken = model["base"].get("inputs", next(iter(inputs)) if len(inputs) == 1 else None)
    shape = inputs.get(taken)
    return (tuple(shape) if isinstance(shape, list) else None), taken


def _application(base: dict, shape: tuple, taken: str | None,
                 problems: Problems) -> Base | None:
    arguments = application_arguments(base)
    function = resolve_application(base, arguments, problems)
    weights_sound = _check_weights(base["weights"], shape, problems)
    if function is None:
        return None
    preprocessing = preprocessing_parts(function, shape[-1] or 0, problems)
    part = application_part(function, base, arguments)
    try:
        made = part.cls(**make(part.args), input_shape=shape)
    except Exception as exc:  # noqa: BLE001 - Keras' own check of the shape and arguments
        problems.add(PATH, f"{function.__name__} refused input shape {list(shape)} or its "
                     f"arguments: {first_line(exc)}")
        return None
    if preprocessing is None or not weights_sound:
        return None
    plan = BasePlan(label=function.__name__, application=part, weights=base["weights"],
                    preprocessing=preprocessing, path=None, until=None, input_shape=shape,
                    input=taken, output_shape=tuple(made.output.shape),
                    layers=tuple(layer_names(made)), trainable=base["trainable"],
                    cache=base["cache"])
    return Base(plan, made, [p.make() for p in preprocessing])


def _saved(base: dict, shape: tuple, taken: str | None, problems: Problems) -> Base | None:
    saved = read_architecture(base["path"], problems)
    if saved is None or not check_until(saved, base["until"], base["path"], problems):
        return None
    try:
        made = cut(saved, base["until"])
    except Exception as exc:  # noqa: BLE001 - a layer whose output cannot end a model
        problems.add(key_path(PATH, "until"), f"the model cannot be cut at '{base['until']}': "
                     f"{first_line(exc)}")
        return None
    plan = BasePlan(label=base["path"], application=None, weights=None, preprocessing=(),
                    path=base["path"], until=base["until"], input_shape=shape, input=taken,
                    output_shape=tuple(made.output.shape), layers=tuple(layer_names(made)),
                    trainable=base["trainable"], cache=base["cache"])
    return Base(plan, made, [])


def _check_weights(weights: str | None, shape: tuple, problems: Problems) -> bool:
    """ImageNet weights are for RGB images (Keras' rule); a weights file can be read."""
    where = key_path(PATH, "weights")
    if weights is None:
        return True
    if weights == "imagenet":
        if shape[-1] != 3:
            problems.add(where, f"ImageNet weights are for 3-channel (RGB) images, but the base "
                         f"takes {shape[-1]} channel(s) (input shape {list(shape)}): use "
                         "weights: null, or give the images 3 channels")
            return False
        return True
    problem = weights_file_problem(Path(weights))
    if problem:
        problems.add(where, f"{weights}: {problem}; weights is imagenet, null (random weights) "
                     "or a weights file (.h5 or .keras) saved from this application")
    return not problem


def weights_file_problem(file: Path) -> str | None:
    """Why a weights file cannot be read (missing, of another kind, damaged), or None."""
    if not file.is_file():
        return "no such file"
    if not file.name.endswith(WEIGHT_FILES):
        return f"not a weights file Keras reads ({', '.join(WEIGHT_FILES)})"
    try:
        if file.name.endswith(".keras"):
            with zipfile.ZipFile(file) as archive:
                archive.getinfo("model.weights.h5")
        else:
            import h5py

            with h5py.File(file, "r"):
                pass
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        return f"cannot be read, the file is damaged or truncated ({first_line(exc)})"
    return None


def plan_fine_tune(spec: dict, base: Base | None, optimizer: Part | None,
                   problems: Problems) -> FineTunePlan | None:
    """``train.fine_tune`` against the base's layers; None without it or after a problem."""
    train = spec.get("train")
    settings = train.get("fine_tune") if isinstance(train, dict) else None
    if not isinstance(settings, dict) or base is None or optimizer is None \
            or problems.count_under(FINE_TUNE):
        return None
    names, where = base.plan.layers, key_path(FINE_TUNE, "unfreeze")
    unfreeze = settings["unfreeze"]
    if unfreeze == "all":
        first = 0
    elif isinstance(unfreeze, int):
        if unfreeze > len(names):
            problems.add(where, f"the base ({base.plan.label}) has {len(names)} layers; unfreeze "
                         f"at most {len(names)} of them, or all")
            return None
        first = len(names) - unfreeze
    elif unfreeze["from"] in names:
        first = names.index(unfreeze["from"])
    else:
        problems.add(key_path(where, "from"), f"the base ({base.plan.label}) has no layer "
                     f"'{unfreeze['from']}'{did_you_mean(unfreeze['from'], names)}")
        return None
    tuned = optimizer.with_args(learning_rate=settings["learning_rate"])
    try:
        tuned.make()
    except PartError as exc:
        problems.add(key_path(FINE_TUNE, "learning_rate"), exc.message)
        return None
    return FineTunePlan(first_layer=first, optimizer=tuned, epochs=settings["epochs"])


def check_base_shapes(base: Base, layers: list, parts: list[Part],
                      problems: Problems) -> Shapes | None:
    """Pass 3 of a stack on a base: the head's layers (made from `parts` in the scratch graph)
    on the base's output; what assembling told, or None after recording a problem."""
    inputs = keras.Input(shape=base.plan.input_shape)
    try:
        tensor = base(inputs)
    except Exception as exc:  # noqa: BLE001 - Keras' own message, with our path
        problems.add(PATH, base.refusal(inputs, exc))
        return None
    for part, layer in zip(parts, layers):
        try:
            tensor = layer(tensor)
        except Exception as exc:  # noqa: BLE001 - Keras' own message, with the layer's path
            problems.add(part.path, f"{part.cls.__name__} cannot take its input of shape "
                         f"{tuple(tensor.shape)}: {first_line(exc)}")
            return None
    model = keras.Model(inputs, tensor)
    count = model.count_params()
    check_memory(count, problems)
    return Shapes(parameters=count, multiply_adds=model_multiply_adds(model),
                  output_shape=tuple(model.output_shape),
                  output_shapes={None: tuple(model.output_shape)})
