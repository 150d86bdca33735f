"""``deterministic: true``: randomness derived from the seed and the epoch, not process state.

Keras shuffles each epoch and draws dropout masks from generators whose state lives in the
process (the dropout state is not even in a backup), so a run resumed after a crash would see
other batches and other masks than an uninterrupted one. Here each epoch's data order and each
dropout generator's state are functions of ``(seed, epoch)`` alone, so a resumed run repeats
the uninterrupted one exactly.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

EPOCH_STRIDE = 2**20  # dropout draws per epoch before two epochs' streams could overlap


def epoch_keyed_batches(x: np.ndarray, y: np.ndarray, *, batch_size: int, seed: int,
                        first_epoch: int, epochs: int) -> tuple[tf.data.Dataset, int]:
    """Batches for epochs ``first_epoch..epochs-1``, each epoch in an order fixed by
    ``(seed, epoch)``; returns the dataset and the steps per epoch."""
    count = len(x)
    steps = math.ceil(count / batch_size)
    features, labels = tf.constant(x), tf.constant(y)

    def one_epoch(epoch: tf.Tensor) -> tf.data.Dataset:
        key = tf.stack([tf.constant(seed, tf.int64), epoch])
        order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=key)
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size).map(
            lambda index: (tf.gather(features, index), tf.gather(labels, index)))

    dataset = tf.data.Dataset.range(first_epoch, epochs).flat_map(one_epoch)
    return dataset.prefetch(tf.data.AUTOTUNE), steps


class EpochSeeds(keras.callbacks.Callback):
    """Sets every seed generator's state (dropout, noise layers) from ``(seed, epoch)`` as each
    epoch begins."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.seed = seed

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        states = [v for v in self.model.non_trainable_variables
                  if v.path.endswith("seed_generator_state")]
        for index, state in enumerate(states):
            value = [(self.seed * 1_000_003 + index) % 2**31, (epoch * EPOCH_STRIDE) % 2**31]
            state.assign(np.asarray(value, dtype=state.dtype))
