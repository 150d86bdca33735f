"""Callback settings checked against the classes that receive them, and monitors against the
metrics a run will log.

Each setting is off (``false``) or a mapping of keyword arguments for one callback class; the
arguments are checked against that class's signature, so nothing here restates Keras. Paths
are dlkit's business: the arguments that name files are set by dlkit, never by a spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import keras

from dlkit._callbacks.backup import Backup
from dlkit._callbacks.guards import NanGuard, OverfittingMonitor
from dlkit._core.errors import Problem, Problems, SpecError, did_you_mean
from dlkit._plan.parts import freeze
from dlkit._plan.registry import accepted_arguments

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


def callback_settings(spec: dict, problems: Problems) -> Mapping[str, Mapping | None]:
    """Checks each callback's settings against its class; returns them, None where off."""
    section = spec.get("callbacks")
    if not isinstance(section, dict):
        return MappingProxyType({})
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
    return MappingProxyType({key: freeze(value) if isinstance(value, dict) else None
                             for key, value in section.items()})


def logged_metrics(metric_names: tuple[str, ...], callbacks: Mapping[str, Any], *,
                   has_validation: bool, losses: tuple[str, ...] = ("loss",)) -> list[str]:
    """Every name a run's history will have: losses (a GAN's are d_loss and g_loss),
    metrics, their val_ forms, the rate."""
    names = [*losses, *metric_names]
    logged = [*names, *(f"val_{n}" for n in names)] if has_validation else names
    if callbacks.get("reduce_lr_on_plateau") is not None or \
            callbacks.get("tensorboard") is not None:
        logged.append("learning_rate")
    return logged


def check_monitors(metric_names: tuple[str, ...], callbacks: Mapping[str, Any], *,
                   has_validation: bool, losses: tuple[str, ...] = ("loss",)) -> None:
    """Early stopping, checkpoints and learning-rate reduction watch metrics that will exist.

    Raises:
        SpecError: naming each monitor that will never be logged, and what is.
    """
    logged = logged_metrics(metric_names, callbacks, has_validation=has_validation,
                            losses=losses)
    problems = []
    for key in MONITORING:
        settings = callbacks.get(key)
        monitor = settings.get("monitor", "val_loss") if settings is not None else None
        if monitor is not None and monitor not in logged:
            why = " (there is no validation data)" if monitor.startswith("val_") and \
                not has_validation else ""
            problems.append(Problem(f"callbacks.{key}.monitor", f"{monitor!r} will never be "
                                    f"logged{why}; this run logs: {', '.join(logged)}"))
    if problems:
        raise SpecError(problems)
