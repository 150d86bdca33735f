"""`Arrays`, the NumPy form of a dataset, and fitting samples to the model's input shape.

A model of several inputs takes a dict of arrays keyed by input name, one of several outputs a
dict keyed by output name; everything here works on either form.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from dlkit._core.errors import DataError, Problem, did_you_mean

# One array, or arrays by input (or output) name.
Data = Union[np.ndarray, dict[str, np.ndarray]]


@dataclass
class Arrays:
    """Training arrays, and validation arrays when the source has its own."""

    x: Data
    y: Data
    x_val: Data | None = None
    y_val: Data | None = None
    classes: tuple[str, ...] | None = None  # class names, where the source has them


def count(data: Any) -> int:
    """How many samples: the length of the array, or of each array of a dict (which must agree).

    Raises:
        DataError: the arrays of a dict hold different numbers of samples.
    """
    if not isinstance(data, Mapping):
        return len(data)
    sizes = {name: len(array) for name, array in data.items()}
    if len(set(sizes.values())) > 1:
        raise DataError(Problem("data", "arrays of one dataset hold different numbers of "
                                f"samples: {sizes}"))
    return next(iter(sizes.values()), 0)


def take(data: Any, index: np.ndarray) -> Any:
    """The samples at `index`, of an array or of every array of a dict."""
    if isinstance(data, Mapping):
        return {name: np.asarray(array)[index] for name, array in data.items()}
    return np.asarray(data)[index]


def by_name(data: Any, names: list[str], which: str, *, what: str) -> Any:
    """`data` as the model takes it: for one name an array (a dict of one array is unwrapped),
    for several a dict with exactly `names`.

    Raises:
        DataError: naming the arrays missing or unknown, and what to pass.
    """
    if not isinstance(data, Mapping):
        if len(names) == 1:
            return data
        raise DataError(Problem("data", f"{which} is one array but the model has {what}s "
                                f"{', '.join(names)}: save {_keys(which, names)} arrays in an "
                                "npz file, or pass a dict of arrays keyed by those names"))
    if len(data) == 1 and len(names) == 1:
        return next(iter(data.values()))
    unknown = [key for key in data if key not in names]
    missing = [name for name in names if name not in data]
    if unknown or missing:
        lacks = f" lacks {_keys(which, missing)};" if missing else ""
        extra = "".join(f" has '{k}', which is no {what}{did_you_mean(k, names)};"
                        for k in unknown)
        raise DataError(Problem("data", f"{which}{lacks}{extra} the model's {what}s are "
                                f"{', '.join(names)}"))
    return {name: data[name] for name in names}


def _keys(which: str, names: list[str]) -> str:
    """``x_image, x_meta`` (``x_image_val, ...`` for validation arrays)."""
    part, _, val = which.partition("_")
    return ", ".join(f"{part}_{name}{'_' + val if val else ''}" for name in names)


def shaped(arrays: Arrays, input_shape: list | Mapping[str, Any]) -> Arrays:
    """Reshapes x (and x_val) to the model's input shape when only the layout differs.

    Args:
        input_shape: the model's input shape, or for several inputs input name -> shape.
    """
    def fit(x: np.ndarray, shape: list, which: str, where: str) -> np.ndarray:
        x = np.asarray(x)
        sample = x.shape[1:]
        if _matches(sample, shape):
            return x.astype("float32") if x.dtype == np.float64 else x
        if None not in shape and math.prod(sample) == math.prod(shape):
            return x.reshape((len(x), *shape)).astype("float32")
        raise DataError(Problem(where, f"the data's {which} samples have shape "
                                f"{list(sample)}, which does not fit {where} {list(shape)}; "
                                f"set it to {list(sample)}"))

    def fit_all(x: Any, which: str) -> Any:
        if not isinstance(input_shape, Mapping):
            return fit(by_name(x, ["x"], which, what="input"), list(input_shape), which,
                       "model.input_shape")
        x = by_name(x, list(input_shape), which, what="input")
        if len(input_shape) == 1:
            [(name, shape)] = input_shape.items()
            return fit(x, list(shape), which, f"model.inputs.{name}")
        return {name: fit(x[name], list(shape), _keys(which, [name]), f"model.inputs.{name}")
                for name, shape in input_shape.items()}

    x_val = None if arrays.x_val is None else fit_all(arrays.x_val, "x_val")
    return Arrays(fit_all(arrays.x, "x"), _plain(arrays.y), x_val,
                  None if arrays.y_val is None else _plain(arrays.y_val), arrays.classes)


def _plain(y: Any) -> Any:
    if y is None:  # unlabeled data (`unlabeled`)
        return None
    return {k: np.asarray(v) for k, v in y.items()} if isinstance(y, Mapping) else np.asarray(y)


def _matches(sample: tuple, input_shape: list) -> bool:
    return len(sample) == len(input_shape) and all(
        want is None or want == got for want, got in zip(input_shape, sample))


def from_user(data: object, input_shape: list | Mapping[str, Any]) -> Arrays:
    """``(x, y)`` or ``(x, y, x_val, y_val)`` as passed to `dlkit.train` (arrays, or dicts of
    arrays keyed by input and output names), shaped to the model."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 4):
        raise DataError(Problem("data", "pass data as (x, y), (x, y, x_val, y_val) or a "
                                f"tf.data.Dataset; received {type(data).__name__}"))
    return shaped(Arrays(*data), input_shape)


def unlabeled(data: object) -> object:
    """Data for a model that learns from samples alone (an autoencoder, a GAN), in the form
    `from_user` takes: an array (or a dict of arrays) ``x`` or ``(x,)`` becomes ``(x, None)``;
    ``(x, y)`` and ``(x, y, x_val, y_val)`` stay (their labels, which may be None, unused)."""
    if isinstance(data, (np.ndarray, Mapping)):
        return data, None
    if isinstance(data, (tuple, list)) and len(data) == 1:
        return data[0], None
    return data


def split(arrays: Arrays, fraction: float, seed: int | None) -> Arrays:
    """Holds out a shuffled `fraction` for validation (Keras' validation_split does not shuffle,
    so sorted data would validate on one class only)."""
    train, val = held_out(count(arrays.x), fraction, seed)
    return Arrays(take(arrays.x, train), take(arrays.y, train), take(arrays.x, val),
                  take(arrays.y, val), arrays.classes)


def as_targets(arrays: Arrays, fraction: float | None, seed: int | None) -> Arrays:
    """Samples as their own targets, ``(x, x)`` (an autoencoder, a GAN: labels unused), with
    `fraction` held out for validation as `split` holds it out when there is no ``x_val``."""
    x, x_val = arrays.x, arrays.x_val
    if x_val is None and fraction:
        train, val = held_out(count(x), fraction, seed)
        x, x_val = take(x, train), take(x, val)
    return Arrays(x, x, x_val, x_val, arrays.classes)


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


def named_arrays(arrays: Mapping[str, np.ndarray], *, labels: bool = True) -> Arrays | None:
    """An npz file's arrays as `Arrays`: ``x``/``y`` or ``x_<input>``/``y_<output>`` (each
    optionally with ``_val`` appended for validation: ``x_val``, ``x_image_val``); None when
    it holds neither form of x or (when `labels` are needed) of y."""
    found: dict[str, Any] = {}
    for part in ("x", "y"):
        for val in ("", "_val"):
            named = {key[len(part) + 1: len(key) - len(val)]: array
                     for key, array in arrays.items()
                     if key.startswith(f"{part}_") and key != f"{part}_val"
                     and (key.endswith("_val") == bool(val))}
            found[part + val] = arrays[part + val] if part + val in arrays else named or None
    if found["x"] is None or (labels and found["y"] is None):
        return None
    return Arrays(found["x"], found["y"], found["x_val"], found["y_val"])
