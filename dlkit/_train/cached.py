"""A frozen base's outputs computed once: the head trains on them instead of running the base
at every step of every epoch.

When a phase trains nothing in front of the head (the base is frozen, and nothing in the base
or its preprocessing is random, so with ``training=True`` it computes exactly what it computes
in inference mode: its BatchNormalization layers are frozen), every epoch feeds the same
images through the same function. Then the base's outputs are computed once per split, in
inference mode and in batches, and a head model, made of the full model's own head layers
(their weights are the full model's), trains on them with the full model's optimizer.

Everything a user sees stays as before: every callback (dlkit's and the user's) is given the
full model, through `OnFullModel`, so checkpoints, backups, ``--resume`` and early stopping's
restored weights are the full model's, and the history, TensorBoard curves and ``model.keras``
are those of the same run uncached. ``run.json`` records ``cached_base`` (and the seconds the
outputs took), or why it could not be used.

Not cached (trained as before): a graph model, data that is not arrays in memory (a stream, a
`tf.data.Dataset`), ``deterministic: true`` (its resumed run must repeat the uncached one
bit for bit, which features computed in other batches do not promise), a distributed strategy,
a base with a random layer (Dropout, noise, augmentation) or an activity regularizer, and a
phase where anything in front of the head trains (the fine-tuning phase).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from dlkit._compat.callbacks import initial_epoch_of, set_initial_epoch
from dlkit._model.base import base_of
from dlkit._model.build import compile_plan
from dlkit._model.layers import every_layer
from dlkit._plan.plan import Plan
from dlkit._train import rundir

BATCH = 256  # samples per batch while the base's outputs are computed
DISTRIBUTED = (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy,
               tf.distribute.TPUStrategy)
HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
         "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end",
         "on_epoch_begin", "on_test_begin", "on_test_end", "on_predict_begin",
         "on_predict_end", "on_train_end")

# fit(epochs, initial_epoch, callbacks, model=..., fit_args=..., passed=...): train.py's
Fit = Callable[..., None]


def caching(fit: Fit, model: keras.Model, plan: Plan, fit_args: dict,
            strategy: tf.distribute.Strategy, run_dir: Path) -> Fit:
    """`fit` (one `model.fit` of the run), made to train the head on the base's outputs
    computed once whenever the phase it runs allows it (see the module's docstring)."""
    def phase(epochs: int, first: int, cbs: list) -> None:
        front, head = split_at_base(model) if plan.model.base is not None else ([], [])
        if not head or any(layer.trainable_weights for layer in front):
            return fit(epochs, first, cbs)  # no base or head, or the base trains now
        why = refusal(plan, front, fit_args, strategy)
        if why is not None:
            rundir.mark(run_dir, "running", cached_base=False, cached_base_why=why)
            return fit(epochs, first, cbs)
        started = time.perf_counter()
        with strategy.scope():
            args, head_model = head_on_features(model, plan, head, fit_args)
        seconds = round(time.perf_counter() - started, 3)
        rundir.mark(run_dir, "running", cached_base=True, cached_base_seconds=seconds)
        return fit(epochs, first, cbs, model=head_model, fit_args=args,
                   passed=[OnFullModel(cbs, model)])
    return phase


def split_at_base(model: keras.Model) -> tuple[list, list]:
    """A stack's layers up to its base (its input left out), and the head's after it."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    at = layers.index(base_of(model)) + 1
    return layers[:at], layers[at:]


def refusal(plan: Plan, front: list, fit_args: dict,
            strategy: tf.distribute.Strategy) -> str | None:
    """Why the base's outputs cannot stand in for the base in this frozen phase, or None."""
    validation = fit_args.get("validation_data")
    if not plan.model.base.cache:
        return "model.base.cache is false"
    if plan.model.graph is not None:
        return "a graph model"
    if plan.deterministic:
        return "deterministic: true"
    if isinstance(strategy, DISTRIBUTED):
        return "a distributed strategy"
    if not isinstance(fit_args.get("x"), np.ndarray) or not (
            validation is None or all(isinstance(a, np.ndarray) for a in validation)):
        return "the data is not arrays in memory"
    for layer in every_layer(front):
        if any(isinstance(value, keras.random.SeedGenerator) for value in vars(layer).values()):
            return f"the base's layer {layer.name} is random"
        if getattr(layer, "activity_regularizer", None) is not None:
            return f"the base's layer {layer.name} has an activity regularizer"
    return None


def head_on_features(model: keras.Model, plan: Plan, head: list,
                     fit_args: dict) -> tuple[dict, keras.Model]:
    """`fit`'s arguments with the base's outputs in place of the images, and the head model
    that trains on them: the full model's head layers, compiled with its optimizer."""
    base = keras.Model(model.inputs, head[0].input)  # the full model's own tensors
    features = base.predict(fit_args["x"], batch_size=BATCH, verbose=0)
    validation = fit_args.get("validation_data")
    if validation is not None:
        validation = (base.predict(validation[0], batch_size=BATCH, verbose=0), validation[1])
    tensor = head_inputs = keras.Input(shape=features.shape[1:], dtype=str(features.dtype))
    for layer in head:
        tensor = layer(tensor)
    head_model = keras.Model(head_inputs, tensor, name=f"{model.name}_head")
    compile_plan(head_model, plan, optimizer=model.optimizer)
    return {**fit_args, "x": features, "validation_data": validation}, head_model


class OnFullModel(keras.callbacks.Callback):
    """The run's callbacks, while `fit` trains the head model: each is given the full model
    (what they save, restore, stop and log), and what they ask of it (stop; start at a
    restored backup's epoch) is passed on to the head model `fit` trains."""

    def __init__(self, callbacks: list[keras.callbacks.Callback], full: keras.Model) -> None:
        super().__init__()
        self.callbacks, self.full = callbacks, full
        for hook in HOOKS:  # only to the callbacks that do something there (per batch: speed)
            acting = [getattr(c, hook) for c in callbacks if _acts(c, hook)]
            setattr(self, hook, self._forward(acting))

    def set_model(self, model: keras.Model) -> None:
        super().set_model(model)
        for callback in self.callbacks:
            callback.set_model(self.full)

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        for callback in self.callbacks:
            callback.set_params(params)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.full.stop_training = False
        for callback in self.callbacks:
            callback.on_train_begin(logs)
        first = initial_epoch_of(self.full)  # a restored backup's
        if first is not None:
            set_initial_epoch(self.model, first)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)
        self.model.stop_training = self.model.stop_training or self.full.stop_training

    def _forward(self, acting: list[Callable]) -> Callable:
        def hook(*args: Any, **kwargs: Any) -> None:
            for method in acting:
                method(*args, **kwargs)
            if self.full.stop_training:  # a NaN guard stops at a batch's end
                self.model.stop_training = True
        return hook


def _acts(callback: keras.callbacks.Callback, hook: str) -> bool:
    """Whether `callback` does anything at `hook` (Keras' default ``on_train_batch_*`` calls
    the older ``on_batch_*``)."""
    names = (hook, hook.replace("train_", "")) if "train_batch" in hook else (hook,)
    return any(getattr(getattr(callback, name), "__func__", None)
               is not getattr(keras.callbacks.Callback, name) for name in names)
