"""Input readers: a file or folder (or arrays) read in batches shaped to the model's inputs.

A reader is one module per kind of input, each with ``open_path(path, run) -> Reader``;
``open_reader`` picks it by the path's suffix (a folder by the files inside). Every reader checks
that its input fits the model before the first prediction (wrong columns, feature count, shape,
channels: a `DataError` naming what the model expects) and reads no more than a batch at a time,
so memory does not grow with the input.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from dlkit._core.errors import DataError, Problem
from dlkit._data.folders import IMAGE_SUFFIXES, TEXT_SUFFIXES
from dlkit._deploy.readers.arrays import ArrayReader
from dlkit._deploy.readers.base import Reader
from dlkit._deploy.trained import TrainedRun

# suffix -> reader module of this package, each with ``open_path(path, run) -> Reader``
BY_SUFFIX = {".npz": "npz", ".csv": "csv", **{suffix: "text" for suffix in TEXT_SUFFIXES},
             **{suffix: "images" for suffix in IMAGE_SUFFIXES}}


def open_reader(data: Any, run: TrainedRun) -> Reader:
    """The reader for `data`: arrays, or a .npz, .csv, image or .txt file or folder.

    Raises:
        DataError: no reader for it, or it does not fit the model.
    """
    if not isinstance(data, (str, os.PathLike)):
        return ArrayReader(data, run.inputs, where="data")
    path = Path(data)
    if not path.exists():
        raise DataError(Problem(str(path), "no such file or folder"))
    kind = _folder_kind(path) if path.is_dir() else BY_SUFFIX.get(path.suffix.lower())
    if kind is None:
        raise DataError(Problem(str(path), f"cannot read {path.suffix or 'this'} files; give "
                                ".npz (x or x_<input> arrays), .csv, an image "
                                f"({', '.join(IMAGE_SUFFIXES)}) or .txt file, or a folder of "
                                "images or .txt files"))
    return importlib.import_module(f"dlkit._deploy.readers.{kind}").open_path(path, run)


def _folder_kind(path: Path) -> str | None:
    suffixes = {p.suffix.lower() for p in path.rglob("*") if p.is_file()}
    if suffixes & set(IMAGE_SUFFIXES):
        return "images"
    return "text" if suffixes & set(TEXT_SUFFIXES) else None
