"""Checks that labels fit the loss and the output layer, before any training starts."""

from __future__ import annotations

import numpy as np

from dlkit._core.errors import DataError, Problem

SPARSE = {"sparse_categorical_crossentropy"}
ONE_HOT = {"categorical_crossentropy", "categorical_focal_crossentropy", "kl_divergence",
           "categorical_hinge"}
BINARY = {"binary_crossentropy", "binary_focal_crossentropy", "hinge", "squared_hinge"}
# Losses of a model that predicts classes (KL divergence compares distributions instead).
CLASSIFIER = (SPARSE | ONE_HOT | BINARY) - {"kl_divergence"}


def is_classifier(loss_name: str) -> bool:
    """Whether a loss (by its canonical function name) means the model predicts classes."""
    return loss_name in CLASSIFIER


def fit_labels(y: np.ndarray, *, loss_name: str, output_shape: tuple,
               which: str = "y", path: str = "model.layers[-1]") -> np.ndarray:
    """Returns `y` in the form the loss expects (integer classes one-hot encoded for
    categorical losses), or explains why it cannot fit.

    Args:
        y: the labels.
        loss_name: the loss's canonical function name, like ``mean_squared_error``.
        output_shape: the model's output shape, batch dimension first.
        which: what to call `y` in messages.
        path: where the spec defines the output, for messages.

    Raises:
        DataError: the labels do not fit the loss or the output layer's width.
    """
    name, units = loss_name, output_shape[-1]
    y = np.asarray(y)
    if name in SPARSE:
        _check_classes(y, units, name, which, path)
        return y.reshape(len(y)) if y.ndim == 2 and y.shape[1] == 1 else y
    if name in ONE_HOT and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and units > 1)):
        _check_classes(y, units, name, which, path)
        return np.eye(units, dtype="float32")[y.reshape(len(y)).astype("int64")]
    if name in BINARY:
        values = np.unique(y)
        allowed = {-1, 0, 1} if "hinge" in name else {0, 1}
        if not set(values.tolist()) <= allowed and np.all(values == np.round(values)):
            raise DataError(Problem("compile.loss", f"{which} takes {len(values)} distinct "
                                    f"values but {name} expects 0/1 labels; for {len(values)} "
                                    "classes use loss: sparse_categorical_crossentropy with a "
                                    f"last layer of units: {len(values)} and softmax"))
    want = tuple(output_shape[1:])
    got = y.shape[1:] if y.ndim > 1 else (1,)
    if got != want:
        raise DataError(Problem(path, f"the model outputs shape {list(want)} per sample but "
                                f"{which} has shape {list(got)}; make the output layer's "
                                f"units {got[-1] if got else 1}"))
    return y.reshape(len(y), 1) if y.ndim == 1 else y


def _check_classes(y: np.ndarray, units: int, loss: str, which: str, path: str) -> None:
    flat = y.reshape(len(y)) if y.ndim == 2 and y.shape[1] == 1 else y
    if flat.ndim != 1 or not np.all(flat == np.round(flat)):
        raise DataError(Problem("compile.loss", f"{loss} expects integer class labels, one per "
                                f"sample; {which} has shape {list(y.shape)}"))
    low, high = int(flat.min()), int(flat.max())
    if low < 0 or high >= units:
        raise DataError(Problem(path, f"{which} has class labels {low}..{high} ({high + 1} "
                                f"classes) but the output layer has {units} unit(s); set its "
                                f"units to {high + 1}"))
