"""The path training took, drawn on the loss surface of the plane that holds most of it.

Random directions in a space of thousands of weights are nearly orthogonal to any path, so a
path projected on them shows as a dot (Li et al. 2018, section 7). The plane here is spanned by
the first two principal components of the path, as there: the rows of
``M = [w_0 - w_final; w_1 - w_final; ...]`` (all trainable weights, flattened) are projected on
the two top right singular vectors of ``M``, and the surface is evaluated over that plane,
centred on the final weights and wide enough to hold the whole path. The share of the path's
squared distance from the final weights that the plane holds is reported (``explained``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from dlkit._analysis._checks import check_int
from dlkit._analysis._flat import flatten, unflatten
from dlkit._analysis._stateless import split_weights
from dlkit._analysis.limits import MAX_GRID
from dlkit._analysis.surface import Progress, evaluate_points

MARGIN = 0.25  # the plane reaches this share of the path's extent beyond it on every side
MIN_ASPECT = 0.5  # the plane's narrower side spans at least this share of its wider one
_TINY = 1e-12


def pca_plane(points: Sequence[Sequence[np.ndarray]], final: Sequence[np.ndarray]
              ) -> dict[str, Any] | None:
    """The path's plane: two orthonormal directions and every point's coordinates in it.

    Args:
        points: the path, one list of trainable arrays per point (oldest first).
        final: the trainable arrays the plane is centred on.

    Returns:
        ``{"directions": (d1, d2), "coords": (n, 2), "explained": (2,)}`` with each direction
        a list of arrays shaped like ``final``; None when the path spans less than a plane
        (fewer than two points away from ``final``).
    """
    rows = np.stack([flatten(point) - flatten(final) for point in points])
    gram = rows @ rows.T  # n x n: cheap however many weights there are
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1][:2]
    if len(order) < 2 or values[order[1]] <= _TINY * max(values[order[0]], _TINY):
        return None
    directions, coords = [], []
    for k in order:
        unit = rows.T @ vectors[:, k] / np.sqrt(values[k])
        directions.append(unflatten(unit, final))
        coords.append(rows @ unit)
    return {"directions": tuple(directions), "coords": np.stack(coords, axis=1),
            "explained": values[order] / max(float(np.trace(gram)), _TINY)}


def path_surface(model: keras.Model, x: np.ndarray, y: np.ndarray,
                 path: Sequence[Sequence[np.ndarray]], *, grid: int, batch_size: int = 512,
                 on_progress: Progress | None = None) -> dict[str, Any] | None:
    """The loss over the plane of the path, and along the path projected into it.

    Args:
        model: a compiled, built model; its current weights are the centre (0, 0).
        x: inputs (checked by the caller).
        y: targets.
        path: the weights along training, each ``get_weights()`` or the trainable arrays.
        grid: points per side.
        batch_size: samples per forward pass.
        on_progress: called as ``on_progress(done, total)``, ``total = grid**2 + len(path)``.

    Returns:
        ``{"alpha", "beta", "loss" (grid, grid), "path_alpha", "path_beta", "path_loss",
        "explained"}``, or None when the path spans less than a plane.
    """
    grid = check_int("grid", grid, 2, MAX_GRID)
    points = [split_weights(model, p, f"path[{i}]")[0] for i, p in enumerate(path)]
    final = [v.numpy() for v in model.trainable_variables]
    plane = pca_plane(points, final) if len(points) >= 2 else None
    if plane is None:
        return None
    coords = plane["coords"]
    alpha, beta = _axes(coords, grid)
    mesh = np.stack([a.ravel() for a in np.meshgrid(alpha, beta, indexing="ij")], axis=1)
    non_trainable = [v.numpy() for v in model.non_trainable_variables]
    losses = evaluate_points(model, x, y, final, plane["directions"], np.vstack([mesh, coords]),
                             non_trainable, batch_size=batch_size, on_progress=on_progress)
    return {"alpha": alpha, "beta": beta, "loss": losses[:grid * grid].reshape(grid, grid),
            "path_alpha": coords[:, 0], "path_beta": coords[:, 1],
            "path_loss": losses[grid * grid:], "explained": plane["explained"]}


def _axes(coords: np.ndarray, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """``grid`` points along each direction, from below the path (and 0) to beyond it.

    The narrower side spans at least ``MIN_ASPECT`` of the wider one, so that a path lying
    almost along one direction is not drawn as a sliver.
    """
    low = np.minimum(coords.min(axis=0), 0.0)
    high = np.maximum(coords.max(axis=0), 0.0)
    extent = np.maximum(high - low, _TINY)
    low, high = low - MARGIN * extent, high + MARGIN * extent
    widest = float(np.max(high - low))
    grow = np.maximum(MIN_ASPECT * widest - (high - low), 0.0) / 2
    return tuple(np.linspace(a, b, grid) for a, b in zip(low - grow, high + grow))
