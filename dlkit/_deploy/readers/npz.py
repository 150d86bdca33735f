"""``.npz`` files: array ``x`` for a one-input model, or ``x_<input>`` per input, streamed.

Each array is read straight out of the zip member a batch of rows at a time (NumPy's own
``.npy`` header reader, then raw rows), so a file larger than memory predicts in constant
memory. Arrays saved in Fortran order (rare) are read whole.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import numpy as np

from dlkit._core.errors import DataError, Problem
from dlkit._deploy.readers.base import Batch
from dlkit._deploy.readers.shapes import expected, fit_shape
from dlkit._deploy.trained import ModelInput, TrainedRun


def open_path(path: Path, run: TrainedRun) -> NpzReader:
    return NpzReader(path, run.inputs)


class NpzReader:
    """Rows of ``x`` (or ``x_<input>``) in batches, checked against the model's inputs."""

    id_column = None

    def __init__(self, path: Path, inputs: list[ModelInput]) -> None:
        self.path, self.inputs = path, inputs
        members = self._members()
        self.members = _member_per_input(path, members, inputs)
        self.headers = {name: _header(path, member) for name, member in self.members.items()}
        counts = {name: header[0][0] for name, header in self.headers.items()}
        if len(set(counts.values())) > 1:
            raise DataError(Problem(str(path), f"the arrays have different sample counts: "
                                    f"{counts}"))
        self.count = next(iter(counts.values()))
        for i in inputs:  # the shape check, before any prediction
            shape, _, dtype = self.headers[i.name]
            fit_shape(np.empty((0, *shape[1:]), dtype), i, f"{path} ({self.members[i.name]})")

    def _members(self) -> list[str]:
        try:
            with zipfile.ZipFile(self.path) as archive:
                return [n.removesuffix(".npy") for n in archive.namelist() if n.endswith(".npy")]
        except (OSError, zipfile.BadZipFile) as exc:
            raise DataError(Problem(str(self.path), f"not a readable .npz file ({exc})")) from None

    def batches(self, size: int) -> Iterator[Batch]:
        with ExitStack() as stack:
            archive = stack.enter_context(zipfile.ZipFile(self.path))
            streams = {name: stack.enter_context(archive.open(member + ".npy"))
                       for name, member in self.members.items()}
            rows = {name: _row_reader(streams[name], self.headers[name]) for name in streams}
            for start in range(0, self.count, size):
                take = min(size, self.count - start)
                yield Batch({i.name: fit_shape(rows[i.name](take), i, str(self.path))
                             for i in self.inputs})


def _member_per_input(path: Path, members: list[str],
                      inputs: list[ModelInput]) -> dict[str, str]:
    if len(inputs) == 1 and "x" in members:
        return {inputs[0].name: "x"}
    wanted = {i.name: f"x_{i.name}" for i in inputs}
    missing = [m for m in wanted.values() if m not in members]
    if missing:
        takes = "; ".join(f"{m}: {expected(i)}" for i, m in zip(inputs, wanted.values()))
        one = "x or " if len(inputs) == 1 else ""
        raise DataError(Problem(str(path), f"lacks array(s) {one}{', '.join(missing)}; it holds "
                                f"{', '.join(members) or 'nothing'}. The model takes {takes}"))
    return wanted


def _header(path: Path, member: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    with zipfile.ZipFile(path) as archive, archive.open(member + ".npy") as stream:
        shape, fortran, dtype = read_header(stream)
    if dtype.hasobject:
        raise DataError(Problem(f"{path} ({member})", "holds Python objects, which dlkit does "
                                "not unpickle; save numbers or strings"))
    if not shape:
        raise DataError(Problem(f"{path} ({member})", "is a single value; save one row per "
                                "sample"))
    return shape, fortran, dtype


def read_header(stream: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Reads a ``.npy`` stream's magic and header: ``(shape, fortran_order, dtype)``."""
    version = np.lib.format.read_magic(stream)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
        np.lib.format.read_array_header_2_0
    return read(stream)


def _row_reader(stream: IO[bytes], header: tuple) -> Callable[[int], np.ndarray]:
    """``read(n)``: the next `n` rows of the ``.npy`` array in `stream`."""
    shape, fortran, dtype = header
    read_header(stream)
    row_items = int(np.prod(shape[1:], dtype=np.int64))
    if fortran:  # column-major: rows are not contiguous; read it whole
        whole = np.frombuffer(stream.read(), dtype=dtype).reshape(shape, order="F")
        position = [0]

        def read_whole(n: int) -> np.ndarray:
            rows = whole[position[0]:position[0] + n]
            position[0] += n
            return np.ascontiguousarray(rows)
        return read_whole

    def read(n: int) -> np.ndarray:
        data = stream.read(n * row_items * dtype.itemsize)
        return np.frombuffer(data, dtype=dtype).reshape((n, *shape[1:]))
    return read
