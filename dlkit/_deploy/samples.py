"""A run's own samples, as training saw them: the batch an export is checked on, and the
training samples that calibrate int8 quantization.

The spec's data section is loaded again and split as training split it (the same seed gives the
same validation samples). Arrays come as they are; a source read while training (images, text, a
table with text or blanks: a `Stream`) is read through its own reader, so an image is decoded and
resized and a table row stays raw, exactly what the model took. Samples come keyed by the
model's input names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlkit._data.stream import Stream, in_order, take
from dlkit._deploy.trained import ModelInput, TrainedRun
from dlkit._train.fitdata import load_data, split_arrays
from dlkit._train.streaming import checked_stream

Named = dict[str, np.ndarray]


@dataclass
class RunSamples:
    """The run's training and validation samples, read on demand.

    Attributes:
        read: ``read(which, index) -> ({input: array}, labels)``, `which` ``"train"`` or
            ``"validation"``, `index` the positions of the samples to read.
        counts: samples in each part (validation 0 when the run holds none out).
    """

    read: Callable[[str, np.ndarray], tuple[Named, Any]]
    counts: dict[str, int]

    def check_batch(self, size: int) -> tuple[Named, Any]:
        """Up to `size` validation samples (training samples where none are held out) and
        their labels: one array, a dict by output name, or None."""
        which = "validation" if self.counts["validation"] else "train"
        return self.read(which, np.arange(min(size, self.counts[which])))

    def representative(self, size: int, names: dict[str, str]) -> Callable[[], Iterator[Any]]:
        """A generator of single training samples, seeded, as LiteRT's int8 calibration takes
        them: a list of one array, or a dict by the export's input names (`names`: model input
        name -> export input name)."""
        count = self.counts["train"]
        picks = np.sort(np.random.default_rng(0).choice(count, min(count, size), replace=False))

        def samples() -> Iterator[Any]:
            x, _ = self.read("train", picks)
            for i in range(len(picks)):
                one = {names[k]: v[i:i + 1] for k, v in x.items()}
                yield list(one.values()) if len(one) == 1 else one
        return samples


def run_samples(trained: TrainedRun) -> RunSamples:
    """The samples of the run's data section, split as training split them.

    Raises:
        SpecError, DataError: the run's data cannot be loaded any more.
    """
    loaded = load_data(trained.plan, None)
    inputs = trained.inputs
    if isinstance(loaded, Stream):
        return _from_stream(checked_stream(trained.plan, loaded), inputs)
    arrays = split_arrays(trained.plan, loaded)
    parts = {"train": (arrays.x, arrays.y), "validation": (arrays.x_val, arrays.y_val)}

    def read(which: str, index: np.ndarray) -> tuple[Named, Any]:
        x, y = parts[which]
        return _named(take(x, index), inputs), None if y is None else take(y, index)
    return RunSamples(read, {"train": _count(arrays.x), "validation": _count(arrays.x_val)})


def _from_stream(stream: Stream, inputs: list[ModelInput]) -> RunSamples:
    parts = {"train": (stream.x, stream.y), "validation": (stream.x_val, stream.y_val)}

    def read(which: str, index: np.ndarray) -> tuple[Named, Any]:
        items, y = parts[which]
        batch = next(iter(in_order(take(items, index), y[index], stream.read,
                                   batch_size=max(1, len(index)))))
        x = batch[0]
        x = {k: v.numpy() for k, v in x.items()} if isinstance(x, dict) else x.numpy()
        return _named(x, inputs), y[index]
    return RunSamples(read, {"train": stream.count,
                             "validation": 0 if stream.y_val is None else len(stream.y_val)})


def _named(x: Any, inputs: list[ModelInput]) -> Named:
    """`x` by input name, numbers in each input's dtype (what the model and its exports take)."""
    def cast(values: Any, model_input: ModelInput) -> np.ndarray:
        values = np.asarray(values)
        return values.astype(model_input.dtype) if values.dtype.kind in "biuf" else values
    if isinstance(x, dict):
        return {i.name: cast(x[i.name], i) for i in inputs}
    return {inputs[0].name: cast(x, inputs[0])}


def _count(x: Any) -> int:
    if x is None:
        return 0
    return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)

