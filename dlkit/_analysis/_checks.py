"""Argument checks shared by the analysis functions: each raises a ValueError naming the argument.

The messages follow Keras' shape: what is wrong, what was expected, what was received, e.g.
``Invalid value received for argument grid. Expected an integer from 2 to 201. Received: grid=0``.
The CLI turns these ValueErrors into exit code 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def _invalid(name: str, expected: str, value: Any) -> ValueError:
    """The ValueError for argument ``name``: what was expected and what came."""
    shown = f"array of shape {np.shape(value)}" if isinstance(value, np.ndarray) else repr(value)
    return ValueError(f"Invalid value received for argument {name}. Expected {expected}. "
                      f"Received: {name}={shown}")


def check_int(name: str, value: Any, low: int, high: int) -> int:
    """Returns ``value`` if it is an int from ``low`` to ``high`` (bool is refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or not low <= value <= high:
        raise _invalid(name, f"an integer from {low} to {high}", value)
    return int(value)


def check_float(name: str, value: Any, low: float, high: float, *, low_open: bool = True) -> float:
    """Returns ``value`` as a float if it is finite and in (low, high] (or [low, high])."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and value <= high and (value > low if low_open else value >= low)
    if not ok:
        bracket = "(" if low_open else "["
        raise _invalid(name, f"a finite number in {bracket}{low}, {high}]", value)
    return value


def check_data(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Returns ``x`` and ``y`` as arrays once they hold the same, non-zero, sample count."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or len(x) == 0:
        raise _invalid("x", "an array with at least one sample", x)
    if y.ndim == 0 or len(y) != len(x):
        raise _invalid("y", f"an array with as many samples as x ({len(x)})", y)
    return x, y


def check_compiled(model: Any) -> None:
    """Refuses a model that is not a compiled Keras model (the loss comes from ``compile``)."""
    if not getattr(model, "compiled", False) or not hasattr(model, "stateless_compute_loss"):
        raise _invalid("model", "a Keras model compiled with a loss (call model.compile first)",
                       type(model).__name__)
    if not model.built:
        raise _invalid("model", "a built Keras model (call it once, or give it an Input)",
                       model.name)


def check_like(name: str, arrays: Sequence[Any], shapes: Sequence[tuple]) -> list[np.ndarray]:
    """Returns ``arrays`` as float arrays if they match ``shapes`` one for one."""
    arrays = list(arrays)
    got = [tuple(np.shape(a)) for a in arrays]
    if got != [tuple(s) for s in shapes]:
        raise ValueError(f"Invalid value received for argument {name}. Expected {len(shapes)} "
                         f"arrays of shapes {[tuple(s) for s in shapes]}. Received: {len(arrays)} "
                         f"arrays of shapes {got}")
    return [np.asarray(a) for a in arrays]
