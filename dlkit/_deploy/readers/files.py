"""Files read one sample each (images, text), with the data stage's own readers, in batches.

The files are read as training read them: `dlkit._data.readers` gives the function from a
file's path to the model's input (an image decoded, converted to the model's channels and
resized; a text file's contents), run in parallel in a tf.data pipeline a batch ahead. A file
that cannot be read stops the prediction with its name and TensorFlow's reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from dlkit._core.errors import DataError, Problem
from dlkit._deploy.readers.base import Batch
from dlkit._deploy.trained import ModelInput

# TensorFlow's reason inside an op error: "{{function_node ...}} <reason> [Op:DecodeImage]"
_REASON = re.compile(r"(?:\}\}\s*)?(?P<reason>[^{}\[]+?)\s*(?:\[Op:|$)")


def files_in(path: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """`path` itself, or the files with these suffixes at any depth under the folder `path`
    (class sub-folders or none), sorted; hidden files are left out, as training leaves them."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
                  and not any(part.startswith(".") for part in p.relative_to(path).parts))


class FileReader:
    """One sample per file, each row named by its file (relative to the folder given)."""

    id_column = "file"

    def __init__(self, path: Path, files: list[Path], model_input: ModelInput,
                 read: Callable, *, what: str, explain: Callable[[Path, str], str]) -> None:
        self.path, self.files, self.input, self.read = path, files, model_input, read
        self.what, self.explain = what, explain
        self.count = len(files)
        if not files:
            raise DataError(Problem(str(path), f"holds no {what}"))

    def batches(self, size: int) -> Iterator[Batch]:
        import tensorflow as tf

        paths = np.asarray([str(f) for f in self.files])
        dataset = tf.data.Dataset.from_tensor_slices(paths).map(
            self.read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(size)
        batches = iter(dataset.prefetch(1))
        for start in range(0, self.count, size):
            files = self.files[start:start + size]
            try:
                values = next(batches).numpy()
            except tf.errors.OpError:
                raise self._unreadable(files) from None
            yield Batch({self.input.name: values}, ids=[self._name(f) for f in files])

    def _name(self, file: Path) -> str:
        return file.relative_to(self.path).as_posix() if self.path.is_dir() else file.name

    def _unreadable(self, files: list[Path]) -> DataError:
        """The error naming the first file of a failed batch that does not read on its own."""
        import tensorflow as tf

        for file in files:
            try:
                self.read(tf.constant(str(file)))
            except tf.errors.OpError as exc:
                found = _REASON.search(exc.message or "")
                reason = found.group("reason").strip() if found else type(exc).__name__
                return DataError(Problem(str(file), self.explain(file, reason)))
        return DataError(Problem(str(self.path), f"the {self.what} could not be read"))
