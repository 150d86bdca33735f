"""What a run writes for TensorBoard: epoch scalars, the spec as hparams, restart markers.

- `EpochTensorBoard`: Keras' `TensorBoard` callback without per-batch work when it logs once
  an epoch.
- The resolved spec, flattened (``model.layers[0].units``), as TensorBoard hparams, through
  `tensorboard.plugins.hparams.api`. No experiment config is written: TensorBoard then infers
  the experiment from all runs' sessions, marks the settings that differ between runs, and
  takes the runs' metrics (``epoch_loss`` of ``train`` and ``validation``, ...) from their
  scalars.
- `mark_restart`: where a resumed run starts again, so that every curve has each step once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from dlkit._compat.callbacks import TensorBoardHooks
from dlkit._compat.tensorboard import write_session_starts


def flatten(value: Any, prefix: str = "") -> dict[str, bool | int | float | str]:
    """``{"a": {"b": [1, {"c": 2}]}}`` -> ``{"a.b[0]": 1, "a.b[1].c": 2}``.

    Lists of plain values stay whole, as text (``model.input_shape: "[8, 8, 1]"``).
    """
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list):
        if all(not isinstance(item, (dict, list)) for item in value):
            return {prefix: "[" + ", ".join(_text(item) for item in value) + "]"}
        flat = {}
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}[{index}]"))
        return flat
    if value is None:
        return {prefix: "null"}
    return {prefix: value}


def _text(value: Any) -> str:
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def write_hparams(log_dir: Path, spec: dict, *, trial_id: str,
                  extra: Mapping[str, Any] | None = None) -> None:
    """Logs the resolved spec (and `extra` values, by name) as this run's hparams session."""
    from tensorboard.plugins.hparams import api as hp

    with tf.summary.create_file_writer(str(log_dir)).as_default() as writer:
        hp.hparams({**flatten(spec), **(extra or {})}, trial_id=trial_id)
        writer.flush()


class EpochTensorBoard(TensorBoardHooks):
    """Keras' `TensorBoard` callback, without per-batch work when it logs once an epoch.

    Keras' callback runs Python at every train and test batch (counting batches, calling
    `tf.summary.scalar` for each metric with no writer to record it): about 5% of a small
    model's fit time here. With ``update_freq="epoch"``, no profiling and no steps-per-second
    logging, that work records nothing, so those hooks are Keras' no-op defaults here, and the
    train graph (if Keras can write one) is written at the first epoch's end instead of after
    the first batch. Any other setting keeps Keras' behaviour.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epoch_only = (self.update_freq == "epoch" and not self.traces_batches
                           and not self.write_steps_per_second)
        if self.epoch_only:
            default = keras.callbacks.Callback
            for hook in ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
                         "on_test_batch_end"):
                setattr(self, hook, getattr(default, hook).__get__(self))

    def on_test_end(self, logs: dict | None = None) -> None:
        """Writes nothing: Keras' ``evaluation_*_vs_iterations`` repeat the epoch's validation
        scalars with iteration counts as steps, which would break the epoch steps that a
        resumed run's restart marker (`mark_restart`) relies on."""
        self.close_test_writer()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.epoch_only:
            self.write_train_graph_once()
        super().on_epoch_end(epoch, logs)


def mark_restart(log_dir: Path, *, epoch: int) -> None:
    """Tells TensorBoard that a resumed run restarts at 0-based `epoch`.

    Writes a `SessionLog.START` event at that step into ``train/`` and ``validation/`` (and at
    ``epoch + 1`` in the run directory, whose text events count epochs from 1): TensorBoard then
    drops what the killed process wrote for epochs the resumed run repeats, so every curve has
    each step once. Uses TensorBoard's own event writer. TensorBoard reads a folder's event
    files in name order, and names begin with the second they were made: the marker is made in
    a second of its own, after the old files and before the resumed run's.
    """
    time.sleep(1.0 - time.time() % 1.0 + 0.01)
    for folder, step in ((log_dir / "train", epoch), (log_dir / "validation", epoch),
                         (log_dir, epoch + 1)):
        if not folder.is_dir():
            continue
        first_restart = not any(folder.glob("*.restart"))
        # TensorBoard takes a folder's first START as the session's start, not a restart.
        write_session_starts(folder, [0, step] if first_restart else [step], suffix=".restart")
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


class HParamsLogger(keras.callbacks.Callback):
    """Writes the hparams session when training begins."""

    def __init__(self, log_dir: Path, spec: dict, trial_id: str,
                 extra: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.log_dir, self.spec, self.trial_id = Path(log_dir), spec, trial_id
        self.extra = extra

    def on_train_begin(self, logs: dict | None = None) -> None:
        write_hparams(self.log_dir, self.spec, trial_id=self.trial_id, extra=self.extra)
