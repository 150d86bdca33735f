"""A ``.txt`` file or a folder of them (class sub-folders included): each file is one sample,
its text the model's string input (a model that starts with TextVectorization)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dlkit._core.errors import DataError, Problem
from dlkit._deploy.readers.base import Batch, files_in
from dlkit._deploy.readers.shapes import expected
from dlkit._deploy.trained import ModelInput, TrainedRun


def open_path(path: Path, run: TrainedRun) -> TextReader:
    return TextReader(path, run.inputs)


class TextReader:
    """Text files in batches, each row named by its file."""

    id_column = "file"

    def __init__(self, path: Path, inputs: list[ModelInput]) -> None:
        if len(inputs) != 1 or inputs[0].dtype != "string":
            takes = "; ".join(f"{i.name}: {expected(i)} of {i.dtype}" for i in inputs)
            raise DataError(Problem(str(path), "text files feed a model whose one input takes "
                                    f"strings; this model takes {takes}"))
        self.path, self.input = path, inputs[0]
        self.files = files_in(path, (".txt",))
        if not self.files:
            raise DataError(Problem(str(path), "holds no .txt files"))
        self.count = len(self.files)

    def batches(self, size: int) -> Iterator[Batch]:
        shape = [d or 1 for d in self.input.shape]
        for start in range(0, self.count, size):
            files = self.files[start:start + size]
            texts = np.array([f.read_text(encoding="utf-8", errors="replace") for f in files])
            names = [str(f.relative_to(self.path)) if self.path.is_dir() else f.name
                     for f in files]
            yield Batch({self.input.name: texts.reshape((len(files), *shape))}, ids=names)
