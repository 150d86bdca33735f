"""The encoding of a table's raw columns, made of Keras preprocessing layers inside the model.

Each column is one named model input of shape ``[1]``: a numeric column (float32, a missing
value is NaN) goes through `FillMissing` (the training mean) and `keras.layers.Normalization`;
a categorical column (a string, a missing value is the empty string) through
`keras.layers.StringLookup` one-hot (an unseen category counts as ``[UNK]``, a blank cell is all
zeros). The encodings are concatenated and fed to the spec's layers; every one of these layers
is adapted on the training split before training (`dlkit._train.adapt`), so the saved model
predicts on raw rows. The width of the encoding is known from the training split before
anything is built.

Keras has no layer that fills missing values; `FillMissing` is registered with Keras as
``dlkit>FillMissing``, so a model holding it loads in safe mode wherever dlkit is imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="dlkit")
class FillMissing(keras.layers.Layer):
    """Replaces missing values (NaN) by `fill_value`, by default the mean `adapt` finds.

    Args:
        fill_value: the value put in place of NaN; None until adapted.
    """

    def __init__(self, fill_value: float | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.fill_value = fill_value

    def adapt(self, data) -> None:
        """Sets `fill_value` to the mean of the values that are not NaN in `data` (batches)."""
        total, count = 0.0, 0
        for batch in data if not isinstance(data, np.ndarray) else [data]:
            values = np.asarray(batch, dtype="float64")
            present = values[~np.isnan(values)]
            total, count = total + float(present.sum()), count + present.size
        self.fill_value = total / count if count else 0.0

    def call(self, inputs):
        fill = 0.0 if self.fill_value is None else self.fill_value
        return ops.where(ops.isnan(inputs), ops.cast(fill, inputs.dtype), inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "fill_value": self.fill_value}


@dataclass(frozen=True)
class Column:
    """One feature column: its name in the file, its model input's name, its kind, and for a
    categorical column how many distinct values (blank aside) the training split holds."""

    name: str
    input: str
    categorical: bool
    values: int = 0

    @property
    def width(self) -> int:
        """Its part of the encoding: 1, or one per category plus one for unseen ones."""
        return self.values + 1 if self.categorical else 1


def input_name(column: str) -> str:
    """A column's model input name: the column name, with characters other than letters,
    digits, ``_``, ``.`` and ``-`` replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", column.strip()) or "column"


@dataclass(frozen=True)
class Encoder:
    """The encoding of a table's columns, put in front of the spec's layers."""

    columns: tuple[Column, ...]

    def sized(self, x: dict) -> Encoder:
        """The encoder with each categorical column's number of values in training columns
        `x` (a lookup layer's width is fixed when it is first called)."""
        return Encoder(tuple(
            replace(c, values=len({v for v in np.asarray(x[c.input]).reshape(-1) if v != ""}))
            if c.categorical else c for c in self.columns))

    @property
    def width(self) -> int:
        return sum(c.width for c in self.columns)

    def describe(self) -> str:
        """Each column's part of the width, like ``age: 1, city: 4``."""
        return ", ".join(f"{c.name}: {c.width}" for c in self.columns)

    def attach(self, layers: list, name: str) -> keras.Model:
        """A functional model: the raw columns, encoded, then `layers` in order."""
        inputs = {c.input: keras.Input(shape=(1,), name=c.input,
                                       dtype="string" if c.categorical else "float32")
                  for c in self.columns}
        parts = [keras.layers.StringLookup(output_mode="one_hot", mask_token="",
                                           max_tokens=c.width, pad_to_max_tokens=True,
                                           name=f"lookup_{c.input}")(inputs[c.input])
                 if c.categorical else
                 keras.layers.Normalization(name=f"normalize_{c.input}")(
                     FillMissing(name=f"fill_{c.input}")(inputs[c.input]))
                 for c in self.columns]
        tensor = keras.layers.Concatenate(name="columns")(parts) if len(parts) > 1 else parts[0]
        for layer in layers:
            tensor = layer(tensor)
        return keras.Model(inputs, tensor, name=name)
