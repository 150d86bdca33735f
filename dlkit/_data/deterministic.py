"""``deterministic: true``: the data order derived from the seed and the epoch, not process state.

Keras shuffles each epoch and draws dropout masks from generators whose state lives in the
process (the dropout state is not even in a backup), so a run resumed after a crash would see
other batches and other masks than an uninterrupted one. Here each epoch's data order and each
dropout generator's state are functions of ``(seed, epoch)`` alone, so a resumed run repeats
the uninterrupted one exactly.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf


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
