"""`dlkit.callbacks`: the Keras callbacks a plan asks for, everything written under one run
directory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from dlkit._callbacks.backup import BACKUP_DIR, Backup
from dlkit._callbacks.guards import NanGuard, OverfittingMonitor
from dlkit._callbacks.progress import Progress
from dlkit._callbacks.runlog import RunLog
from dlkit._callbacks.samples import GeneratedSamples
from dlkit._callbacks.tensorboard import EpochTensorBoard, HParamsLogger
from dlkit._plan.load import plan_for
from dlkit._plan.parts import make
from dlkit._plan.plan import Plan
from dlkit._spec.spec import Spec
from dlkit._train.rundir import log_root, new_run_path

CHECKPOINT_DIR = "checkpoints"
MONITORS = ("early_stopping", "checkpoint", "reduce_lr_on_plateau")


def callbacks(spec: Spec | Mapping[str, Any] | str | os.PathLike[str], *,
              log_dir: str | os.PathLike[str] | None = None,
              verbose: bool = True) -> list[keras.callbacks.Callback]:
    """The Keras callbacks a spec asks for, ready for ``model.fit(..., callbacks=...)``.

    Args:
        spec: a `Spec`, or anything `dlkit.load_spec` takes.
        log_dir: the run directory everything is written to; by default a new one under the
            log root (``logs/`` or ``$DLKIT_LOGDIR``): ``<root>/<name>/<YYYYmmdd-HHMMSS>``.
        verbose: print the run's events (early stopping, overfitting) as they happen.

    Returns:
        New callbacks, in the order they must run: the NaN guard, TensorBoard (with the spec as
        hparams; a GAN's generated samples), early stopping (restoring the best weights unless
        told not to), learning-rate
        reduction, checkpoints, the CSV log, the overfitting monitor, the run log that writes
        ``history.json``, and the backup; each as the spec turns it on.

    Example:
        >>> model.fit(x, y, epochs=5, validation_split=0.2, callbacks=dlkit.callbacks(spec))
    """
    plan = plan_for(spec)
    run_dir = Path(log_dir) if log_dir is not None else new_run_path(log_root(), plan.name)
    return make_callbacks(plan, run_dir, verbose=verbose)


def make_callbacks(plan: Plan, run_dir: Path, *, verbose: bool = True,
                   progress: str | None = None, hparams: Mapping[str, Any] | None = None,
                   session: str | None = None) -> list[keras.callbacks.Callback]:
    """The callbacks of `plan` writing into `run_dir`, after a `Progress` display if asked.

    `hparams` are logged beside the spec's own, in the TensorBoard session `session` (default
    ``<name>/<run directory name>``).
    """
    on = {key: _with_mode(key, dict(make(value)), plan.compile.monitor_modes)
          for key, value in plan.callbacks.items() if value is not None}
    run_log = RunLog(run_dir, tensorboard="tensorboard" in on, verbose=verbose)
    made: list[keras.callbacks.Callback] = [Progress(progress)] if progress else []
    if "terminate_on_nan" in on:
        made.append(NanGuard(backup_dir=run_dir / BACKUP_DIR if "backup" in on else None))
    if "tensorboard" in on:
        made.append(EpochTensorBoard(log_dir=str(run_dir), **on["tensorboard"]))
        made.append(HParamsLogger(run_dir, make(plan.settings),
                                  trial_id=session or f"{plan.name}/{run_dir.name}",
                                  extra=hparams))
        if plan.model.gan is not None:
            made.append(GeneratedSamples(run_dir, plan.model.input_shape, seed=plan.seed or 0))
    if "early_stopping" in on:
        stopping = keras.callbacks.EarlyStopping(
            **{"restore_best_weights": True, **on["early_stopping"]})
        run_log.early_stopping = stopping
        made.append(stopping)
    if "reduce_lr_on_plateau" in on:
        made.append(keras.callbacks.ReduceLROnPlateau(**on["reduce_lr_on_plateau"]))
    if "checkpoint" in on:
        made.append(_checkpoint(run_dir, on["checkpoint"]))
    if "csv_logger" in on:
        made.append(keras.callbacks.CSVLogger(str(run_dir / "history.csv"),
                                              **{"append": True, **on["csv_logger"]}))
    if "overfitting" in on:
        made.append(OverfittingMonitor(**on["overfitting"], report=lambda epoch, message:
                                       run_log.add_event(epoch, "overfitting", message)))
    made.append(run_log)
    if "backup" in on:  # last: a backup never holds an epoch history.json lacks
        made.append(Backup(str(run_dir / BACKUP_DIR), **on["backup"]))
    return made


def _with_mode(key: str, settings: dict, modes: Mapping[str, str]) -> dict:
    """``mode: auto`` made explicit where Keras cannot choose it (a metric of one of several
    outputs, ``val_label_accuracy``)."""
    if key in MONITORS and settings.get("mode", "auto") == "auto":
        mode = modes.get(settings.get("monitor", "val_loss").removeprefix("val_"))
        if mode is not None:
            settings["mode"] = mode
    return settings


def _checkpoint(run_dir: Path, settings: dict) -> keras.callbacks.ModelCheckpoint:
    """Best-only by default (``checkpoints/best.keras``); else one file per epoch."""
    settings = {"save_best_only": True, **settings}
    suffix = ".weights.h5" if settings.get("save_weights_only") else ".keras"
    stem = "best" if settings["save_best_only"] else "epoch-{epoch:03d}"
    (run_dir / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
    return keras.callbacks.ModelCheckpoint(str(run_dir / CHECKPOINT_DIR / f"{stem}{suffix}"),
                                           **settings)
