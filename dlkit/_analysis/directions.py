"""Random filter-normalised directions in weight space (Li et al. 2018, "Visualizing the Loss
Landscape of Neural Nets", section 4).

A direction has one array per weight. Each is Gaussian noise rescaled filter by filter so that the
filter has the norm of the same filter in the given weights; that makes a step of 1 along the
direction comparable between layers and between networks of different scale. A *filter* is a
slice along the last axis, where Keras keeps output units: ``kernel[..., j]`` is the incoming
weights of unit ``j`` for Dense (``(in, out)``) and Conv (``(kh, kw, in, out)``) kernels alike.
Every 1-D weight (biases, BatchNormalization's gamma and beta, ...) is left out: zero in the
direction, as Li et al. do.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# A filter whose noise has a smaller norm than this is left at zero rather than divided by it.
_TINY = 1e-12


def filter_normalized_direction(weights: Sequence[np.ndarray],
                                rng: np.random.Generator) -> list[np.ndarray]:
    """Draws one random direction, filter-normalised to ``weights``.

    Args:
        weights: the weights the direction is for, e.g. ``[v.numpy() for v in
            model.trainable_variables]`` or ``model.get_weights()``.
        rng: where the noise comes from (``np.random.default_rng(seed)`` makes it repeatable).

    Returns:
        One array per weight, same shape and dtype: zero for weights with fewer than two
        dimensions; otherwise for every ``j``, ``norm(d[..., j]) == norm(weights[..., j])``.

    Raises:
        ValueError: ``rng`` is not a ``numpy.random.Generator``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> d = filter_normalized_direction(model.get_weights(), rng)
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError("Invalid value received for argument rng. Expected a "
                         f"numpy.random.Generator. Received: rng={rng!r}")
    return [_normalized_noise(np.asarray(w), rng) for w in weights]


def _normalized_noise(weight: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Noise shaped like ``weight``, each last-axis slice scaled to that slice's norm."""
    dtype = weight.dtype if np.issubdtype(weight.dtype, np.floating) else np.float32
    if weight.ndim < 2:
        return np.zeros(weight.shape, dtype=dtype)
    noise = rng.standard_normal(weight.shape)
    axes = tuple(range(weight.ndim - 1))
    target = np.sqrt(np.sum(np.square(weight.astype(np.float64)), axis=axes))
    current = np.sqrt(np.sum(np.square(noise), axis=axes))
    scale = np.where(current > _TINY, target / np.maximum(current, _TINY), 0.0)
    return (noise * scale).astype(dtype)
