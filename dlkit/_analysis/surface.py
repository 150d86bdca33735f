"""Loss along a line and over a plane in weight space, evaluated batched and in-graph.

Every point is ``weights = base + sum_k c_k * direction_k``. Points go to a ``tf.function`` a
chunk at a time; inside it ``tf.map_fn`` evaluates the compiled loss of each point with
``Model.stateless_call`` (see ``_stateless``), so the model's variables are never written and
no Python runs per point. What the loss includes is documented in ``_stateless``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from dlkit._analysis._checks import check_compiled, check_data, check_float, check_int
from dlkit._analysis._stateless import batch_loss_fn, batches, split_weights
from dlkit._analysis.limits import MAX_GRID, MAX_LINE_POINTS, MAX_SPAN

Progress = Callable[[int, int], None]

CHUNK = 32  # grid points per tf.function call; more barely helps on 2 cores, fewer costs calls


def loss_surface(model: keras.Model, x: Any, y: Any, directions: tuple[list, list], *,
                 grid: int, span: float, batch_size: int = 512,
                 on_progress: Progress | None = None) -> dict:
    """The loss over the plane through the model's weights spanned by two directions.

    Args:
        model: a compiled, built Keras model; its current weights are the centre (0, 0).
        x: inputs, a NumPy array.
        y: targets, a NumPy array with as many samples.
        directions: two directions, each a list of arrays, one per trainable variable (or one
            per weight as ``get_weights`` returns them; non-trainable ones are then ignored),
            e.g. from ``filter_normalized_direction``.
        grid: points per side, 2 to 201.
        span: the plane covers ``[-span, span]`` along both directions.
        batch_size: samples per forward pass.
        on_progress: called as ``on_progress(done, total)`` after each chunk of points.

    Returns:
        ``{"alpha": (grid,), "beta": (grid,), "loss": (grid, grid)}`` where ``loss[i, j]`` is
        the loss at ``weights + alpha[i] * d1 + beta[j] * d2``.

    Raises:
        ValueError: an argument is out of range or the directions do not fit the model.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> w = [v.numpy() for v in model.trainable_variables]
        >>> dirs = (filter_normalized_direction(w, rng), filter_normalized_direction(w, rng))
        >>> loss_surface(model, x, y, dirs, grid=21, span=1.0)["loss"].shape
        (21, 21)
    """
    check_compiled(model)
    x, y = check_data(x, y)
    grid = check_int("grid", grid, 2, MAX_GRID)
    span = check_float("span", span, 0.0, MAX_SPAN)
    batch_size = check_int("batch_size", batch_size, 1, 2**31 - 1)
    if not isinstance(directions, (tuple, list)) or len(directions) != 2:
        raise ValueError("Invalid value received for argument directions. Expected a pair of "
                         f"directions. Received: directions of type {type(directions).__name__}")
    dirs = [split_weights(model, d, f"directions[{k}]")[0] for k, d in enumerate(directions)]
    axis = np.linspace(-span, span, grid)
    alpha, beta = np.meshgrid(axis, axis, indexing="ij")
    coeffs = np.stack([alpha.ravel(), beta.ravel()], axis=1)
    base = [v.numpy() for v in model.trainable_variables]
    non_trainable = [v.numpy() for v in model.non_trainable_variables]
    loss = evaluate_points(model, x, y, base, dirs, coeffs, non_trainable,
                           batch_size=batch_size, on_progress=on_progress)
    return {"alpha": axis, "beta": axis.copy(), "loss": loss.reshape(grid, grid)}


def loss_line(model: keras.Model, x: Any, y: Any, initial_weights: list, final_weights: list, *,
              points: int, start: float = -0.25, stop: float = 1.5, batch_size: int = 512,
              on_progress: Progress | None = None) -> dict:
    """The loss on the straight line through the initial and the final weights.

    The trainable weights are ``initial + t * (final - initial)``: ``t = 0`` is the initial
    point, ``t = 1`` the final one. Non-trainable weights (BatchNormalization statistics) are
    the final ones when ``final_weights`` includes them (a ``get_weights`` list), otherwise the
    model's current ones.

    Args:
        model: a compiled, built Keras model (its weights are not changed).
        x: inputs, a NumPy array.
        y: targets, a NumPy array with as many samples.
        initial_weights: ``model.get_weights()`` at initialisation (or only the trainable ones).
        final_weights: the same after training.
        points: how many values of ``t``, 2 to 1001, evenly from ``start`` to ``stop``.
        start: the first ``t``.
        stop: the last ``t``; must be greater than ``start``.
        batch_size: samples per forward pass.
        on_progress: called as ``on_progress(done, total)`` after each chunk of points.

    Returns:
        ``{"t": (points,), "loss": (points,)}``.

    Raises:
        ValueError: an argument is out of range or the weights do not fit the model.
    """
    check_compiled(model)
    x, y = check_data(x, y)
    points = check_int("points", points, 2, MAX_LINE_POINTS)
    start = check_float("start", start, -MAX_SPAN, MAX_SPAN, low_open=False)
    stop = check_float("stop", stop, start, MAX_SPAN)
    batch_size = check_int("batch_size", batch_size, 1, 2**31 - 1)
    initial, _ = split_weights(model, initial_weights, "initial_weights")
    final, non_trainable = split_weights(model, final_weights, "final_weights")
    if non_trainable is None:
        non_trainable = [v.numpy() for v in model.non_trainable_variables]
    t = np.linspace(start, stop, points)
    step = [np.asarray(b, np.float64) - np.asarray(a, np.float64) for a, b in zip(initial, final)]
    loss = evaluate_points(model, x, y, initial, [step], t[:, None], non_trainable,
                           batch_size=batch_size, on_progress=on_progress)
    return {"t": t, "loss": loss}


def evaluate_points(model: keras.Model, x: np.ndarray, y: np.ndarray, base: Sequence[np.ndarray],
                    directions: Sequence[Sequence[np.ndarray]], coeffs: np.ndarray,
                    non_trainable: Sequence[np.ndarray], *, batch_size: int,
                    on_progress: Progress | None = None) -> np.ndarray:
    """The loss at ``base + coeffs[p] @ directions`` for every row ``p`` of ``coeffs``.

    Arguments are assumed checked. Returns float64 losses, one per row of ``coeffs``.
    """
    total = len(coeffs)
    chunk = min(CHUNK, total)
    data = list(batches(x, y, batch_size))
    run = _chunk_runner(model, base, directions, non_trainable, (chunk, len(directions)), data[0])
    losses = np.empty(total)
    for begin in range(0, total, chunk):
        part = coeffs[begin:begin + chunk]
        padded = np.zeros((chunk, coeffs.shape[1]), np.float32)
        padded[:len(part)] = part
        summed = np.zeros(chunk)
        for xb, yb in data:
            summed += run(tf.constant(padded), xb, yb).numpy() * int(xb.shape[0])
        losses[begin:begin + len(part)] = summed[:len(part)] / len(x)
        if on_progress is not None:
            on_progress(begin + len(part), total)
    return losses


def _chunk_runner(model: keras.Model, base: Sequence[np.ndarray],
                  directions: Sequence[Sequence[np.ndarray]], non_trainable: Sequence[np.ndarray],
                  coeffs_shape: tuple[int, int], batch: tuple[tf.Tensor, tf.Tensor]) -> Callable:
    """A ``tf.function(coeffs, x, y)`` giving the batch loss at each row of ``coeffs``.

    It is traced once: its signature leaves the batch size open (the last batch is smaller).
    """
    loss = batch_loss_fn(model, training=False)
    dtypes = [v.dtype for v in model.trainable_variables]
    base_t = [tf.constant(b, dtype=dtype) for b, dtype in zip(base, dtypes)]
    non_trainable_t = [tf.constant(value, dtype=v.dtype)
                       for value, v in zip(non_trainable, model.non_trainable_variables)]
    # Directions that are zero for a weight (1-D weights) are skipped rather than added.
    dirs_t = [[tf.constant(d, dtype=dtype) if np.any(d) else None
               for d, dtype in zip(direction, dtypes)] for direction in directions]

    def weights_at(c: tf.Tensor) -> list[tf.Tensor]:
        values = []
        for i, b in enumerate(base_t):
            value = b
            for k, direction in enumerate(dirs_t):
                if direction[i] is not None:
                    value = value + tf.cast(c[k], b.dtype) * direction[i]
            values.append(value)
        return values

    signature = [tf.TensorSpec(coeffs_shape, tf.float32),
                 *(tf.TensorSpec([None, *t.shape[1:]], t.dtype) for t in batch)]

    @tf.function(input_signature=signature)
    def run(coeffs: tf.Tensor, xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        return tf.map_fn(lambda c: loss(weights_at(c), non_trainable_t, xb, yb), coeffs,
                         fn_output_signature=tf.float32)

    return run

