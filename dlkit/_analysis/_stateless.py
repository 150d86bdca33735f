"""The compiled loss of a Keras model at weights that are not its own, its variables untouched.

Every analysis here evaluates a model's loss at many weight vectors. Instead of writing each one
into the model (``set_weights``), it maps the model's variables to the given tensors with Keras 3's
public ``keras.StatelessScope`` -- the mechanism behind ``Model.stateless_call`` -- and runs the
forward pass and ``Model.compute_loss`` inside it, as ``Model.test_step`` does. That runs inside a
``tf.function``, batched, and leaves the model unchanged (assignments made inside the scope, e.g.
to metric trackers, are discarded with it).

What the loss includes, so that it equals ``model.evaluate``'s ``loss``:

- the compiled loss (``compile(loss=..., loss_weights=...)``), or an overridden ``compute_loss``;
- weight regularization penalties (``kernel_regularizer``, ...), computed from the mapped values;
- activity regularization and other ``add_loss`` terms made during the call (the scope collects
  them, ``collect_losses=True``);
- over several batches, the mean of the batch losses weighted by batch size, as ``evaluate`` does.

Why not ``stateless_call(..., return_losses=True)`` followed by ``stateless_compute_loss``: the
first returns ``model.losses``, which already holds the weight penalties, and the second adds them
again, so regularised models came out with the penalty counted twice (Keras 3.15.1).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from dlkit._analysis._checks import check_like

LossFn = Callable[[Sequence[tf.Tensor], Sequence[tf.Tensor], tf.Tensor, tf.Tensor], tf.Tensor]


def batch_loss_fn(model: keras.Model, *, training: bool = False) -> LossFn:
    """Returns ``loss(trainable_values, non_trainable_values, x, y)``: one batch's total loss.

    The function is pure (usable inside ``tf.function``, ``tf.map_fn`` and gradient tapes);
    updates that a training-mode call would make (BatchNormalization statistics) are dropped.
    """
    accepts_training = "training" in inspect.signature(model.compute_loss).parameters
    kwargs = {"training": training} if accepts_training else {}

    def loss(trainable: Sequence[tf.Tensor], non_trainable: Sequence[tf.Tensor],
             x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        mapping = [*zip(model.trainable_variables, trainable),
                   *zip(model.non_trainable_variables, non_trainable)]
        with keras.StatelessScope(state_mapping=mapping, collect_losses=True):
            y_pred = model(x, training=training)
            total = model.compute_loss(x=x, y=y, y_pred=y_pred, **kwargs)
        return tf.cast(total, tf.float32)

    return loss


def as_input(x: np.ndarray) -> tf.Tensor:
    """``x`` as a tensor; floating inputs become ``keras.config.floatx()`` as Keras' fit would."""
    if np.issubdtype(x.dtype, np.floating):
        return tf.constant(x, dtype=keras.config.floatx())
    return tf.constant(x)


def batches(x: np.ndarray, y: np.ndarray, batch_size: int) -> Iterator[tuple[tf.Tensor, tf.Tensor]]:
    """Yields ``(x, y)`` tensors of ``batch_size`` samples (the last one may be smaller)."""
    for start in range(0, len(x), batch_size):
        yield as_input(x[start:start + batch_size]), tf.constant(y[start:start + batch_size])


def split_weights(model: keras.Model, arrays: Sequence[Any], name: str
                  ) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Splits ``arrays`` into trainable and non-trainable values of ``model``.

    ``arrays`` is either one array per trainable variable (``[v.numpy() for v in
    model.trainable_variables]``), then the non-trainable part is None, or one per weight, as
    ``model.get_weights()`` returns them, then it is the full list of non-trainable variable
    values (the model's own where a non-trainable variable is not a weight, e.g. a seed).

    Raises:
        ValueError: ``arrays`` matches neither list (the message names ``name``).
    """
    trainable = model.trainable_variables
    if len(arrays) == len(trainable) and len(trainable) != len(model.weights):
        return check_like(name, arrays, [v.shape for v in trainable]), None
    arrays = check_like(name, arrays, [w.shape for w in model.weights])
    by_id = {id(w): a for w, a in zip(model.weights, arrays)}
    non_trainable = [by_id.get(id(v), v.numpy()) for v in model.non_trainable_variables]
    return [by_id[id(v)] for v in trainable], non_trainable


@contextlib.contextmanager
def variables_kept(model: keras.Model) -> Iterator[None]:
    """Puts every variable of ``model`` (weights, random seeds, metric states) back as it was
    when the block ends, however it ends."""
    saved = [(variable, variable.numpy()) for variable in model.variables]
    try:
        yield
    finally:
        for variable, value in saved:
            variable.assign(value)
