"""A ``.txt`` file or a folder of them (with or without class sub-folders): each file is one
sample, read exactly as the ``text`` source reads it while training
(`dlkit._data.readers.text_reader`: the file's contents, one string of shape ``[1]``), for a
model that takes raw strings (one that starts with TextVectorization)."""

from __future__ import annotations

from pathlib import Path

from dlkit._core.errors import DataError, Problem
from dlkit._data.folders import TEXT_SUFFIXES
from dlkit._data.readers import text_reader
from dlkit._deploy.readers.files import FileReader, files_in
from dlkit._deploy.readers.shapes import expected
from dlkit._deploy.trained import TrainedRun


def open_path(path: Path, run: TrainedRun) -> FileReader:
    inputs = run.inputs
    if len(inputs) != 1 or inputs[0].dtype != "string" or \
            [d or 1 for d in inputs[0].shape] != [1]:
        takes = "; ".join(f"{i.name}: {expected(i)} of {i.dtype}" for i in inputs)
        raise DataError(Problem(str(path), "text files feed a model whose one input takes "
                                f"strings, one per sample (input_shape [1]); this model takes "
                                f"{takes}"))
    files = files_in(path, TEXT_SUFFIXES)
    _check_utf8(files)
    return FileReader(path, files, inputs[0], text_reader(), what="text files (.txt)",
                      explain=lambda file, reason: f"cannot be read: {reason}")


def _check_utf8(files: list[Path]) -> None:
    """Every file is UTF-8 text, as training required of its files.

    Raises:
        DataError: naming the first file that is not.
    """
    for file in files:
        try:
            file.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(Problem(str(file), f"is not UTF-8 text ({exc.reason} at byte "
                                    f"{exc.start}); the text source reads UTF-8 files only: "
                                    "save it as UTF-8")) from None
