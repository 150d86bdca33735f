"""Weights as one flat float64 vector, and back: what power iteration and PCA work on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def flatten(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """The arrays' values, one after the other, as one float64 vector."""
    if not arrays:
        return np.zeros(0)
    return np.concatenate([np.ravel(np.asarray(a)).astype(np.float64) for a in arrays])


def unflatten(vector: np.ndarray, like: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Cuts a flat vector into arrays shaped like ``like`` (the vector's dtype is kept)."""
    pieces, start = [], 0
    for array in like:
        pieces.append(vector[start:start + np.size(array)].reshape(np.shape(array)))
        start += np.size(array)
    return pieces
