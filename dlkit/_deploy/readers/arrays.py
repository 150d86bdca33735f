"""Arrays in memory: one array for a one-input model, or a dict of arrays by input name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from dlkit._core.errors import DataError, Problem
from dlkit._deploy.readers.base import Batch
from dlkit._deploy.readers.shapes import fit_shape
from dlkit._deploy.trained import ModelInput


class ArrayReader:
    """Batches of arrays already in memory, each checked against the model's input."""

    id_column = None

    def __init__(self, data: Any, inputs: list[ModelInput], *, where: str) -> None:
        arrays = by_input(data, inputs, where)
        self.arrays = {i.name: fit_shape(arrays[i.name], i, where) for i in inputs}
        counts = {name: len(a) for name, a in self.arrays.items()}
        if len(set(counts.values())) > 1:
            raise DataError(Problem(where, f"the inputs have different sample counts: {counts}"))
        self.count = next(iter(counts.values()))

    def batches(self, size: int) -> Iterator[Batch]:
        for start in range(0, self.count, size):
            yield Batch({k: v[start:start + size] for k, v in self.arrays.items()})


def by_input(data: Any, inputs: list[ModelInput], where: str) -> dict[str, Any]:
    """`data` keyed by input name: a dict checked for every name, or one array for one input."""
    names = [i.name for i in inputs]
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing:
            raise DataError(Problem(where, f"no array for input(s) {', '.join(missing)}; the "
                                    f"model takes {', '.join(names)} and received "
                                    f"{', '.join(map(str, data)) or 'none'}"))
        return {n: data[n] for n in names}
    if len(names) > 1:
        raise DataError(Problem(where, f"the model takes several inputs ({', '.join(names)}); "
                                "pass a dict of arrays keyed by those names"))
    if not hasattr(data, "shape") and not isinstance(data, (list, tuple)):
        raise DataError(Problem(where, f"expected an array of samples; received "
                                f"{type(data).__name__}"))
    return {names[0]: np.asarray(data)}
