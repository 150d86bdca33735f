"""``.csv`` files: a header row, then one sample per row, read in batches.

The columns are matched by name to the columns the run trained on (its ``data`` section's CSV,
less the ``target`` column), in any order; extra columns, such as the target itself, are
ignored. Without that file, the columns are taken in order and must be as many as the model's
input takes. Values are numbers, as the training source reads them.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dlkit._core.errors import DataError, Problem
from dlkit._deploy.readers.base import Batch
from dlkit._deploy.readers.shapes import fit_shape
from dlkit._deploy.trained import ModelInput, TrainedRun


def open_path(path: Path, run: TrainedRun) -> CsvReader:
    if len(run.inputs) != 1:
        raise DataError(Problem(str(path), "a CSV feeds a model with one input; this one takes "
                                f"{', '.join(i.name for i in run.inputs)}: use an .npz file"))
    return CsvReader(path, run.inputs[0], trained_columns(run))


def trained_columns(run: TrainedRun) -> list[str] | None:
    """The feature columns of the CSV the run trained on, when it is still there."""
    data = run.plan.data or {}
    if data.get("source") != "csv" or not Path(data.get("path", "")).is_file():
        return None
    with Path(data["path"]).open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    return [name for name in header if name != data.get("target")]


class CsvReader:
    """Rows of a CSV as the model's input, in batches."""

    id_column = None

    def __init__(self, path: Path, model_input: ModelInput, columns: list[str] | None) -> None:
        self.path, self.input = path, model_input
        with path.open(newline="", encoding="utf-8") as handle:
            rows = csv.reader(handle)
            self.header = next(rows, None)
            self.count = sum(1 for row in rows if row)
        if self.header is None:
            raise DataError(Problem(str(path), "is empty; a CSV needs a header row"))
        self.picks = self._columns(columns)
        fit_shape(np.empty((0, len(self.picks)), "float32"), model_input, str(path))

    def _columns(self, columns: list[str] | None) -> list[int]:
        if columns is None:
            return list(range(len(self.header)))
        missing = [c for c in columns if c not in self.header]
        if missing:
            raise DataError(Problem(str(self.path), f"lacks column(s) {', '.join(missing)}; the "
                                    f"model was trained on columns {', '.join(columns)}"))
        return [self.header.index(c) for c in columns]

    def batches(self, size: int) -> Iterator[Batch]:
        with self.path.open(newline="", encoding="utf-8") as handle:
            rows = (row for row in csv.reader(handle) if row)
            next(rows)
            line = 2
            while chunk := list(itertools.islice(rows, size)):
                values = np.empty((len(chunk), len(self.picks)), "float32")
                for i, row in enumerate(chunk):
                    values[i] = self._numbers(row, line + i)
                line += len(chunk)
                yield Batch({self.input.name: fit_shape(values, self.input, str(self.path))})

    def _numbers(self, row: list[str], line: int) -> list[float]:
        if len(row) != len(self.header):
            raise DataError(Problem(f"{self.path} line {line}", f"has {len(row)} fields, the "
                                    f"header has {len(self.header)}"))
        numbers = []
        for i in self.picks:
            try:
                numbers.append(float(row[i]))
            except ValueError:
                raise DataError(Problem(f"{self.path} line {line}", f"column "
                                        f"{self.header[i]!r} holds {row[i]!r}, not a number; "
                                        "this run's columns are numeric")) from None
        if not all(math.isfinite(n) for n in numbers):
            raise DataError(Problem(f"{self.path} line {line}", "holds inf or nan"))
        return numbers
