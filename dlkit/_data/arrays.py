"""`Arrays`, the NumPy form of a dataset, and fitting samples to the model's input shape."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlkit._core.errors import DataError, Problem


@dataclass
class Arrays:
    """Training arrays, and validation arrays when the source has its own."""

    x: np.ndarray
    y: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    classes: tuple[str, ...] | None = None  # class names, where the source has them


def shaped(arrays: Arrays, input_shape: list) -> Arrays:
    """Reshapes x (and x_val) to the model's input shape when only the layout differs."""
    def fit(x: np.ndarray, which: str) -> np.ndarray:
        x = np.asarray(x)
        sample = x.shape[1:]
        if _matches(sample, input_shape):
            return x.astype("float32") if x.dtype == np.float64 else x
        if None not in input_shape and math.prod(sample) == math.prod(input_shape):
            return x.reshape((len(x), *input_shape)).astype("float32")
        raise DataError(Problem("model.input_shape", f"the data's {which} samples have shape "
                                f"{list(sample)}, which does not fit model.input_shape "
                                f"{input_shape}; set input_shape to {list(sample)}"))
    x_val = None if arrays.x_val is None else fit(arrays.x_val, "x_val")
    return Arrays(fit(arrays.x, "x"), np.asarray(arrays.y), x_val,
                  None if arrays.y_val is None else np.asarray(arrays.y_val), arrays.classes)


def _matches(sample: tuple, input_shape: list) -> bool:
    return len(sample) == len(input_shape) and all(
        want is None or want == got for want, got in zip(input_shape, sample))


def from_user(data: object, input_shape: list) -> Arrays:
    """``(x, y)`` or ``(x, y, x_val, y_val)`` as passed to `dlkit.train`, shaped to the model."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 4):
        raise DataError(Problem("data", "pass data as (x, y), (x, y, x_val, y_val) or a "
                                f"tf.data.Dataset; received {type(data).__name__}"))
    return shaped(Arrays(*data), input_shape)


def split(arrays: Arrays, fraction: float, seed: int | None) -> Arrays:
    """Holds out a shuffled `fraction` for validation (Keras' validation_split does not shuffle,
    so sorted data would validate on one class only)."""
    train, val = held_out(len(arrays.x), fraction, seed)
    return Arrays(arrays.x[train], arrays.y[train], arrays.x[val], arrays.y[val],
                  arrays.classes)


def held_out(count: int, fraction: float, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation indices: a seeded shuffle of `count` samples, `fraction` held out.

    Raises:
        DataError: the split would leave no training samples.
    """
    order = np.random.default_rng(seed).permutation(count)
    held = max(1, int(round(count * fraction)))
    if held >= count:
        raise DataError(Problem("data.validation_split", f"{count} samples leave none for "
                                "training after the validation split"))
    return order[:-held], order[-held:]
