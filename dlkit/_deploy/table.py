"""Model outputs as rows of a predictions table.

One row per sample. For one output: ``prediction`` (the class name for a classifier, else the
value; ``prediction_<i>`` for an output of several values) and ``p_<class>`` per class for a
classifier. For several outputs every column is prefixed with the output's name:
``<output>.prediction``, ``<output>.p_<class>``, each output a classifier or not by its own
loss. Rows read from files start with ``file``.

The table is a list of `Columns`, each a group of column names and the function that fills them
from a batch (its inputs and the model's outputs), so a kind of model with more to say per
sample (an autoencoder's anomaly score and flag) adds its own group after these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dlkit._deploy.readers.base import Batch
from dlkit._deploy.trained import TrainedRun, class_of

# One batch (the model's inputs, row names) and the model's outputs -> cells, a list per sample.
Cells = Callable[[Batch, list[np.ndarray]], list[list[str]]]


@dataclass(frozen=True)
class Columns:
    """Some columns of the table and how a batch fills them."""

    names: tuple[str, ...]
    cells: Cells


def prediction_columns(run: TrainedRun, id_column: str | None,
                       extra: Sequence[Columns] = ()) -> list[Columns]:
    """The table of a run's predictions: the row names (if any), each output's columns, then
    `extra`."""
    groups = [Columns((id_column,), lambda batch, _: [[i] for i in batch.ids or []])] \
        if id_column else []
    several = len(run.output_names) > 1
    for index, name in enumerate(run.output_names):
        groups.append(_output_columns(run, name, index, f"{name}." if several else ""))
    return [*groups, *extra]


def header(groups: Sequence[Columns]) -> list[str]:
    """The table's column names."""
    return [name for group in groups for name in group.names]


def rows(groups: Sequence[Columns], batch: Batch, outputs: list[np.ndarray]) -> list[list[str]]:
    """The table's rows for one batch and the model's outputs for it (in the model's order)."""
    parts = [group.cells(batch, outputs) for group in groups]
    return [[cell for group in cells for cell in group] for cells in zip(*parts)]


def _output_columns(run: TrainedRun, name: str, index: int, prefix: str) -> Columns:
    if run.is_classifier(name):
        classes = run.class_names(name)

        def classified(_: Batch, outputs: list[np.ndarray]) -> list[list[str]]:
            output = _flat(outputs[index])
            probabilities = np.concatenate([1 - output, output], axis=1) \
                if output.shape[1] == 1 else output
            return [[classes[c], *map(_number, p)]
                    for c, p in zip(class_of(output), probabilities)]
        return Columns((f"{prefix}prediction", *(f"{prefix}p_{c}" for c in classes)),
                       classified)

    def values(_: Batch, outputs: list[np.ndarray]) -> list[list[str]]:
        return [list(map(_number, v)) for v in _flat(outputs[index])]
    return Columns(tuple(f"{prefix}{c}" for c in _value_columns(run, name)), values)


def _flat(output: np.ndarray) -> np.ndarray:
    output = np.asarray(output, "float64")
    return output.reshape(len(output), -1)


def _value_columns(run: TrainedRun, name: str) -> list[str]:
    tensor = run.output_tensor(name)
    size = int(np.prod([d or 1 for d in tensor.shape[1:]]))
    return ["prediction"] if size == 1 else [f"prediction_{i}" for i in range(size)]


def _number(value: float) -> str:
    return f"{value:.6g}"
