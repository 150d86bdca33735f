"""Guards that watch training: a NaN/Inf loss, and overfitting."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import keras

from dlkit._callbacks.backup import backup_epoch
from dlkit._core.errors import TrainingError

LOSSES = ("loss", "d_loss", "g_loss")  # a GAN logs one per network


class NanGuard(keras.callbacks.Callback):
    """Stops training the moment the loss (a GAN's d_loss or g_loss) is NaN or infinite, with
    the epoch and batch.

    Unlike `keras.callbacks.TerminateOnNaN`, it raises at once, so the epoch never ends and
    no epoch-end callback (a backup, a checkpoint) saves the broken weights: the last good
    backup survives. When one call into TensorFlow runs several batches
    (``steps_per_execution``), Keras reports after the last of them, so the message names that
    range of batches.
    """

    def __init__(self, backup_dir: str | Path | None = None) -> None:
        super().__init__()
        self.backup_dir = Path(backup_dir) if backup_dir is not None else None
        self._epoch = 0
        self._first_batch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._first_batch = batch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        for name in LOSSES:
            value = (logs or {}).get(name)
            if value is not None and not math.isfinite(float(value)):
                self.stop(name, float(value), batch)

    def stop(self, name: str, value: float, batch: int) -> None:
        """Raises the `TrainingError` that names the loss, the epoch and the batch."""
        what = "the loss" if name == "loss" else f"the {name}"
        raise TrainingError(
            f"{what} became {value} in epoch {self._epoch + 1}, {self._batches(batch)}; "
            f"lower the learning rate, clip gradients (clipnorm) or normalize the inputs. "
            f"{self._last_good()}")

    def _batches(self, last: int) -> str:
        steps = self.params.get("steps") if isinstance(self.params, dict) else None
        if steps:
            last = min(last, steps - 1)  # a short last call of the epoch
        if last <= self._first_batch:
            return f"batch {last + 1}"
        return f"batches {self._first_batch + 1}-{last + 1} (run in one call)"

    def _last_good(self) -> str:
        epoch = backup_epoch(self.backup_dir) if self.backup_dir else 0
        if epoch:
            return f"The last good backup is from epoch {epoch}, kept in {self.backup_dir}."
        return "No epoch finished before it, so there is no good backup to keep."


class OverfittingMonitor(keras.callbacks.Callback):
    """Says so when validation loss rises for `patience` epochs while training loss falls.

    Args:
        patience: how many epochs in a row the two must move apart.
        report: called once, with the 1-based epoch the gap began and a message.
    """

    def __init__(self, patience: int = 3, *, report: Callable[[int, str], None] | None = None):
        super().__init__()
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience is a whole number of epochs >= 1, received {patience!r}")
        self.patience = patience
        self.report = report or (lambda epoch, message: print(f"dlkit: {message}"))
        self._previous: tuple[float, float] | None = None
        self._streak = 0
        self.reported = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if "loss" not in logs or "val_loss" not in logs or self.reported:
            return
        current = (float(logs["loss"]), float(logs["val_loss"]))
        if self._previous is not None:
            apart = current[0] < self._previous[0] and current[1] > self._previous[1]
            self._streak = self._streak + 1 if apart else 0
        self._previous = current
        if self._streak >= self.patience:
            began = epoch + 2 - self.patience  # the first epoch (1-based) whose val_loss rose
            self.reported = True
            self.report(epoch + 1, f"overfitting: since epoch {began}, validation loss has "
                        f"risen for {self.patience} epochs while training loss kept falling; "
                        "consider early stopping, dropout or a penalty")
