"""How sharp the minimum a model sits in is: the top Hessian eigenvalue and epsilon-sharpness.

- **Top Hessian eigenvalue** of the loss with respect to all trainable weights, by power
  iteration on Hessian-vector products. A product is computed forward-over-backward: a
  ``tf.autodiff.ForwardAccumulator`` (the forward-mode derivative along the vector) around a
  ``tf.GradientTape`` (the gradient), so the Hessian is never formed. Power iteration finds the
  eigenvalue largest in magnitude; at a minimum that is the largest positive one.
- **Epsilon-sharpness** as Keskar et al. 2017 ("On Large-Batch Training for Deep Learning",
  metric 2.1, with A = I) define it: ``100 * (max_loss - loss) / (1 + loss)`` where ``max_loss``
  is the largest loss in the box ``|delta_i| <= epsilon * (|w_i| + 1)`` around the weights. They
  maximise with L-BFGS-B; here a few steps of projected sign-gradient ascent (the steepest ascent
  for a box) from a random point of the box, keeping the largest loss seen, including the
  unperturbed loss, so the value is never negative.

The loss is the compiled loss of the model (penalties included, see ``_stateless``) in inference
mode, the mean over all of ``x``, computed in float32 even for a mixed-precision model (see
``float32``). The model's weights are never written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from dlkit._analysis._checks import check_compiled, check_data, check_float, check_int
from dlkit._analysis._flat import flatten, unflatten
from dlkit._analysis._stateless import batch_loss_fn, batches
from dlkit._analysis.float32 import float32_twin

MAX_ITERATIONS = 10_000
MAX_ASCENT_STEPS = 1_000
ASCENT_STEP = 0.25  # each ascent step moves a weight by this fraction of its box half-width


def sharpness(model: keras.Model, x: Any, y: Any, *, iterations: int = 50,
              tolerance: float = 1e-3, epsilon: float = 1e-3, ascent_steps: int = 10,
              batch_size: int | None = None, seed: int = 0) -> dict:
    """The top Hessian eigenvalue and the epsilon-sharpness of ``model``'s loss on ``(x, y)``.

    Args:
        model: a compiled, built Keras model (any; its weights are not changed).
        x: inputs, a NumPy array.
        y: targets, a NumPy array with as many samples.
        iterations: at most this many power iterations (1 to 10,000).
        tolerance: power iteration stops once the eigenvalue changes by less than this,
            relative to its size, from one iteration to the next.
        epsilon: the box half-width per weight is ``epsilon * (|w| + 1)``.
        ascent_steps: projected gradient ascent steps for epsilon-sharpness (1 to 1,000).
        batch_size: samples per forward pass; None for all of them at once.
        seed: seeds the power iteration's start vector and the ascent's start point.

    Returns:
        A JSON-ready dict: ``hessian_top_eigenvalue``, ``epsilon_sharpness``, ``epsilon``,
        ``loss`` and ``max_loss`` (the loss at the weights and the largest found in the box),
        and ``power_iteration``: ``eigenvalues`` (one per iteration), ``relative_changes``,
        ``iterations`` (used), ``converged`` and ``tolerance``.

    Raises:
        ValueError: an argument is out of range.

    Example:
        >>> result = sharpness(model, x_train[:512], y_train[:512])
        >>> result["hessian_top_eigenvalue"], result["epsilon_sharpness"]
    """
    check_compiled(model)
    x, y = check_data(x, y)
    model = float32_twin(model)  # a mixed-precision model's loss is too coarse to measure
    iterations = check_int("iterations", iterations, 1, MAX_ITERATIONS)
    tolerance = check_float("tolerance", tolerance, 0.0, 1.0)
    epsilon = check_float("epsilon", epsilon, 0.0, 1.0)
    ascent_steps = check_int("ascent_steps", ascent_steps, 1, MAX_ASCENT_STEPS)
    batch_size = len(x) if batch_size is None else check_int("batch_size", batch_size, 1, 2**31 - 1)
    seed = check_int("seed", seed, 0, 2**63 - 1)
    objective = _Objective(model, x, y, batch_size)
    weights = [v.numpy() for v in model.trainable_variables]
    rng = np.random.default_rng(seed)
    power = top_eigenvalue(lambda v: objective.hvp(weights, v), len(flatten(weights)),
                           iterations=iterations, tolerance=tolerance, rng=rng)
    loss, max_loss = _box_max_loss(objective, weights, epsilon=epsilon, steps=ascent_steps, rng=rng)
    return {
        "hessian_top_eigenvalue": power["eigenvalues"][-1],
        "epsilon_sharpness": 100.0 * (max_loss - loss) / (1.0 + loss),
        "epsilon": epsilon,
        "loss": loss,
        "max_loss": max_loss,
        "power_iteration": power,
    }


def top_eigenvalue(hvp: Callable[[np.ndarray], np.ndarray], size: int, *, iterations: int,
                   tolerance: float, rng: np.random.Generator) -> dict:
    """Power iteration for the eigenvalue of largest magnitude of a symmetric operator.

    Args:
        hvp: the operator, a flat float64 vector to one of the same size.
        size: the vector size.
        iterations: at most this many products.
        tolerance: stop once ``|lambda_k - lambda_{k-1}| / |lambda_k|`` is below it.
        rng: draws the start vector.

    Returns:
        ``{"eigenvalues", "relative_changes", "iterations", "converged", "tolerance"}``; the
        eigenvalue estimates are Rayleigh quotients ``v . Hv`` of unit vectors.
    """
    vector = rng.standard_normal(size)
    vector /= np.linalg.norm(vector)
    eigenvalues: list[float] = []
    changes: list[float] = []
    converged = False
    for _ in range(iterations):
        product = hvp(vector)
        eigenvalues.append(float(vector @ product))
        if len(eigenvalues) > 1:
            changes.append(abs(eigenvalues[-1] - eigenvalues[-2])
                           / max(abs(eigenvalues[-1]), np.finfo(float).tiny))
            converged = changes[-1] < tolerance
        norm = np.linalg.norm(product)
        if converged or norm == 0.0 or not np.isfinite(norm):
            converged = converged or norm == 0.0
            break
        vector = product / norm
    return {"eigenvalues": eigenvalues, "relative_changes": changes,
            "iterations": len(eigenvalues), "converged": converged, "tolerance": tolerance}


def _box_max_loss(objective: _Objective, weights: Sequence[np.ndarray], *, epsilon: float,
                 steps: int, rng: np.random.Generator) -> tuple[float, float]:
    """The loss at ``weights`` and the largest loss found in Keskar's epsilon-box around them."""
    bounds = [epsilon * (np.abs(w) + 1.0) for w in weights]
    loss = objective.loss(weights)
    best = loss
    delta = [b * rng.uniform(-1.0, 1.0, size=b.shape) for b in bounds]
    for _ in range(steps):
        value, grads = objective.loss_and_gradient([w + d for w, d in zip(weights, delta)])
        best = max(best, value)
        delta = [np.clip(d + ASCENT_STEP * b * np.sign(g), -b, b)
                 for d, b, g in zip(delta, bounds, grads)]
    best = max(best, objective.loss([w + d for w, d in zip(weights, delta)]))
    return loss, best


class _Objective:
    """The model's mean loss over ``(x, y)`` at given weights: value, gradient, Hessian products."""

    def __init__(self, model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int) -> None:
        self._dtypes = [v.dtype for v in model.trainable_variables]
        self._data = list(batches(x, y, batch_size))
        self._count = len(x)
        loss_fn = batch_loss_fn(model, training=False)
        non_trainable = [tf.constant(v.numpy()) for v in model.non_trainable_variables]
        zero = tf.UnconnectedGradients.ZERO

        def value_and_grad(weights, xb, yb):
            with tf.GradientTape() as tape:
                tape.watch(weights)
                loss = loss_fn(weights, non_trainable, xb, yb)
            return loss, tape.gradient(loss, weights, unconnected_gradients=zero)

        def hvp(weights, vector, xb, yb):
            with tf.autodiff.ForwardAccumulator(weights, vector) as accumulator:
                _, grads = value_and_grad(weights, xb, yb)
            return accumulator.jvp(grads, unconnected_gradients=zero)

        # Traced for each batch size (at most two: full batches and the last one), with
        # static shapes: traced with an open batch size, oneDNN logs an error line about int32.
        self._value_and_grad = tf.function(value_and_grad)
        self._hvp = tf.function(hvp)

    def loss(self, weights: Sequence[np.ndarray]) -> float:
        """The loss at ``weights``."""
        return self.loss_and_gradient(weights)[0]

    def loss_and_gradient(self, weights: Sequence[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        """The loss and its gradient (float64 arrays) at ``weights``."""
        tensors = self._tensors(weights)
        total, grads = 0.0, [np.zeros(w.shape) for w in weights]
        for xb, yb in self._data:
            share = int(xb.shape[0]) / self._count
            loss, batch_grads = self._value_and_grad(tensors, xb, yb)
            total += share * float(loss)
            grads = [g + share * b.numpy() for g, b in zip(grads, batch_grads)]
        return total, grads

    def hvp(self, weights: Sequence[np.ndarray], vector: np.ndarray) -> np.ndarray:
        """The Hessian at ``weights`` times the flat ``vector``, as a flat float64 vector."""
        tensors = self._tensors(weights)
        pieces = self._tensors(unflatten(vector, weights))
        total = np.zeros(vector.shape)
        for xb, yb in self._data:
            share = int(xb.shape[0]) / self._count
            product = self._hvp(tensors, pieces, xb, yb)
            total += share * flatten([p.numpy() for p in product])
        return total

    def _tensors(self, arrays: Sequence[np.ndarray]) -> list[tf.Tensor]:
        return [tf.constant(a, dtype=d) for a, d in zip(arrays, self._dtypes)]

