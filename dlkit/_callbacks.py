"""The Keras callbacks a spec's ``callbacks`` section asks for.

Each setting is off (``false``) or a mapping of keyword arguments for one callback class;
the arguments are checked against that class's signature, so nothing here restates Keras.
Paths are dlkit's business: everything a callback writes goes under the run directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from dlkit._backup import BACKUP_DIR, Backup
from dlkit._errors import did_you_mean
from dlkit._guards import NanGuard, OverfittingMonitor
from dlkit._resolve import accepted_arguments
from dlkit._runlog import RunLog
from dlkit._schema import Problems
from dlkit._spec import Spec, load_spec

CHECKPOINT_DIR = "checkpoints"

# setting -> (callback class, the arguments dlkit sets itself)
CLASSES: dict[str, tuple[type, tuple[str, ...]]] = {
    "early_stopping": (keras.callbacks.EarlyStopping, ()),
    "tensorboard": (keras.callbacks.TensorBoard, ("log_dir",)),
    "checkpoint": (keras.callbacks.ModelCheckpoint, ("filepath",)),
    "reduce_lr_on_plateau": (keras.callbacks.ReduceLROnPlateau, ()),
    "csv_logger": (keras.callbacks.CSVLogger, ("filename",)),
    "terminate_on_nan": (NanGuard, ("backup_dir",)),
    "backup": (Backup, ("backup_dir",)),
    "overfitting": (OverfittingMonitor, ("report",)),
}
# Callbacks whose `monitor` must name a metric the run logs.
MONITORING = ("early_stopping", "checkpoint", "reduce_lr_on_plateau")


def check_callbacks(spec: dict, problems: Problems) -> None:
    """Checks each callback's settings against the class that receives them."""
    section = spec.get("callbacks")
    if not isinstance(section, dict):
        return
    for key, (cls, owned) in CLASSES.items():
        settings = section.get(key)
        if not isinstance(settings, dict):
            continue
        accepted = [a for a in accepted_arguments(cls) if a not in owned]
        for name in settings:
            path = f"callbacks.{key}.{name}"
            if name in owned:
                problems.add(path, "set by dlkit (everything is written under the run "
                             "directory); choose the log root with --logdir or DLKIT_LOGDIR")
            elif name not in accepted:
                problems.add(path, f"unknown setting '{name}' for {cls.__name__}"
                             f"{did_you_mean(name, accepted)}; it takes: {', '.join(accepted)}")


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
        hparams), early stopping (restoring the best weights unless told not to), learning-rate
        reduction, checkpoints, the CSV log, the overfitting monitor, the run log that writes
        ``history.json``, and the backup; each as the spec turns it on.

    Example:
        >>> model.fit(x, y, epochs=5, validation_split=0.2, callbacks=dlkit.callbacks(spec))
    """
    spec = load_spec(spec)
    settings = spec.to_dict()
    section = settings["callbacks"]
    run_dir = Path(log_dir) if log_dir is not None else _new_run_path(spec.name)
    run_log = RunLog(run_dir, tensorboard=_on(section, "tensorboard"), verbose=verbose)
    made: list[keras.callbacks.Callback] = []
    if _on(section, "terminate_on_nan"):
        made.append(NanGuard(backup_dir=run_dir / BACKUP_DIR if _on(section, "backup") else None))
    if _on(section, "tensorboard"):
        from dlkit._report import EpochTensorBoard, HParamsLogger

        made.append(EpochTensorBoard(log_dir=str(run_dir), **section["tensorboard"]))
        made.append(HParamsLogger(run_dir, settings, trial_id=f"{spec.name}/{run_dir.name}"))
    if _on(section, "early_stopping"):
        stopping = keras.callbacks.EarlyStopping(
            **{"restore_best_weights": True, **section["early_stopping"]})
        run_log.early_stopping = stopping
        made.append(stopping)
    if _on(section, "reduce_lr_on_plateau"):
        made.append(keras.callbacks.ReduceLROnPlateau(**section["reduce_lr_on_plateau"]))
    if _on(section, "checkpoint"):
        made.append(_checkpoint(run_dir, section["checkpoint"]))
    if _on(section, "csv_logger"):
        made.append(keras.callbacks.CSVLogger(str(run_dir / "history.csv"),
                                              **{"append": True, **section["csv_logger"]}))
    if _on(section, "overfitting"):
        made.append(OverfittingMonitor(**section["overfitting"], report=lambda epoch, message:
                                       run_log.add_event(epoch, "overfitting", message)))
    made.append(run_log)
    if _on(section, "backup"):  # last: a backup never holds an epoch history.json lacks
        made.append(Backup(str(run_dir / BACKUP_DIR), **section["backup"]))
    return made


def _on(section: dict, key: str) -> bool:
    return isinstance(section.get(key), dict)


def _new_run_path(name: str) -> Path:
    from dlkit._rundir import log_root, new_run_path

    return new_run_path(log_root(), name)


def _checkpoint(run_dir: Path, settings: dict) -> keras.callbacks.ModelCheckpoint:
    """Best-only by default (``checkpoints/best.keras``); else one file per epoch."""
    settings = {"save_best_only": True, **settings}
    suffix = ".weights.h5" if settings.get("save_weights_only") else ".keras"
    stem = "best" if settings["save_best_only"] else "epoch-{epoch:03d}"
    (run_dir / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
    return keras.callbacks.ModelCheckpoint(str(run_dir / CHECKPOINT_DIR / f"{stem}{suffix}"),
                                           **settings)
