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
                        epoch: tf.Variable) -> tf.data.Dataset:
    """One epoch of batches, in an order fixed by ``(seed, epoch)``.

    The epoch is read from the variable `epoch` each time Keras starts iterating the dataset
    (once an epoch, after ``on_epoch_begin``, where `EpochSeeds` sets it). One dataset per
    epoch, rather than all epochs in one stream, keeps epochs whole when several batches run
    per call (``steps_per_execution``): Keras would otherwise let a call run on into the next
    epoch's batches.
    """
    count = len(x)
    steps = math.ceil(count / batch_size)
    features, labels = tf.constant(x), tf.constant(y)

    def order(_: tf.Tensor) -> tf.Tensor:
        key = tf.stack([tf.constant(seed, tf.int64), epoch.read_value()])
        return tf.random.experimental.stateless_shuffle(tf.range(count), seed=key)

    dataset = tf.data.Dataset.from_tensors(0).map(order).unbatch().batch(batch_size).map(
        lambda index: (tf.gather(features, index), tf.gather(labels, index)))
    return dataset.apply(tf.data.experimental.assert_cardinality(steps)).prefetch(
        tf.data.AUTOTUNE)


class EpochSeeds(keras.callbacks.Callback):
    """Sets every seed generator's state (dropout, noise layers) from ``(seed, epoch)`` as each
    epoch begins."""

    def __init__(self, seed: int, epoch: tf.Variable | None = None) -> None:
        super().__init__()
        self.seed = seed
        self.epoch = epoch

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.epoch is not None:  # the data order of `epoch_keyed_batches`
            self.epoch.assign(epoch)
        states = [v for v in self.model.non_trainable_variables
                  if v.path.endswith("seed_generator_state")]
        for index, state in enumerate(states):
            value = [(self.seed * 1_000_003 + index) % 2**31, (epoch * EPOCH_STRIDE) % 2**31]
            state.assign(np.asarray(value, dtype=state.dtype))
