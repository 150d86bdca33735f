"""``dlkit.predict`` and ``dlkit predict``: a trained run on new data, in batches."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dlkit._core.files import write_atomic
from dlkit._deploy.calling import model_call
from dlkit._deploy.progress import SampleProgress
from dlkit._deploy.readers import open_reader
from dlkit._deploy.readers.base import Batch, Reader
from dlkit._deploy.table import Columns, header, prediction_columns, rows
from dlkit._deploy.trained import TrainedRun, open_run

BATCH_SIZE = 256
PREDICTIONS_DIR = "predictions"


def predict(run: Any, data: Any, *, batch_size: int = BATCH_SIZE,
            verbose: int | str = 0) -> np.ndarray | dict[str, np.ndarray]:
    """Runs a trained run's model on `data`, in batches.

    Args:
        run: a `dlkit.Run` or a run directory.
        data: an array of samples (a dict of arrays by input name for several inputs), or a
            path: ``.npz`` (``x``, or ``x_<input>``), ``.csv``, an image or ``.txt`` file or a
            folder of them.
        batch_size: samples per model call.
        verbose: 0 quiet, ``"auto"`` a progress display on stderr.

    Returns:
        The model's outputs: one array, or a dict of arrays by output name.

    Raises:
        DataError: the data does not fit the model (the message names what it expects).
        RunDirError, ModelFileError: the run cannot be opened.

    Example:
        >>> probabilities = dlkit.predict("logs/digits-cnn/20250101-120000", x_new)
    """
    trained = open_run(run)
    reader = open_reader(data, trained)
    parts: list[list[np.ndarray]] = [[] for _ in trained.output_names]
    for _, outputs in _predicted(trained, reader, batch_size, verbose):
        for part, output in zip(parts, outputs):
            part.append(output)
    merged = [np.concatenate(p) if p else np.empty((0,)) for p in parts]
    return merged[0] if len(merged) == 1 else dict(zip(trained.output_names, merged))


def predict_file(run: Any, data: str | os.PathLike[str], *,
                 out: str | os.PathLike[str] | None = None, batch_size: int = BATCH_SIZE,
                 verbose: int | str = "auto", extra: Sequence[Columns] = ()) -> Path:
    """Writes a predictions CSV for `data`: one row per sample, class names and one
    probability column per class for classifiers, the value otherwise (see `dlkit.predict`
    for `data`).

    Args:
        extra: more columns per sample after the predictions (`dlkit._deploy.table.Columns`).

    Returns:
        The CSV written: `out`, by default ``RUN_DIR/predictions/<stem>.csv``. It is written
        to a temporary name and renamed, so an input that stops fitting halfway leaves nothing.
    """
    trained = open_run(run)
    reader = open_reader(data, trained)
    groups = prediction_columns(trained, reader.id_column, extra)
    target = Path(out) if out else \
        trained.run_dir / PREDICTIONS_DIR / f"{Path(data).stem or 'predictions'}.csv"
    created = not target.parent.exists()
    target.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            table = csv.writer(handle)
            table.writerow(header(groups))
            for batch, outputs in _predicted(trained, reader, batch_size, verbose):
                table.writerows(rows(groups, batch, outputs))
    try:
        write_atomic(target, write)
    except BaseException:
        if created and not any(target.parent.iterdir()):
            target.parent.rmdir()  # the folder made for it goes too: nothing is written
        raise
    return target


def _predicted(trained: TrainedRun, reader: Reader, batch_size: int,
               verbose: int | str) -> Iterator[tuple[Batch, list[np.ndarray]]]:
    """Each batch with the model's outputs for it, in the model's output order."""
    progress = SampleProgress(reader.count, verbose=verbose)
    call = model_call(trained)
    try:
        for batch in reader.batches(batch_size):
            yield batch, call(batch.inputs)
            progress.update(len(batch))
    finally:
        progress.close()
