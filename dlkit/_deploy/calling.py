"""The model as one compiled function of a batch: what predict, export and serve call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from dlkit._deploy.trained import TrainedRun, output_names, takes_dict

Arrays = dict[str, np.ndarray]
ModelCall = Callable[[Arrays], list[np.ndarray]]


def model_call(trained: TrainedRun) -> ModelCall:
    """``call({input: array}) -> [outputs in the model's order]`` for a run's model."""
    return compiled_call(trained.model)


def compiled_call(model: keras.Model) -> ModelCall:
    """``call({input: array}) -> [outputs in the model's order]``: `model` in inference mode
    as one `tf.function`, traced once for any batch size (a `model.predict_on_batch` per batch
    costs more than the batch itself on small models). String inputs go in as `tf.string`
    tensors (`model.predict` would take NumPy strings for numbers); a model built on a dict of
    inputs gets a dict, even of one."""
    import tensorflow as tf

    names = [t.name.split(":")[0] for t in model.inputs]
    specs = [tf.TensorSpec((None, *t.shape[1:]), t.dtype, name=n)
             for n, t in zip(names, model.inputs)]
    by_name = takes_dict(model) or len(names) > 1
    outputs = output_names(model)

    @tf.function(input_signature=specs, reduce_retracing=True)
    def call(*tensors: tf.Tensor) -> Any:
        args = dict(zip(names, tensors)) if by_name else tensors[0]
        return model(args, training=False)

    def run(arrays: Arrays) -> list[np.ndarray]:
        out = call(*(arrays[n] for n in names))
        if isinstance(out, dict):
            return [np.asarray(out[name]) for name in outputs]
        return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [
            np.asarray(out)]
    return run
