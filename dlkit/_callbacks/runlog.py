"""``history.json``: every epoch's metrics exactly once, and the run's events.

Events are what a person watching the run should be told: early stopping and why, restored
weights, overfitting. Each is printed, kept in ``history.json`` and, when TensorBoard is on,
written as TensorBoard text under the run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from dlkit._core.files import read_json, write_json_atomic

HISTORY_FILE = "history.json"


def read_history(log_dir: Path) -> dict[str, Any]:
    """``{"metrics": {name: [per-epoch values]}, "events": [...]}`` and, when early stopping
    watched the run, ``"best"`` (see `best_of`); empty if not written yet."""
    return read_json(log_dir / HISTORY_FILE, {"metrics": {}, "events": []})


class RunLog(keras.callbacks.Callback):
    """Writes ``history.json`` after every epoch and collects the run's events.

    Epoch ``e``'s values replace anything already recorded from epoch ``e`` on, so a resumed
    run that repeats epochs records each one exactly once.
    """

    def __init__(self, log_dir: str | Path, *, tensorboard: bool = True, verbose: bool = True):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.tensorboard = tensorboard
        self.verbose = verbose
        self._writer = None
        self.early_stopping: keras.callbacks.EarlyStopping | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.record = read_history(self.log_dir)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        metrics = self.record["metrics"]
        for key, value in (logs or {}).items():
            metrics[key] = [*metrics.get(key, [])[:epoch], float(value)]
        self.record["events"] = [e for e in self.record["events"] if e["epoch"] <= epoch + 1]
        self._save()

    def on_train_end(self, logs: dict | None = None) -> None:
        stopping = self.early_stopping
        if stopping is not None and stopping.stopped_epoch > 0:
            self.add_event(stopping.stopped_epoch + 1, "early_stopping", _stop_reason(stopping))
        if stopping is not None and stopping.best is not None:
            self.record["best"] = best_of(stopping)
        self._save()
        if self._writer is not None:  # a later `fit` (a fine-tuning phase) opens a new one
            self._writer.close()
            self._writer = None

    def add_event(self, epoch: int, kind: str, message: str) -> None:
        """Records an event of 1-based `epoch`: printed, saved, and written to TensorBoard."""
        self.record["events"].append({"epoch": epoch, "kind": kind, "message": message})
        if self.verbose:
            print(f"dlkit: {message}")
        if self.tensorboard:
            import tensorflow as tf

            if self._writer is None:
                self._writer = tf.summary.create_file_writer(str(self.log_dir))
            with self._writer.as_default():
                tf.summary.text(f"dlkit/{kind}", message, step=epoch)
            self._writer.flush()
        self._save()

    def _save(self) -> None:
        write_json_atomic(self.log_dir / HISTORY_FILE, self.record)


def best_of(stopping: keras.callbacks.EarlyStopping) -> dict[str, Any]:
    """The epoch early stopping found best: ``{"monitor", "goal": "min"|"max", "epoch", "value"}``
    (epoch 1-based)."""
    goal = "max" if stopping.monitor_op is keras.ops.greater else "min"
    return {"monitor": stopping.monitor, "goal": goal, "epoch": stopping.best_epoch + 1,
            "value": float(stopping.best)}


def _stop_reason(stopping: keras.callbacks.EarlyStopping) -> str:
    epoch = stopping.stopped_epoch + 1
    best = stopping.best_epoch + 1 if stopping.best is not None else None
    text = (f"early stopping at epoch {epoch}: {stopping.monitor} did not improve by more than "
            f"{abs(stopping.min_delta):g} for {stopping.patience} epoch(s)")
    if best is not None:
        text += f"; best was epoch {best} ({stopping.monitor} {float(stopping.best):.4g})"
        if stopping.restore_best_weights and stopping.best_weights is not None:
            text += ", whose weights were restored"
    return text
