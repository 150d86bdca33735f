"""`Stream`, the streaming form of a dataset: samples read while training, through tf.data.

An array source (`dlkit._data.arrays.Arrays`) holds every sample in memory. A stream holds only
what names each sample (an image's path, a text file's path, a table's row) and a `read`
function from that to the sample; `batches` makes the tf.data pipeline that reads them in
parallel threads, a few batches ahead of training (prefetch), so memory stays flat however many
samples there are. The order of an epoch is a shuffle of indices (cheap: no sample is held in a
shuffle buffer), keyed by ``(seed, epoch)`` when the run must repeat exactly; under several
workers each worker reads only its share of every global batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import tensorflow as tf

from dlkit._data.arrays import held_out

Items = Any  # np.ndarray (N, ...) or a dict of them: what names each sample


@dataclass(frozen=True)
class Stream:
    """A dataset read while training.

    Attributes:
        x: one entry per training sample (paths, or a table's columns as a dict of arrays).
        y: the training labels, one per sample (class indices, or target values).
        read: a TensorFlow function from one entry of `x` to the model's input.
        x_val, y_val: the validation samples, when the source has them.
        classes: the class names (class index = position), or None.
        encoder: for a table with text, categorical or missing cells, the `Encoder` to put in
            front of the model (`dlkit._data.encoding`); else None.
    """

    x: Items
    y: np.ndarray
    read: Callable[[Any], Any]
    x_val: Items | None = None
    y_val: np.ndarray | None = None
    classes: tuple[str, ...] | None = None
    encoder: Any = None

    @property
    def count(self) -> int:
        return len(self.y)


def take(items: Items, index: np.ndarray) -> Items:
    """The entries of `items` at `index`."""
    if isinstance(items, dict):
        return {key: value[index] for key, value in items.items()}
    return items[index]


def split_stream(stream: Stream, fraction: float, seed: int | None) -> Stream:
    """Holds out a seeded, shuffled `fraction` of the samples for validation."""
    train, val = held_out(stream.count, fraction, seed)
    return replace(stream, x=take(stream.x, train), y=stream.y[train],
                   x_val=take(stream.x, val), y_val=stream.y[val])


def batches(x: Items, y: np.ndarray, read: Callable, *, batch_size: int, shuffle: bool,
            seed: int | None = None, epoch: tf.Variable | None = None,
            worker: tuple[int, int] = (0, 1), local_replicas: int = 1) -> tf.data.Dataset:
    """One epoch of ``(input, label)`` batches read from `x`, in parallel, prefetched.

    Args:
        batch_size: the global batch size.
        shuffle: an order keyed by ``(seed, epoch)``, `epoch` being the variable
            `dlkit._callbacks.seeds.EpochSeeds` sets as each epoch begins (a new order each
            epoch; without `epoch`, the order of epoch 0 every time). Keyed, not drawn from a
            random op: tf.data would restart such an op's state with each epoch's iterator.
        worker: ``(index, count)`` under several workers: every worker computes the same global
            order and reads only its slice of each global batch, ``batch_size / count`` samples;
            the last global batch is filled up from the start so that every worker runs the same
            number of steps. Its batches are then per replica: `local_replicas` per step, as
            `tf.distribute.Strategy.distribute_datasets_from_function` wants them.
    """
    count = len(y)
    steps = math.ceil(count / batch_size)
    index, workers = worker
    share = batch_size // workers
    features, labels = _constants(x), tf.constant(y)

    def order(_: tf.Tensor) -> tf.Tensor:
        positions = tf.range(count, dtype=tf.int64)
        if shuffle:
            number = epoch.read_value() if epoch is not None else tf.constant(0, tf.int64)
            key = tf.stack([tf.constant(seed or 0, tf.int64), number])
            positions = tf.random.experimental.stateless_shuffle(positions, seed=key)
        if workers > 1:
            filled = tf.tile(positions, [math.ceil(steps * batch_size / count)])
            grid = tf.reshape(filled[:steps * batch_size], (steps, batch_size))
            positions = tf.reshape(grid[:, index * share:(index + 1) * share], (-1,))
        return positions

    def sample(position: tf.Tensor) -> tuple[Any, tf.Tensor]:
        picked = tf.nest.map_structure(lambda column: tf.gather(column, position), features)
        return read(picked), tf.gather(labels, position)

    dataset = tf.data.Dataset.from_tensors(0).map(order).unbatch().map(
        sample, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.batch(share // local_replicas if workers > 1 else batch_size)
    steps *= local_replicas if workers > 1 else 1
    return dataset.apply(tf.data.experimental.assert_cardinality(steps)).prefetch(
        tf.data.AUTOTUNE)


def in_order(x: Items, y: np.ndarray, read: Callable, batch_size: int) -> tf.data.Dataset:
    """The samples in their order, batched: validation data."""
    return batches(x, y, read, batch_size=batch_size, shuffle=False)


def _constants(x: Items) -> Any:
    if isinstance(x, dict):
        return {key: tf.constant(value) for key, value in x.items()}
    return tf.constant(x)
