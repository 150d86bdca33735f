"""``source: csv``: a table with a header row, its columns typed, checked and encoded.

Each feature column is numeric (every filled cell a number), categorical (text cells, or a
column named in ``data.categorical``), and may have blank cells (missing values). A table of
numbers only, with no blank cell, loads as plain arrays, as before. Any other table is kept as
raw columns, and an `Encoder` (`dlkit._data.encoding`) made of Keras preprocessing layers goes in
front of the model, adapted on the training split, so that the saved model takes raw rows.

The target column holds numbers (regression, or integer classes) or class names (sorted; class
index = position).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from dlkit._core.errors import DataError, Problem
from dlkit._data.arrays import Arrays
from dlkit._data.encoding import Column, Encoder, input_name
from dlkit._data.stream import Stream


def load_table(path: Path, data: dict) -> Arrays | Stream:
    """Reads the CSV at `path`; arrays when every feature is a number, else a `Stream`.

    Raises:
        DataError: the target column is missing or has blank cells, a row has the wrong number
            of fields, a column holds numbers and text, or a column is named twice.
    """
    header, body = _rows(path)
    target = data["target"]
    if target not in header:
        raise DataError(Problem("data.target", f"no column {target!r} in {path}; its columns "
                                f"are {header}"))
    categorical = list(data.get("categorical") or [])
    for name in categorical:
        if name not in header or name == target:
            raise DataError(Problem("data.categorical", f"{name!r} is not a feature column of "
                                    f"{path}; its columns are {header}"))
    columns = {name: [row[i] for row in body] for i, name in enumerate(header)}
    y, classes = _target(columns.pop(target), path, target)
    kinds = {name: _kind(cells, name, path, name in categorical)
             for name, cells in columns.items()}
    if all(kind == "number" for kind in kinds.values()) and not any(
            cell.strip() == "" for cells in columns.values() for cell in cells):
        x = np.asarray([[float(c) for c in row] for row in zip(*columns.values())], "float32")
        return Arrays(x.reshape(len(y), len(columns)), y, classes=classes)
    specs = tuple(Column(name, input_name(name), kinds[name] == "category") for name in columns)
    x = {spec.input: column_values(columns[spec.name], spec.categorical) for spec in specs}
    return Stream(x=x, y=y, read=lambda row: row, classes=classes, encoder=Encoder(specs))


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError as exc:
        raise DataError(Problem("data.path", f"{path} is not UTF-8 text ({exc.reason} at byte "
                                f"{exc.start}); save it as UTF-8")) from None
    if not rows or not rows[0]:
        raise DataError(Problem("data.path", f"{path} is empty; a csv source needs a header "
                                "row and one row per sample"))
    header, body = [name.strip() for name in rows[0]], []
    seen = {name for name in header if header.count(name) > 1}
    if seen:
        raise DataError(Problem("data.path", f"{path} names column(s) {sorted(seen)} twice; "
                                "give every column its own name"))
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise DataError(Problem("data.path", f"{path} line {line} has {len(row)} fields, the "
                                    f"header has {len(header)}"))
        body.append(row)
    if not body:
        raise DataError(Problem("data.path", f"{path} has a header but no rows"))
    return header, body


def _target(cells: list[str], path: Path, target: str) -> tuple[np.ndarray, tuple | None]:
    blank = next((line for line, cell in enumerate(cells, start=2) if not cell.strip()), None)
    if blank is not None:
        raise DataError(Problem("data.target", f"{path} line {blank}: the target column "
                                f"{target!r} is blank; every row needs a label (remove the "
                                "rows without one)"))
    if all(_is_float(cell) for cell in cells):
        y = np.asarray([float(cell) for cell in cells], dtype="float32")
        return (y.astype("int64") if np.all(y == np.round(y)) else y), None
    classes = tuple(sorted({cell.strip() for cell in cells}))
    lookup = {name: index for index, name in enumerate(classes)}
    return np.asarray([lookup[cell.strip()] for cell in cells], dtype="int64"), classes


def _kind(cells: list[str], name: str, path: Path, categorical: bool) -> str:
    """``number`` or ``category``; a column that holds both is an error naming a cell of each."""
    if categorical:
        return "category"
    number = text = None
    for line, cell in enumerate(cells, start=2):
        if not cell.strip():
            continue
        if _is_float(cell):
            number = number or (line, cell)
        else:
            text = text or (line, cell)
        if number and text:
            raise DataError(Problem("data.path", f"{path}: column {name!r} changes type: line "
                                    f"{number[0]} holds the number {number[1]!r}, line "
                                    f"{text[0]} the text {text[1]!r}. Fix the cell that is "
                                    "wrong (leave a missing value blank), or list the column "
                                    "under data.categorical to treat every value as a category"))
    if number is None and text is None:
        raise DataError(Problem("data.path", f"{path}: column {name!r} is blank in every row; "
                                "remove it"))
    return "number" if number else "category"


def column_values(cells: list[str], categorical: bool) -> np.ndarray:
    """A column as the encoder's input: text (blank: empty) or float32 (blank: NaN), [N, 1].
    `dlkit predict` encodes new rows through this too.

    Raises:
        ValueError: a cell of a numeric column is not a number.
    """
    if categorical:
        return np.asarray([cell.strip() for cell in cells], dtype=object).astype(str)[:, None]
    return np.asarray([float(c) if c.strip() else np.nan for c in cells], "float32")[:, None]


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
