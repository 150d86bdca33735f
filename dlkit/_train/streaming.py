"""A `Stream` (files or a table read while training) turned into `model.fit`'s arguments.

Everything that can be known about the data before training is checked here, before the run
directory exists: the validation split, labels against the loss and the output layer, the
table encoding's width against the input shape, the batch size against the workers.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import tensorflow as tf

from dlkit._callbacks.seeds import EpochSeeds
from dlkit._core.errors import DataError, Problem
from dlkit._data.labels import fit_labels
from dlkit._data.stream import Stream, batches, in_order, split_stream
from dlkit._plan.callbacks import check_monitors
from dlkit._plan.plan import Plan


def checked_stream(plan: Plan, stream: Stream) -> Stream:
    """The stream split for validation, its labels fitted to the loss, its encoder sized.

    Raises:
        DataError: labels that do not fit the loss or the output layer, an encoding whose width
            is not the model's input shape, or a split that leaves nothing to train on.
    """
    fraction = (plan.data or {}).get("validation_split", 0.2)
    if stream.y_val is None and fraction:
        stream = split_stream(stream, fraction, plan.seed)
    loss, shape = plan.compile.loss_name, plan.model.output_shape
    y = fit_labels(stream.y, loss_name=loss, output_shape=shape)
    y_val = None if stream.y_val is None else fit_labels(
        stream.y_val, loss_name=loss, output_shape=shape, which="y_val")
    stream = replace(stream, y=y, y_val=y_val)
    if stream.encoder is not None:
        stream = replace(stream, encoder=stream.encoder.sized(stream.x))
        width, want = stream.encoder.width, list(plan.model.input_shape)
        if want != [width]:
            raise DataError(Problem("model.input_shape", f"the table's columns encode to {width} "
                                    f"features per row ({stream.encoder.describe()}) but "
                                    f"model.input_shape is {want}; set it to [{width}]"))
    check_monitors(plan.compile.metric_names, plan.callbacks,
                   has_validation=stream.y_val is not None)
    return stream


def stream_fit_arguments(plan: Plan, stream: Stream, *, strategy: tf.distribute.Strategy,
                         workers: int, first_epoch: int) -> tuple[dict, list]:
    """`model.fit`'s data arguments for a checked stream, and the callbacks its order needs.

    The order of each epoch is keyed by ``(seed, epoch)``, the epoch set by `EpochSeeds`: the
    spec's seed, else a random one (0 under several workers, which must agree on the order;
    each reads only its share of the files, `dlkit._data.stream.batches`).
    """
    batch = stream.count if plan.fit.batch_size == "full" else plan.fit.batch_size
    if stream.encoder is not None and strategy.num_replicas_in_sync > 1 and any(
            column.categorical for column in stream.encoder.columns):
        raise DataError(Problem("runtime.strategy", "a table with text columns cannot be split "
                                f"over {strategy.num_replicas_in_sync} replicas: TensorFlow "
                                "cannot gather string batches across devices (AddN has no "
                                "string kernel); train it with strategy: cpu or gpu"))
    if workers > 1 and batch % workers:
        raise DataError(Problem("train.batch_size", f"the global batch of {batch} samples does "
                                f"not split evenly over {workers} workers; make it a multiple "
                                f"of {workers}"))
    seed = plan.seed if plan.seed is not None else \
        0 if workers > 1 else int(np.random.default_rng().integers(2**31))
    epoch = tf.Variable(first_epoch, dtype=tf.int64, trainable=False, name="dlkit_epoch")
    common = {"read": stream.read, "batch_size": batch, "shuffle": plan.fit.shuffle,
              "seed": seed, "epoch": epoch}
    if workers > 1:
        def per_worker(context: tf.distribute.InputContext) -> tf.data.Dataset:
            return batches(stream.x, stream.y, **common, worker=(
                context.input_pipeline_id, context.num_input_pipelines),
                local_replicas=context.num_replicas_in_sync // context.num_input_pipelines)

        train = strategy.distribute_datasets_from_function(per_worker)
    else:
        train = batches(stream.x, stream.y, **common)
    callbacks = [EpochSeeds(seed, epoch, generators=plan.deterministic)]
    return {"x": train, "shuffle": False, "validation_data": validation_batches(stream, batch)}, \
        callbacks


def validation_batches(stream: Stream, batch_size: int) -> tf.data.Dataset | None:
    """The validation samples in order, batched (read once an epoch)."""
    if stream.y_val is None:
        return None
    return in_order(stream.x_val, stream.y_val, stream.read, batch_size)


def stream_inputs(stream: Stream, batch_size: int = 256) -> tf.data.Dataset:
    """The training split's inputs alone, in order: what preprocessing layers adapt on."""
    return in_order(stream.x, np.zeros(stream.count, "int8"), stream.read, batch_size).map(
        lambda x, _: x)
