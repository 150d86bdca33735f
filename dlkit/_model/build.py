"""Stage 5: a plan becomes a compiled, built `keras.Model`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import keras
import tensorflow as tf

from dlkit._core.errors import Problem, SpecError
from dlkit._data.encoding import Encoder
from dlkit._model.autoencoder import autoencoder_model
from dlkit._model.base import assemble_with_base
from dlkit._model.gan import compile_gan, gan_model
from dlkit._model.networks import graph_model
from dlkit._model.vae import vae_model
from dlkit._plan.load import plan_for
from dlkit._plan.parts import PartError, make
from dlkit._plan.plan import Plan
from dlkit._plan.shapes import locate_shape_error
from dlkit._spec.spec import Spec

MIRRORED_STRATEGIES = (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy)


def build(spec: Spec | Mapping[str, Any] | str | os.PathLike[str]) -> keras.Model:
    """Builds and compiles the model a spec describes.

    The result is a plain `keras.Sequential` (a stack of layers) or functional `keras.Model`
    (a graph, or an autoencoder of an ``encoder`` and a ``decoder`` model): the same layers,
    configs, optimizer and loss as the network written by hand in Keras, so it trains, saves
    and serves like one. A GAN and a VAE are `keras.Model` subclasses (with ``generator`` and
    ``discriminator``, or ``encoder`` and ``decoder`` models) whose ``train_step`` trains
    them as the Keras guides do (``model.fit(x)``).

    Args:
        spec: a `Spec`, or anything `dlkit.load_spec` takes.

    Returns:
        A compiled and built `keras.Model`.

    Raises:
        SpecError: the spec is invalid, or its layers do not fit together (shapes), with the
            path of the first layer that cannot take its input.

    Example:
        >>> model = dlkit.build("examples/digits_mlp.yaml")
        >>> model.fit(x, y, epochs=5, callbacks=dlkit.callbacks(spec))
    """
    return build_plan(plan_for(spec))


def build_plan(plan: Plan, *, encoder: Encoder | None = None) -> keras.Model:
    """The compiled model of a plan; every Keras object in it is new.

    Args:
        encoder: for a table's raw columns, the encoding to put in front of the layers.
    """
    try:  # in the order a hand-written script makes them, for the same random draws
        if plan.model.gan is not None:
            return compile_gan(gan_model(plan), plan,
                               steps_per_execution=steps_per_execution(plan))
        if plan.model.autoencoder is not None:
            model = vae_model(plan) if plan.model.kind == "vae" else autoencoder_model(plan)
        elif plan.model.base is not None:
            model = assemble_with_base(plan)
        elif plan.model.graph is not None:
            model = graph_model(plan.model.graph, plan.name)
        else:
            layers = [part.make() for part in plan.model.layers]
            model = _assemble(plan, layers) if encoder is None else \
                encoder.attach(layers, plan.name)
    except PartError as exc:  # validation made the same parts; only a changed Keras gets here
        raise SpecError(Problem(exc.path, exc.message)) from None
    return compile_plan(model, plan)


def compile_plan(model: keras.Model, plan: Plan, *,
                 optimizer: keras.optimizers.Optimizer | None = None) -> keras.Model:
    """Compiles `model` with the plan's optimizer (or `optimizer`, another model's, shared as
    it is), losses, metrics and loss weights (new objects)."""
    try:
        shared, optimizer = optimizer, optimizer or plan.compile.optimizer.make()
        loss = make(plan.compile.loss)
        metrics = make(plan.compile.metrics)
    except PartError as exc:
        raise SpecError(Problem(exc.path, exc.message)) from None
    if plan.runtime.precision == "mixed_float16" and shared is None:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    weights = plan.compile.loss_weights
    model.compile(optimizer=optimizer, loss=loss, metrics=_per_output(plan, metrics),
                  loss_weights=dict(weights) if weights is not None else None,
                  steps_per_execution=steps_per_execution(plan))
    return model


def _per_output(plan: Plan, metrics: Any) -> Any:
    """Metrics listed for a model of one named output, keyed by its name as Keras wants."""
    [first, *others] = plan.compile.outputs
    if isinstance(metrics, list) and first.name is not None and not others:
        return {first.name: metrics}
    return metrics


def steps_per_execution(plan: Plan) -> int:
    """Several batches per call, except under mirrored strategies, where Keras' loop over
    several steps fails (keras-team/keras#19246: a merge_call inside its tf.cond)."""
    mirrored = isinstance(tf.distribute.get_strategy(), MIRRORED_STRATEGIES)
    steps = plan.runtime.steps_per_execution
    if steps == "auto":
        return 1 if mirrored else plan.runtime.auto_steps
    if mirrored and steps > 1:
        raise SpecError(Problem("runtime.steps_per_execution", f"{steps} batches per call do "
                                "not work under a mirrored strategy in this Keras "
                                f"({keras.__version__}; keras-team/keras#19246); use auto or 1"))
    return steps


def _assemble(plan: Plan, layers: list) -> keras.Model:
    shape, dtype = plan.model.input_shape, plan.model.input_dtype
    try:
        return keras.Sequential([keras.Input(shape=shape, dtype=dtype), *layers], name=plan.name)
    except Exception as exc:  # noqa: BLE001 - located and reported with the layer's path below
        raise SpecError(locate_shape_error(list(plan.model.layers), shape, exc, dtype)) from None
