"""Model outputs as rows of a predictions table.

One row per sample. For one output: ``prediction`` (the class name for a classifier, else the
value; ``prediction_<i>`` for an output of several values) and ``p_<class>`` per class for a
classifier. For several outputs every column is prefixed with the output's name:
``<output>.prediction``, ``<output>.p_<class>``. Rows read from files start with ``file``.
"""

from __future__ import annotations

import numpy as np

from dlkit._deploy.trained import TrainedRun, class_of


def header(run: TrainedRun, id_column: str | None) -> list[str]:
    """The table's column names."""
    columns = [id_column] if id_column else []
    for name in run.output_names:
        prefix = f"{name}." if len(run.output_names) > 1 else ""
        if run.is_classifier(name):
            columns += [f"{prefix}prediction", *(f"{prefix}p_{c}" for c in run.class_names(name))]
        else:
            columns += [f"{prefix}{c}" for c in _value_columns(run, name)]
    return columns


def rows(run: TrainedRun, outputs: list[np.ndarray], ids: list[str] | None) -> list[list]:
    """The table's rows for one batch of outputs (in the model's output order)."""
    parts: list[list[list]] = [[[i] for i in ids]] if ids else []
    for name, output in zip(run.output_names, outputs):
        output = np.asarray(output, "float64")
        output = output.reshape(len(output), -1)
        if run.is_classifier(name):
            names = run.class_names(name)
            probabilities = np.concatenate([1 - output, output], axis=1) \
                if output.shape[1] == 1 else output
            parts.append([[names[c], *map(_number, p)]
                          for c, p in zip(class_of(output), probabilities)])
        else:
            parts.append([list(map(_number, values)) for values in output])
    return [sum(cells, []) for cells in zip(*parts)]


def _value_columns(run: TrainedRun, name: str) -> list[str]:
    tensor = dict(zip(run.output_names, run.model.outputs))[name]
    size = int(np.prod([d or 1 for d in tensor.shape[1:]]))
    return ["prediction"] if size == 1 else [f"prediction_{i}" for i in range(size)]


def _number(value: float) -> str:
    return f"{value:.6g}"
