"""Preprocessing layers adapted on the training split before training, and kept for --resume.

A spec's `Normalization`, `TextVectorization`, `StringLookup`, `IntegerLookup`,
`Discretization` (any layer with an ``adapt`` method whose state the spec did not give, like
``mean`` or ``vocabulary``) learns its state from the training split only, never the validation
data, as a hand-written script calls ``layer.adapt(x_train)``. A layer deeper in the model adapts
on what reaches it: the training inputs passed through the layers before it (in inference mode,
so augmentation layers do nothing). The adapted model is written to ``adapted.keras`` in the run
directory before training; ``--resume`` loads it instead of adapting again (a vocabulary is not
part of the weights a backup holds).
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

import dlkit._data.encoding  # noqa: F401 - registers FillMissing for loading adapted models
from dlkit._core.errors import DataError, Problem, first_line
from dlkit._core.files import write_atomic
from dlkit._model.build import compile_plan
from dlkit._plan.plan import Plan

ADAPTED_FILE = "adapted.keras"
GIVEN_STATE = ("mean", "vocabulary", "bin_boundaries", "fill_value")  # config keys of set state


def needs_adapting(layer: keras.layers.Layer) -> bool:
    """A layer with an ``adapt`` method whose state was not given in its arguments."""
    if not callable(getattr(layer, "adapt", None)) or isinstance(layer, keras.Model):
        return False
    config = layer.get_config()
    return all(config.get(key) is None for key in GIVEN_STATE)


def adapt_layers(model: keras.Model, inputs: tf.data.Dataset) -> list[str]:
    """Adapts every layer of `model` that `needs_adapting`, in order, on `inputs` (batches of
    the training split's inputs); returns their names.

    Raises:
        DataError: a layer refused the data (text for a Normalization, numbers for a
            TextVectorization), naming the layer.
    """
    adapted = []
    for index, layer in enumerate(model.layers):
        if not needs_adapting(layer):
            continue
        features = _reaching(model, layer, inputs)
        try:
            layer.adapt(features)
        except Exception as exc:  # noqa: BLE001 - Keras' own message, with the layer's place
            raise DataError(Problem(f"model.layers[{index}]", f"{type(layer).__name__} could "
                                    f"not adapt to the training data: {first_line(exc)[:300]}")
                            ) from None
        adapted.append(layer.name)
    return adapted


def _reaching(model: keras.Model, layer: keras.layers.Layer,
              inputs: tf.data.Dataset) -> tf.data.Dataset:
    """The batches that reach `layer` when `inputs` go into the model."""
    entry = layer.input
    if any(entry is tensor for tensor in model.inputs):
        if len(model.inputs) == 1:
            return inputs
        return inputs.map(lambda x: x[entry.name])
    structure = model.inputs[0] if len(model.inputs) == 1 else model.input
    upstream = keras.Model(structure, entry)

    def reach(x: tf.Tensor) -> tf.Tensor:  # in float32 also under a mixed precision policy
        value = upstream(x, training=False)
        return tf.cast(value, tf.float32) if value.dtype.is_floating else value

    return inputs.map(reach)


def save_adapted(run_dir: Path, model: keras.Model) -> None:
    """Writes the adapted, untrained model where --resume finds it."""
    write_atomic(run_dir / ADAPTED_FILE, lambda tmp: model.save(tmp))


def load_adapted(run_dir: Path, plan: Plan) -> keras.Model | None:
    """The run's adapted model, compiled as the plan says; None when the run has none."""
    path = run_dir / ADAPTED_FILE
    if not path.is_file():
        return None
    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    return compile_plan(model, plan)
