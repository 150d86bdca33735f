"""The model as one compiled function of a batch: what predict and serve call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dlkit._deploy.trained import TrainedRun

Arrays = dict[str, np.ndarray]


def model_call(trained: TrainedRun) -> Callable[[Arrays], list[np.ndarray]]:
    """``call({input: array}) -> [outputs in the model's order]``: the model in inference mode
    as one `tf.function`, traced once for any batch size (a `model.predict_on_batch` per batch
    costs more than the batch itself on small models)."""
    import tensorflow as tf

    inputs = trained.inputs
    specs = [tf.TensorSpec((None, *i.shape), i.dtype, name=i.name) for i in inputs]

    @tf.function(input_signature=specs, reduce_retracing=True)
    def call(*tensors: tf.Tensor) -> Any:
        args = tensors[0] if len(tensors) == 1 else {i.name: t for i, t in zip(inputs, tensors)}
        return trained.model(args, training=False)

    def run(arrays: Arrays) -> list[np.ndarray]:
        out = call(*(arrays[i.name] for i in inputs))
        if isinstance(out, dict):
            return [np.asarray(out[name]) for name in trained.output_names]
        return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [
            np.asarray(out)]
    return run
