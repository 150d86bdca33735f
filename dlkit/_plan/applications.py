"""`keras.applications` in a plan: a name resolved to its function, the spec's arguments checked
against that function's signature, and its own input preprocessing turned into Keras layers.

No table of applications is kept here: the names are whatever `keras.applications` exports,
and each application's preprocessing is read off its own ``preprocess_input`` (every one
in Keras is a per-pixel affine map: ``x / 127.5 - 1``, ImageNet mean and deviation, or a
flip to BGR less the mean) by feeding it a few known pixels. The map becomes a `Rescaling`
layer (one scale and offset per channel) or, when it mixes channels, a frozen 1x1 `Dense`
layer, so that a saved model holds only Keras layers and loads without dlkit, in safe mode.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from functools import cache
from typing import Any

import keras
import numpy as np

from dlkit._core.errors import Problems, did_you_mean, first_line
from dlkit._plan.parts import Part
from dlkit._plan.registry import public_names
from dlkit._spec.rules import key_path
from dlkit._spec.sections.base import BASE_NAME, PATH

# Arguments dlkit decides for every application, and why a spec cannot set them.
DECIDED = {
    "include_top": "the base never has its classifier: model.layers is the head",
    "input_tensor": "the base takes the model's input",
    "input_shape": "the base takes model.input_shape (or its graph input's shape)",
    "classes": "the base has no classifier: model.layers is the head",
    "classifier_activation": "the base has no classifier: model.layers is the head",
    "name": f"the base is named '{BASE_NAME}' in the model",
}
PREPROCESSING = f"{BASE_NAME}_preprocessing"  # the Keras name of the preprocessing layer


@cache
def application_functions() -> dict[str, Callable]:
    """Every model function `keras.applications` exports, by name (``MobileNetV2``, ...)."""
    found = {}
    for name in public_names(keras.applications):
        obj = getattr(keras.applications, name)
        if inspect.isfunction(obj) and "include_top" in inspect.signature(obj).parameters:
            found[name] = obj
    return found


def resolve_application(base: dict, arguments: dict, problems: Problems) -> Callable | None:
    """The application a base names, its extra arguments checked; None after a problem."""
    name = base["application"]
    function = application_functions().get(name)
    if function is None:
        problems.add(key_path(PATH, "application"), f"unknown application '{name}'"
                     f"{did_you_mean(name, application_functions())}; an application is a "
                     "model function of keras.applications, like MobileNetV2 or ResNet50")
        return None
    accepted = [p for p in inspect.signature(function).parameters
                if p not in DECIDED and p not in ("weights", "pooling")]
    sound = True
    for key in arguments:
        if key in DECIDED:
            problems.add(key_path(PATH, key), f"'{key}' is set by dlkit: {DECIDED[key]}")
            sound = False
        elif key not in accepted:
            hint = did_you_mean(key, [*accepted, "weights", "pooling", "trainable"])
            problems.add(key_path(PATH, key), f"unknown key '{key}'{hint}; {name} takes "
                         f"{', '.join(accepted) or 'no other arguments'} besides application, "
                         "weights, pooling and trainable")
            sound = False
    return function if sound else None


def application_part(function: Callable, base: dict, arguments: dict) -> Part:
    """The part that makes the application without weights (`BasePlan.application`)."""
    return Part.of(function, {**arguments, "include_top": False, "pooling": base["pooling"],
                              "weights": None, "name": BASE_NAME}, PATH)


def preprocessing_parts(function: Callable, channels: int,
                        problems: Problems) -> tuple[Part, ...] | None:
    """The application's own input preprocessing as layers (none when it has none, or does it
    inside the model); None after recording why it cannot be done for `channels`."""
    preprocess = _preprocess_input(function)
    if preprocess is None:
        return ()
    try:
        matrix, offset = affine_map(preprocess, channels)
    except ValueError as exc:
        problems.add(PATH, f"{function.__name__}'s input preprocessing ({preprocess.__module__}"
                     f".preprocess_input) cannot be put in the model for {channels}-channel "
                     f"images: {exc}")
        return None
    if np.allclose(matrix, np.eye(channels)) and np.allclose(offset, 0):
        return ()
    if np.allclose(matrix, np.diag(np.diag(matrix))):
        return (Part.of(keras.layers.Rescaling, {"scale": _values(np.diag(matrix)),
                                                 "offset": _values(offset), "dtype": "float32",
                                                 "name": PREPROCESSING}, PATH),)
    constant = keras.initializers.Constant
    return (Part.of(keras.layers.Dense, {
        "units": channels, "kernel_initializer": Part.of(constant, {"value": _rounded(matrix)},
                                                         PATH),
        "bias_initializer": Part.of(constant, {"value": _rounded(offset)}, PATH),
        "trainable": False, "dtype": "float32", "name": PREPROCESSING}, PATH),)


def affine_map(preprocess: Callable, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """``(matrix, offset)`` with ``preprocess(x) == x @ matrix + offset`` for every pixel.

    Raises:
        ValueError: `preprocess` fails on `channels` channels, or is not such a map.
    """
    probe = np.zeros((channels + 2, 1, 1, channels), dtype="float32")
    probe[1:channels + 1, 0, 0, :] = 255.0 * np.eye(channels)
    probe[-1, 0, 0, :] = np.random.default_rng(0).uniform(0, 255, channels)
    try:
        out = np.asarray(preprocess(probe.copy()), dtype="float64")[:, 0, 0, :]
    except Exception as exc:  # noqa: BLE001 - Keras' own message
        raise ValueError(first_line(exc)) from None
    if out.shape != (channels + 2, channels):
        raise ValueError(f"it changes the pixels' shape to {out.shape[1:]}")
    offset = out[0]
    matrix = (out[1:channels + 1] - offset) / 255.0
    if not np.allclose(probe[-1, 0, 0] @ matrix + offset, out[-1], rtol=1e-4, atol=1e-3):
        raise ValueError("it is not a per-pixel affine map")
    return matrix, offset


def _preprocess_input(function: Callable) -> Callable | None:
    """The ``preprocess_input`` of the `keras.applications` module an application is from:
    the one that exports it, else the one named like the module defining it."""
    modules = [getattr(keras.applications, n) for n in public_names(keras.applications)]
    modules = [m for m in modules if isinstance(m, types.ModuleType)]
    home = function.__module__.rpartition(".")[2]
    owner = next((m for m in modules if getattr(m, function.__name__, None) is function), None)
    owner = owner or next((m for m in modules if m.__name__.rpartition(".")[2] == home), None)
    return getattr(owner, "preprocess_input", None)


def _values(values: np.ndarray) -> Any:
    """One number when every channel has the same, else a list (rounded to float32)."""
    rounded = _rounded(values)
    return rounded[0] if len(set(rounded)) == 1 else rounded


def _rounded(values: np.ndarray) -> Any:
    return np.vectorize(lambda v: float(f"{v:.8g}"))(np.asarray(values)).tolist()
