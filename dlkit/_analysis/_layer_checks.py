"""One layer's health on one batch: dead, saturated and symmetric units, gradient size; warnings.

The thresholds are the named constants below; ``diagnose`` reports them with its result.

- *dead*: a ReLU unit (``relu``, ``relu6``, a ``ReLU`` layer without a negative slope) whose
  output is <= 0 for every sample of the batch (and every position, for convolutions) passes no
  gradient back, so nothing brings it back. Units with a slope below zero (leaky ReLU, ELU,
  GELU, SiLU...) still pass gradient and are not counted. Warned above ``DEAD_FRACTION``.
- *saturated*: sigmoid outputs below ``SIGMOID_LOW`` or above ``SIGMOID_HIGH``, tanh outputs
  with ``|out| > TANH_LIMIT``: there the derivative is nearly zero. Softmax is not counted.
  Warned above ``SATURATED_FRACTION``.
- *symmetric*: all units of the layer have the same incoming weights (kernel columns equal
  within ``SYMMETRY_TOLERANCE``); for a layer without a kernel (an activation layer), all
  produce the same, not all-zero, outputs. Such units get the same gradient and stay copies of
  one another whatever the training, so the layer is as good as one unit.
- *vanishing*: the kernel's gradient norm is below ``VANISHING_NORM``, or below
  ``VANISHING_RATIO`` times the largest kernel gradient norm among the layers.
- *exploding*: the kernel's gradient norm is above ``EXPLODING_NORM``.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

DEAD_FRACTION = 0.5
SATURATED_FRACTION = 0.5
SIGMOID_LOW, SIGMOID_HIGH = 0.02, 0.98
TANH_LIMIT = 0.98
SYMMETRY_TOLERANCE = 1e-6  # relative to the largest absolute value in the kernel or output
VANISHING_NORM = 1e-7
VANISHING_RATIO = 1e-4
EXPLODING_NORM = 1e3

THRESHOLDS = {
    "dead_fraction": DEAD_FRACTION, "saturated_fraction": SATURATED_FRACTION,
    "sigmoid_low": SIGMOID_LOW, "sigmoid_high": SIGMOID_HIGH, "tanh_limit": TANH_LIMIT,
    "symmetry_tolerance": SYMMETRY_TOLERANCE, "vanishing_norm": VANISHING_NORM,
    "vanishing_ratio": VANISHING_RATIO, "exploding_norm": EXPLODING_NORM,
}
RELU_FAMILY = frozenset({"relu", "relu6"})
_SATURATING = frozenset({"sigmoid", "hard_sigmoid", "tanh"})
_ACTIVATION_LAYERS = ("Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax")


def is_checked(layer: keras.layers.Layer) -> bool:
    """Whether ``diagnose`` reports on ``layer``: it has a kernel or is an activation layer.

    A nested model is not looked into: it is neither (its kernels belong to its own layers).
    """
    return kernel_of(layer) is not None or type(layer).__name__ in _ACTIVATION_LAYERS


def kernel_of(layer: keras.layers.Layer) -> keras.Variable | None:
    """The layer's own trainable ``kernel`` variable (Dense, Conv, ...), or None."""
    kernel = getattr(layer, "kernel", None)
    return kernel if isinstance(kernel, keras.Variable) and kernel.trainable else None


def activation_name(layer: keras.layers.Layer) -> str:
    """The name of what the layer applies last: ``relu``, ``sigmoid``, ``linear``, ..."""
    if isinstance(layer, keras.layers.ReLU):
        slope = float(getattr(layer, "negative_slope", 0.0))
        return "relu" if slope == 0.0 and float(getattr(layer, "threshold", 0.0)) == 0.0 \
            else "leaky_relu"
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    function = getattr(layer, "activation", None)
    if function is None:
        return type(layer).__name__.lower()
    return str(getattr(function, "__name__", type(function).__name__)).lower()


def layer_stats(activation: str, outputs: np.ndarray, kernel: np.ndarray | None,
                gradient: np.ndarray | None) -> dict[str, Any]:
    """The numbers of one layer on one batch (``outputs`` has the batch on axis 0)."""
    units = outputs.reshape(-1, outputs.shape[-1]) if outputs.ndim > 1 else outputs[:, None]
    if kernel is not None:
        symmetric = _columns_equal(kernel.reshape(-1, kernel.shape[-1]))
    else:  # outputs that are all zero are dead units, counted as such, not as symmetric ones
        symmetric = bool(np.any(units)) and _columns_equal(units)
    return {
        "dead_fraction": float(np.mean(np.all(units <= 0.0, axis=0)))
        if activation in RELU_FAMILY else None,
        "saturated_fraction": _saturated(activation, units),
        "activation_std": float(np.std(units)),
        "gradient_norm": None if gradient is None else float(np.linalg.norm(gradient)),
        "symmetric": symmetric,
    }


def _saturated(activation: str, units: np.ndarray) -> float | None:
    if activation not in _SATURATING:
        return None
    if activation == "tanh":
        return float(np.mean(np.abs(units) > TANH_LIMIT))
    return float(np.mean((units < SIGMOID_LOW) | (units > SIGMOID_HIGH)))


def _columns_equal(matrix: np.ndarray) -> bool:
    """Whether every column of ``matrix`` equals the first, within the symmetry tolerance."""
    if matrix.shape[1] < 2:
        return False
    spread = np.max(np.abs(matrix - matrix[:, :1]))
    return bool(spread <= SYMMETRY_TOLERANCE * np.max(np.abs(matrix)))


def layer_warnings(layer: dict[str, Any], phase: str, largest_gradient: float) -> list[dict]:
    """The warnings of one reported layer (as ``diagnose`` lists it) in one phase.

    Each is ``{"layer", "kind", "detail"}``, ``kind`` one of dead, symmetric, saturated,
    vanishing, exploding, and ``detail`` says it with the numbers.
    """
    stats = layer[phase]
    found = []

    def warn(kind: str, detail: str) -> None:
        found.append({"layer": layer["name"], "kind": kind, "detail": detail})

    dead, saturated, norm = stats["dead_fraction"], stats["saturated_fraction"], \
        stats["gradient_norm"]
    if dead is not None and dead > DEAD_FRACTION:
        warn("dead", f"{dead:.0%} of its {layer['units']} ReLU units output <= 0 for every "
                     "sample of the batch, so they pass no gradient and cannot recover "
                     f"(threshold {DEAD_FRACTION:.0%})")
    if stats["symmetric"]:
        warn("symmetric", f"all {layer['units']} units have identical incoming weights (or "
                          "outputs); they receive identical gradients and stay copies of one "
                          "another, so the layer learns like one unit (use a random initializer: "
                          "he_normal before ReLU, glorot_uniform otherwise)")
    if saturated is not None and saturated > SATURATED_FRACTION:
        warn("saturated", f"{saturated:.0%} of its {layer['activation']} outputs are in the flat "
                          f"tails where the derivative is nearly 0 (threshold "
                          f"{SATURATED_FRACTION:.0%})")
    if norm is not None and (norm < VANISHING_NORM or norm < VANISHING_RATIO * largest_gradient):
        warn("vanishing", f"the kernel's gradient norm is {norm:.3g} (largest among layers "
                          f"{largest_gradient:.3g}; thresholds {VANISHING_NORM:g} and "
                          f"{VANISHING_RATIO:g} of the largest)")
    if norm is not None and norm > EXPLODING_NORM:
        warn("exploding", f"the kernel's gradient norm is {norm:.3g} (threshold "
                          f"{EXPLODING_NORM:g})")
    return found
