"""``dlkit.anomaly_scores`` and ``dlkit score``: a trained autoencoder's anomaly score for each
sample of new data, and whether it is above the run's threshold (`dlkit._train.anomaly`)."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dlkit._core.files import write_atomic
from dlkit._deploy.progress import SampleProgress
from dlkit._deploy.readers import open_reader
from dlkit._deploy.trained import ModelInput, TrainedRun
from dlkit._model.saving import load_model
from dlkit._plan.load import load_spec
from dlkit._spec.spec import plan_of
from dlkit._train.anomaly import Threshold, scorer

BATCH_SIZE = 256
SCORES_DIR = "scores"


def anomaly_scores(run: Any, x: Any, *, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """One anomaly score per sample: its reconstruction error by a trained autoencoder.

    Args:
        run: a `dlkit.Run` or the run directory of an autoencoder (``model.kind:
            autoencoder`` or ``vae``).
        x: an array of samples (shaped to the model's input when only the layout differs), or
            a path that ``dlkit.predict`` reads (``.npz`` with ``x``, ``.csv``, images).
        batch_size: samples per model call.

    Returns:
        A float array of one score per sample; the run's ``anomaly.json`` holds the threshold
        above which a score is an anomaly.

    Raises:
        RunDirError: not an autoencoder's finished run directory.
        DataError: samples that do not fit the model.

    Example:
        >>> scores = dlkit.anomaly_scores("logs/digits-autoencoder/20250101-120000", x_new)
    """
    threshold, trained = _opened(run)
    return np.concatenate([scores for _, scores in _scored(trained, threshold, x, batch_size)]
                          or [np.zeros((0,), "float32")])


@dataclass(frozen=True)
class ScoreSummary:
    """What ``dlkit score`` wrote and found.

    Attributes:
        path: the CSV written (one row per sample: ``score``, ``anomaly`` 1 or 0).
        samples, flagged: how many samples were scored, and how many are anomalies.
        threshold: the run's threshold; `chosen` says how it was chosen.
        low, median, high: the scores' minimum, median and maximum.
    """

    path: Path
    samples: int
    flagged: int
    threshold: float
    chosen: str
    low: float
    median: float
    high: float

    def __str__(self) -> str:
        share = self.flagged / self.samples if self.samples else 0.0
        return (f"scored {self.samples:,} samples: {self.flagged:,} anomalies ({share:.1%}) "
                f"above the threshold {self.threshold:.4g} ({self.chosen})\n"
                f"scores: min {self.low:.4g}, median {self.median:.4g}, max {self.high:.4g}\n"
                f"scores and flags: {self.path}")


def score_file(run: Any, data: str | os.PathLike[str], *,
               out: str | os.PathLike[str] | None = None, batch_size: int = BATCH_SIZE,
               verbose: int | str = "auto") -> ScoreSummary:
    """Writes a CSV of anomaly scores and flags for the samples in `data` (as
    `anomaly_scores` reads them): one row per sample, ``score`` and ``anomaly`` (1 above the
    run's threshold, else 0), after a ``file`` column when the samples are files.

    Returns:
        A `ScoreSummary`; the CSV is `out`, by default ``RUN_DIR/scores/<stem>.csv``, written
        to a temporary name and renamed.
    """
    threshold, trained = _opened(run)
    target = Path(out) if out else \
        trained.run_dir / SCORES_DIR / f"{Path(data).stem or 'scores'}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    found: list[np.ndarray] = []

    def write(tmp: Path) -> None:
        reader = open_reader(data, trained)
        progress = SampleProgress(reader.count, verbose=verbose, label="score")
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            table = csv.writer(handle)
            table.writerow([*([reader.id_column] if reader.id_column else []), "score",
                            "anomaly"])
            for batch, scores in _scored(trained, threshold, reader, batch_size):
                flags = threshold.flags(scores)
                ids = batch.ids or [None] * len(scores)
                table.writerows([*([i] if i is not None else []), f"{s:.6g}", int(f)]
                                for i, s, f in zip(ids, scores, flags))
                found.append(scores)
                progress.update(len(scores))
        progress.close()
    write_atomic(target, write)
    scores = np.concatenate(found) if found else np.zeros((0,), "float32")
    return ScoreSummary(target, len(scores), int(threshold.flags(scores).sum()),
                        threshold.threshold, threshold.describe(),
                        *(float(f(scores)) if len(scores) else float("nan")
                          for f in (np.min, np.median, np.max)))


def _opened(run: Any) -> tuple[Threshold, TrainedRun]:
    """The run's threshold (which says it is an autoencoder's), then the run itself, with its
    one input as the spec gives it (a VAE, a `keras.Model` subclass, has no input tensors)."""
    run_dir = Path(run.log_dir if hasattr(run, "log_dir") else os.fspath(run))
    threshold = Threshold.read(run_dir)
    plan = plan_of(load_spec(run_dir / "spec.yaml"))
    model = run.model if hasattr(run, "model") else \
        load_model(run_dir / "model.keras", compile=False)
    trained = TrainedRun(run_dir, plan, model)
    trained.inputs = [ModelInput("x", plan.model.input_shape, plan.model.input_dtype)]
    return threshold, trained


def _scored(trained: TrainedRun, threshold: Threshold, data: Any, batch_size: int):
    """Each batch of `data` (or of a reader) with its scores."""
    reader = data if hasattr(data, "batches") else open_reader(data, trained)
    score = scorer(trained.model, threshold.error)
    name = trained.inputs[0].name
    for batch in reader.batches(batch_size):
        yield batch, score(batch.inputs[name])
