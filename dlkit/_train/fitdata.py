"""The data a run trains on, loaded and checked against the plan before anything is written."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from dlkit._callbacks.seeds import EpochSeeds
from dlkit._core.errors import DataError, Problem, SpecError
from dlkit._data.arrays import (Arrays, as_targets, by_name, count, from_user, split,
                                unlabeled)
from dlkit._data.deterministic import epoch_keyed_batches
from dlkit._data.labels import fit_labels
from dlkit._data.sources import load
from dlkit._data.stream import Stream
from dlkit._plan.callbacks import check_monitors
from dlkit._plan.parts import make
from dlkit._plan.plan import OutputPlan, Plan


def load_data(plan: Plan, data: Any) -> Arrays | Stream | tf.data.Dataset:
    """The data a run trains on, loaded (arrays) or listed (a `Stream`), not yet checked.

    Args:
        plan: the run's plan.
        data: what `dlkit.train` was given: None (the spec's data section), ``(x, y)``,
            ``(x, y, x_val, y_val)``, or a `tf.data.Dataset` of batches (a model that learns
            from samples alone also takes ``x``: `dlkit._data.arrays.unlabeled`).

    Raises:
        SpecError: no data at all.
        DataError: data that cannot be loaded.
    """
    if isinstance(data, tf.data.Dataset):  # batched and shuffled by its maker
        return data
    input_shape = _input_shapes(plan)
    if data is None:
        if plan.data is None:
            raise SpecError(Problem("data", "no data: add a data section (e.g. source: digits) "
                                    "or pass data= to dlkit.train"))
        _check_source(plan)
        return load(make(plan.data), input_shape=input_shape, seed=plan.seed,
                    labels=plan.model.supervised)
    return from_user(data if plan.model.supervised else unlabeled(data), input_shape)



def fit_arguments(plan: Plan, data: Any) -> dict[str, Any]:
    """Loads and checks array data (or takes a `tf.data.Dataset` as it is); returns
    `model.fit`'s data arguments.

    Args:
        plan: the run's plan.
        data: as `load_data` takes it, or what it returned (but not a `Stream`).

    Raises:
        SpecError: no data at all, or a monitor the run will never log.
        DataError: data that cannot be loaded or does not fit the model.
    """
    arrays = data if isinstance(data, Arrays) else load_data(plan, data)
    if isinstance(arrays, tf.data.Dataset):
        return {"x": arrays, "shuffle": False}
    arrays = _held_out(arrays, plan)
    check_monitors(plan.compile.metric_names, plan.callbacks,
                   has_validation=arrays.x_val is not None)
    batch = plan.fit.batch_size
    return {"x": arrays.x, "y": arrays.y, "shuffle": plan.fit.shuffle,
            "batch_size": count(arrays.x) if batch == "full" else batch,
            "validation_data": None if arrays.x_val is None else (arrays.x_val, arrays.y_val)}



def split_arrays(plan: Plan, data: Any = None) -> Arrays:
    """The run's arrays as training sees them: loaded (the spec's data section, or `data` as
    given to `dlkit.train`, or the `Arrays` `load_data` returned), shaped to the model, labels
    fitted to the loss, and validation held out the way training holds it out (the same seed
    gives the same split).

    Raises:
        SpecError: no data at all.
        DataError: data that cannot be loaded or does not fit the model, or a source that
            streams from files (images, text) and is never held in memory whole.
    """
    arrays = data if isinstance(data, Arrays) else load_data(plan, data)
    if not isinstance(arrays, Arrays):
        raise DataError(Problem("data.source", f"source {plan.data['source']} streams from "
                                "files and is not held in memory whole"))
    return _held_out(arrays, plan)



def _held_out(arrays: Arrays, plan: Plan) -> Arrays:
    """Labels fitted to the loss, and the seeded validation split when the data has none (for
    a model that learns from samples alone, the samples as targets)."""
    fraction = (plan.data or {}).get("validation_split", 0.2)
    if not plan.model.supervised:
        return as_targets(arrays, fraction, plan.seed)
    arrays = _with_labels_fitted(arrays, plan)
    if arrays.x_val is None and fraction:
        arrays = split(arrays, fraction, plan.seed)
    return arrays



def _input_shapes(plan: Plan) -> list | dict[str, list]:
    """The input shape, or for a graph of several inputs input name -> shape."""
    if plan.model.input_shape is not None:
        return list(plan.model.input_shape)
    return {name: list(shape) for name, shape in plan.model.graph.inputs.items()}



def _check_source(plan: Plan) -> None:
    """Only npz files hold arrays for several inputs or outputs."""
    several = [what for what, count_ in (("inputs", len(_input_names(plan))),
                                         ("outputs", len(plan.compile.outputs))) if count_ > 1]
    if several and plan.data["source"] != "npz":
        raise DataError(Problem("data.source", f"source {plan.data['source']} gives one x and "
                                f"one y, but the model has several {' and '.join(several)}; use "
                                "source: npz with arrays x_<input> and y_<output>, or pass "
                                "dicts of arrays keyed by those names to dlkit.train"))



def _input_names(plan: Plan) -> list[str]:
    graph = plan.model.graph
    return list(graph.inputs) if graph is not None else ["x"]



def _with_labels_fitted(arrays: Arrays, plan: Plan) -> Arrays:
    """Labels in the form each output's loss expects (one array, or a dict by output name)."""
    outputs = plan.compile.outputs
    names = [out.name or "y" for out in outputs]
    samples = count(arrays.x)

    def fitted(y: Any, which: str) -> Any:
        y = by_name(y, names, which, what="output")
        train = samples if which == "y" else None
        if len(outputs) == 1:
            return _fit(y, outputs[0], which, train)
        suffix = which.removeprefix("y")
        return {out.name: _fit(y[out.name], out, f"y_{out.name}{suffix}", train)
                for out in outputs}

    y = fitted(arrays.y, "y")
    y_val = None if arrays.y_val is None else fitted(arrays.y_val, "y_val")
    if arrays.x_val is not None and y_val is not None and count(arrays.x_val) != count(y_val):
        raise DataError(Problem("data", f"x_val has {count(arrays.x_val)} samples but y_val "
                                f"has {count(y_val)}"))
    return Arrays(arrays.x, y, arrays.x_val, y_val, arrays.classes)



def _fit(y: Any, output: OutputPlan, which: str, samples: int | None) -> Any:
    if samples is not None and len(y) != samples:
        raise DataError(Problem("data", f"x has {samples} samples but {which} has {len(y)}"))
    return fit_labels(y, loss_name=output.loss_name, output_shape=output.shape, which=which,
                      path=output.path)



def deterministic(fit_args: dict, plan: Plan, first_epoch: int) -> tuple[dict, list]:
    """Data order and dropout from ``(seed, epoch)``, so that a resumed run repeats exactly."""
    seed = plan.seed if plan.seed is not None else 0
    epoch = tf.Variable(first_epoch, dtype=tf.int64, trainable=False, name="dlkit_epoch")
    if "y" in fit_args and fit_args["shuffle"]:
        batches = epoch_keyed_batches(fit_args["x"], fit_args["y"], seed=seed, epoch=epoch,
                                      batch_size=fit_args["batch_size"])
        fit_args = {"x": batches, "shuffle": False,
                    "validation_data": _in_order(fit_args["validation_data"],
                                                 fit_args["batch_size"])}
    return fit_args, [EpochSeeds(seed, epoch)]


def _in_order(validation: tuple | None, batch_size: int) -> tf.data.Dataset | None:
    """Validation arrays as plain batches in order. (Keras slices arrays with a parallel map,
    which TensorFlow turns sequential under op determinism, printing a C++ error line about
    ``use_unbounded_threadpool`` at every run.)"""
    if validation is None:
        return None
    return tf.data.Dataset.from_tensor_slices(validation).batch(batch_size)


def training_inputs(fit_args: dict, batch_size: int = 256) -> tf.data.Dataset:
    """The training inputs alone, batched, before any epoch-keyed reordering: what preprocessing
    layers adapt on."""
    if isinstance(fit_args["x"], tf.data.Dataset):
        return fit_args["x"].map(lambda x, *_: x)
    return tf.data.Dataset.from_tensor_slices(fit_args["x"]).batch(batch_size)
