"""Lookups in Keras' public namespaces: layer classes, registered layers, constructor arguments.

With `dlkit._plan.resolver` the only place that asks Keras what a name means.
"""

from __future__ import annotations

import contextlib
import inspect
import random
from collections.abc import Iterator
from functools import cache
from types import ModuleType

import keras
import numpy as np

REGISTRY_HELPERS = {"get", "serialize", "deserialize"}


def public_names(module: ModuleType) -> list[str]:
    """The public names a Keras namespace exports (for did-you-mean)."""
    return [n for n in dir(module) if not n.startswith("_") and n not in REGISTRY_HELPERS]


@cache
def layer_classes() -> dict[str, type]:
    """Every public class in `keras.layers` that is a layer, by name."""
    found = {}
    for name in public_names(keras.layers):
        obj = getattr(keras.layers, name)
        if inspect.isclass(obj) and issubclass(obj, keras.layers.Layer):
            found[name] = obj
    return found


def activation_layer_names() -> list[str]:
    """Layer classes that are activations (LeakyReLU, PReLU, ...), for did-you-mean."""
    return [n for n, c in layer_classes().items() if ".activations." in c.__module__]


def registered_layers() -> dict[str, type]:
    """Layers registered with `keras.saving.register_keras_serializable`, by full and short name."""
    found: dict[str, type] = {}
    for full, obj in keras.saving.get_custom_objects().items():
        if inspect.isclass(obj) and issubclass(obj, keras.layers.Layer):
            found[full] = obj
            found.setdefault(full.split(">")[-1], obj)
    return found


@cache
def accepted_arguments(cls: type) -> tuple[str, ...]:
    """Keyword arguments `cls(...)` accepts: named parameters along its class hierarchy."""
    names: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        for parameter in list(inspect.signature(init).parameters.values())[1:]:
            if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
                if parameter.name not in names:
                    names.append(parameter.name)
    return tuple(names)


@contextlib.contextmanager
def random_state_kept() -> Iterator[None]:
    """Restores Python's and NumPy's global random state on exit.

    Keras draws a seed from Python's `random` whenever it creates an unseeded initializer or
    dropout layer, so merely looking a name up would shift every later draw: a model built
    after validation would not start from the weights that the same seed gives by hand.
    """
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
