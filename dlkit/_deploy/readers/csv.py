"""``.csv`` files: a header row, then one sample per row, read in batches.

Two kinds of run read CSV rows:

- a run trained on a table with text, categories or blanks keeps its encoding inside
  ``model.keras``, which takes one named input per column (`dlkit._data.encoding`). Each input
  is fed from the column of that name, in any order, cells encoded exactly as training encoded
  them (`dlkit._data.table.column_values`: a blank number is NaN, a blank category the empty
  string); other columns, such as the target, are ignored;
- any other run takes numbers: the columns are matched by name to the columns of the CSV the run
  trained on (less its ``target``) while that file is still there, else taken in order, and
  must be as many as the model's input takes.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dlkit._core.errors import DataError, Problem, did_you_mean
from dlkit._data.encoding import input_name
from dlkit._data.table import column_values
from dlkit._deploy.readers.base import Batch
from dlkit._deploy.readers.shapes import fit_shape
from dlkit._deploy.trained import ModelInput, TrainedRun

Rows = list[tuple[int, list[str]]]  # (line number, cells)


def open_path(path: Path, run: TrainedRun) -> ColumnReader | NumberReader:
    if run.named_inputs and run.plan.model.graph is None:
        return ColumnReader(path, run.inputs, target=(run.plan.data or {}).get("target"))
    if len(run.inputs) != 1:
        raise DataError(Problem(str(path), "a CSV feeds a model with one input, or a table's "
                                "columns; this one takes "
                                f"{', '.join(i.name for i in run.inputs)}: use an .npz file "
                                "with an x_<input> array for each"))
    return NumberReader(path, run.inputs[0], trained_columns(run))


def trained_columns(run: TrainedRun) -> list[str] | None:
    """The feature columns of the CSV the run trained on, when it is still there."""
    data = run.plan.data or {}
    if data.get("source") != "csv" or not Path(data.get("path", "")).is_file():
        return None
    with Path(data["path"]).open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    return [name for name in header if name != data.get("target")]


def read_header(path: Path) -> tuple[list[str], int]:
    """The header's column names and the number of rows below it.

    Raises:
        DataError: the file is empty or not UTF-8 text.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = csv.reader(handle)
            header = next(rows, None)
            count = sum(1 for row in rows if row)
    except UnicodeDecodeError as exc:
        raise DataError(Problem(str(path), f"is not UTF-8 text ({exc.reason} at byte "
                                f"{exc.start}); save it as UTF-8")) from None
    if not header:
        raise DataError(Problem(str(path), "is empty; a CSV needs a header row"))
    return [name.strip() for name in header], count


def row_chunks(path: Path, width: int, size: int) -> Iterator[Rows]:
    """The rows below the header, `size` at a time, each with its line number.

    Raises:
        DataError: a row whose number of fields is not the header's.
    """
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = ((reader.line_num, row) for row in reader if row)
        while chunk := list(itertools.islice(rows, size)):
            for line, row in chunk:
                if len(row) != width:
                    raise DataError(Problem(f"{path} line {line}", f"has {len(row)} fields, the "
                                            f"header has {width}"))
            yield chunk


class ColumnReader:
    """Raw rows of a table for a model that encodes its columns itself, one input per column."""

    id_column = None

    def __init__(self, path: Path, inputs: list[ModelInput], *, target: str | None) -> None:
        self.path, self.inputs = path, inputs
        self.header, self.count = read_header(path)
        by_input = {input_name(name): index for index, name in enumerate(self.header)}
        missing = [i.name for i in inputs if i.name not in by_input]
        if missing:
            raise DataError(Problem(str(path), _missing_columns(missing, inputs, self.header,
                                                                target)))
        self.picks = {i.name: by_input[i.name] for i in inputs}

    def batches(self, size: int) -> Iterator[Batch]:
        for chunk in row_chunks(self.path, len(self.header), size):
            yield Batch({i.name: self._column(chunk, i) for i in self.inputs})

    def _column(self, chunk: Rows, model_input: ModelInput) -> np.ndarray:
        """One column of a chunk of rows, encoded as training encoded it."""
        index = self.picks[model_input.name]
        try:
            return column_values([row[index] for _, row in chunk],
                                 categorical=model_input.dtype == "string")
        except ValueError:
            for line, row in chunk:
                try:
                    float(row[index].strip() or "nan")
                except ValueError:
                    raise DataError(Problem(f"{self.path} line {line}", f"column "
                                            f"{self.header[index]!r} holds {row[index]!r}, not "
                                            "a number; the model was trained on numbers in it "
                                            "(leave a missing value blank)")) from None
            raise


def _missing_columns(missing: list[str], inputs: list[ModelInput], header: list[str],
                     target: str | None) -> str:
    names = [i.name for i in inputs]
    unknown = [h for h in header if input_name(h) not in names and h != target]
    hints = "".join(f"; it has {h!r}{did_you_mean(h, missing)}" for h in unknown
                    if did_you_mean(h, missing))
    ignored = f" (others, such as the target {target!r}, are ignored)" if target else \
        " (others are ignored)"
    return (f"lacks column(s) {', '.join(missing)}{hints}. The model was trained on the "
            f"columns {', '.join(names)}, in any order{ignored}")


class NumberReader:
    """Rows of numbers as the model's one input, in batches."""

    id_column = None

    def __init__(self, path: Path, model_input: ModelInput, columns: list[str] | None) -> None:
        self.path, self.input = path, model_input
        self.header, self.count = read_header(path)
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
        for chunk in row_chunks(self.path, len(self.header), size):
            values = np.asarray([self._numbers(row, line) for line, row in chunk], "float32")
            values = values.reshape(len(chunk), len(self.picks))
            yield Batch({self.input.name: fit_shape(values, self.input, str(self.path))})

    def _numbers(self, row: list[str], line: int) -> list[float]:
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
