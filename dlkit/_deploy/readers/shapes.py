"""Samples fitted to a model input's shape, or a clear error naming what it expects."""

from __future__ import annotations

import math

import numpy as np

from dlkit._core.errors import DataError, Problem
from dlkit._deploy.trained import ModelInput


def expected(model_input: ModelInput) -> str:
    """``samples of shape [8, 8, 1] (64 values)``."""
    shape = list(model_input.shape)
    size = "" if None in shape or len(shape) < 2 else f" ({math.prod(shape)} values)"
    return f"samples of shape {shape}{size}"


def fit_shape(values: np.ndarray, model_input: ModelInput, where: str) -> np.ndarray:
    """`values` (samples first) reshaped to the input's sample shape when only the layout
    differs (64 values for an 8x8x1 input), as float32 for a numeric input.

    Raises:
        DataError: the samples do not fit; the message names the shape the model expects.
    """
    values = np.asarray(values)
    want, got = list(model_input.shape), list(values.shape[1:])
    if model_input.dtype == "string":
        if values.dtype.kind not in "US":
            raise DataError(Problem(where, f"input {model_input.name} takes text; received "
                                    f"{values.dtype} values"))
        return values.reshape((len(values), *[d or 1 for d in want]))
    if values.dtype.kind not in "biuf":
        raise DataError(Problem(where, f"input {model_input.name} takes numbers; received "
                                f"{values.dtype} values"))
    if len(got) == len(want) and all(w is None or w == g for w, g in zip(want, got)):
        return values.astype(model_input.dtype, copy=False)
    if None not in want and math.prod(got) == math.prod(want):
        return values.reshape((len(values), *want)).astype(model_input.dtype, copy=False)
    raise DataError(Problem(where, f"the model's input {model_input.name} takes "
                            f"{expected(model_input)}; received samples of shape {got}"))
