"""The run's backup (``backup/``): what ``--resume`` continues from, written crash-safely."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dlkit._compat.callbacks import BackupAndRestoreHooks, set_initial_epoch
from dlkit._core.files import read_json, write_atomic, write_json_atomic

BACKUP_DIR = "backup"
COST_SHARE = 20  # time between saves >= 20 x the last save's duration: at most 5% saving
METADATA_FILE = "training_metadata.json"  # Keras' name, kept


class Backup(BackupAndRestoreHooks):
    """Keras' `BackupAndRestore`, made crash-safe and cheaper.

    - Crash-safe: Keras overwrites ``latest.weights.h5`` in place and then the metadata, so a
      kill during a save leaves a torn file, or weights one epoch ahead of the metadata. Here
      each save writes ``epoch-NNNNNN.weights.h5`` under a temporary name, renames it, and then
      commits by atomically replacing ``training_metadata.json``, which names that file; older
      weight files are removed only after the commit. A kill at any moment leaves a backup
      whose weights and epoch belong together.
    - Cheaper: a save costs 10-30 ms for a small model (a tenth of its epoch) and 0.2-0.5 s
      for a 12M-parameter one. At an epoch's end it saves only once `min_interval` seconds
      have passed since training began or since the last save (so a crash loses about that
      much work), and only if saving takes at most 1/`COST_SHARE` of the time in between.
      ``min_interval: 0`` saves every epoch, as Keras does.

    Args:
        backup_dir: where the backup lives.
        min_interval: seconds between saves at epoch ends.
        **kwargs: the rest of `keras.callbacks.BackupAndRestore`'s arguments.
    """

    def __init__(self, backup_dir: str, min_interval: float = 10.0, **kwargs: Any) -> None:
        super().__init__(backup_dir, **kwargs)
        if not isinstance(min_interval, (int, float)) or min_interval < 0:
            raise ValueError(f"min_interval is a number of seconds >= 0, received "
                             f"{min_interval!r}")
        self.min_interval = float(min_interval)
        self.clock: Callable[[], float] = time.monotonic  # seconds; tests may set their own
        self._last_save = -float("inf")
        self._save_seconds = 0.0
        # Where to restore from, when not from backup_dir: a multi-worker run's other workers
        # resume from the chief's backup and write their own into temporary directories.
        self.restore_dir: Path | None = None
        # Saved with each backup besides its epoch: the training phase (dlkit._train.phases).
        self.metadata: dict[str, Any] = {}

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)  # restores the backup, if there is one
        self._last_save = self.clock()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq != "epoch":
            super().on_epoch_end(epoch, logs)
            return
        self.finish_epoch(epoch)
        interval = self.min_interval and max(self.min_interval, COST_SHARE * self._save_seconds)
        if self.clock() - self._last_save >= interval:
            started = self.clock()
            self.save_backup()
            self._last_save = self.clock()
            self._save_seconds = self._last_save - started

    def save_backup(self) -> None:
        folder = Path(self.backup_dir)
        folder.mkdir(parents=True, exist_ok=True)
        weights = folder / f"epoch-{self.epochs_done:06d}.weights.h5"
        write_atomic(weights, lambda tmp: self.model.save_weights(tmp, overwrite=True))
        write_json_atomic(folder / METADATA_FILE, {
            "epoch": self.epochs_done, "batch": self.batches_done, "weights": weights.name,
            **self.metadata})
        for old in folder.glob("*.weights.h5"):
            if old != weights:
                old.unlink(missing_ok=True)

    def load_backup(self) -> None:
        folder = self.restore_dir or Path(self.backup_dir)
        weights = backup_weights(folder)
        if weights is not None:
            if self.model.optimizer is not None and not self.model.optimizer.built:
                self.model.optimizer.build(self.model.trainable_variables)
            self.model.load_weights(weights)
            set_initial_epoch(self.model, backup_epoch(folder))  # as Keras does


def backup_epoch(folder: Path) -> int:
    """How many epochs a backup holds (0 when there is none)."""
    return int(backup_metadata(folder).get("epoch", 0))


def backup_metadata(folder: Path) -> dict[str, Any]:
    """A backup's metadata (``epoch``, ``weights``, ...), empty when there is none."""
    return read_json(folder / METADATA_FILE, {})


def backup_weights(folder: Path) -> Path | None:
    """The weights file a backup's metadata names (Keras' own layout as a fallback)."""
    metadata = read_json(folder / METADATA_FILE)
    if metadata is None:
        return None
    return folder / metadata.get("weights", "latest.weights.h5")
