"""How many batches one call into TensorFlow runs (``runtime.steps_per_execution: auto``)."""

from __future__ import annotations

import keras
import numpy as np

# One call into TensorFlow should run about this many floating-point operations, so that the
# Python work per call (callbacks, logs) is small beside it; and at most MAX_STEPS batches, so
# that progress bars and the NaN guard still hear from training often.
EXECUTION_FLOPS = 4e9
MAX_STEPS = 64


def auto_steps_per_execution(multiply_adds: int, batch_size: object) -> int:
    """How many batches one `train_function` call runs, from the model's work per batch.

    A small model's step is shorter than Keras' Python overhead per step, so several steps
    run in one call (a small MLP trains 1.7x faster with 16); a large model's step is long,
    so one step a call costs nothing and keeps callbacks timely.

    Args:
        multiply_adds: the model's multiply-adds per sample (`model_multiply_adds`).
        batch_size: the spec's ``train.batch_size`` (an int, or "full").
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool):
        return 1  # "full": one step per epoch anyway
    flops = 6 * batch_size * multiply_adds
    return int(max(1, min(MAX_STEPS, EXECUTION_FLOPS // max(flops, 1))))


def model_multiply_adds(model: keras.Model) -> int:
    """Multiply-adds per sample of a built model, summed over its layers."""
    return sum(_multiply_adds(layer) for layer in model.layers)


def _multiply_adds(layer: keras.layers.Layer) -> int:
    """Multiply-adds per sample, roughly: the layer's weights once per position they are used
    at (each output pixel of a convolution, each time step of a recurrent layer); a model
    inside the model (a pretrained base) counts its own layers."""
    if isinstance(layer, keras.Model):
        return model_multiply_adds(layer)
    positions = 1
    for tensor in (getattr(layer, "input", None), getattr(layer, "output", None)):
        try:
            dims = [d for d in tensor.shape[1:-1] if d]
        except (AttributeError, TypeError, ValueError):
            continue
        positions = max(positions, int(np.prod(dims)) if dims else 1)
    return layer.count_params() * positions
