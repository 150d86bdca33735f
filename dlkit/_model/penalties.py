"""The weight penalties a custom ``train_step`` adds to its loss, as `keras.Model`'s own does."""

from __future__ import annotations

import keras
import tensorflow as tf


def weight_penalties(model: keras.Model) -> tf.Tensor | float:
    """The sum of a network's layer penalties (``model.regularization``, a layer's
    ``kernel_regularizer``, ...) in float32, or 0."""
    losses = model.losses
    return tf.add_n([tf.cast(loss, tf.float32) for loss in losses]) if losses else 0.0
