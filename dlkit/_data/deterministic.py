"""``deterministic: true``: the data order derived from the seed and the epoch, not process state.

Keras shuffles each epoch and draws dropout masks from generators whose state lives in the
process (the dropout state is not even in a backup), so a run resumed after a crash would see
other batches and other masks than an uninterrupted one. Here each epoch's data order and each
dropout generator's state are functions of ``(seed, epoch)`` alone, so a resumed run repeats
the uninterrupted one exactly.
"""

from __future__ import annotations

import math

import tensorflow as tf

from dlkit._data.arrays import Data, count


def epoch_keyed_batches(x: Data, y: Data, *, batch_size: int, seed: int,
                        epoch: tf.Variable) -> tf.data.Dataset:
    """One epoch of batches, in an order fixed by ``(seed, epoch)``.

    The epoch is read from the variable `epoch` each time Keras starts iterating the dataset
    (once an epoch, after ``on_epoch_begin``, where `EpochSeeds` sets it). One dataset per
    epoch, rather than all epochs in one stream, keeps epochs whole when several batches run
    per call (``steps_per_execution``): Keras would otherwise let a call run on into the next
    epoch's batches. `x` and `y` are arrays, or dicts of arrays for several inputs or outputs.
    """
    samples = count(x)
    steps = math.ceil(samples / batch_size)
    features, labels = tf.nest.map_structure(tf.constant, (x, y))

    def order(_: tf.Tensor) -> tf.Tensor:
        key = tf.stack([tf.constant(seed, tf.int64), epoch.read_value()])
        return tf.random.experimental.stateless_shuffle(tf.range(samples), seed=key)

    def gather(index: tf.Tensor) -> tuple:
        return tf.nest.map_structure(lambda t: tf.gather(t, index), (features, labels))

    dataset = tf.data.Dataset.from_tensors(0).map(order).unbatch().batch(batch_size).map(gather)
    return dataset.apply(tf.data.experimental.assert_cardinality(steps)).prefetch(
        tf.data.AUTOTUNE)
