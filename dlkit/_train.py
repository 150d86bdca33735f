"""`dlkit.train`: data, seeds, strategy, callbacks, fit, and the run directory."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
import yaml

from dlkit import _data, _labels, _rundir
from dlkit._build import build
from dlkit._callbacks import callbacks as spec_callbacks
from dlkit._errors import DataError, Problem, SpecError, TrainingError
from dlkit._runtime import make_strategy, replica_count
from dlkit._spec import Spec, load_spec

BACKUP_DIR = "backup"


@dataclass
class Run:
    """One finished training run.

    Attributes:
        model: the trained `keras.Model` (best weights when early stopping restored them).
        history: per-epoch metrics, ``{"loss": [...], "val_loss": [...], ...}``.
        log_dir: the run directory, ``<root>/<name>/<YYYYmmdd-HHMMSS>``.
    """

    model: keras.Model
    history: dict[str, list[float]]
    log_dir: Path


def train(spec: Spec | Mapping[str, Any] | str | os.PathLike[str], data: Any = None, *,
          logdir: str | os.PathLike[str] | None = None, resume: bool = False,
          callbacks: list[keras.callbacks.Callback] | None = None,
          verbose: int | str = "auto") -> Run:
    """Trains the model a spec describes and writes its run directory.

    Args:
        spec: a `Spec`, or anything `dlkit.load_spec` takes.
        data: ``(x, y)``, ``(x, y, x_val, y_val)`` arrays or a `tf.data.Dataset` of batches;
            by default the spec's ``data`` section is loaded.
        logdir: the log root; default ``$DLKIT_LOGDIR`` or ``logs``.
        resume: continue the newest unfinished run of this spec's name under the log root.
        callbacks: more Keras callbacks, called after dlkit's own.
        verbose: Keras' progress output (0 silent, 1 progress bar, 2 a line per epoch).

    Returns:
        A `Run` with the trained model, its history and its run directory.

    Raises:
        SpecError: a bad spec, or data that does not fit it (`DataError`), found before
            anything is written.
        TrainingError: training diverged (NaN loss) or failed; the run directory is marked
            failed and keeps what was written.
    """
    spec = load_spec(spec)
    settings = spec.to_dict()
    _seed(settings)
    root = _rundir.log_root(logdir)
    resume_dir = _unfinished_run(root, spec) if resume else None
    strategy = make_strategy(settings["runtime"]["strategy"])
    with strategy.scope():
        model = build(spec)
    fit_args = _fit_arguments(settings, model, data)
    run_dir = resume_dir or _rundir.create_run_dir(root, spec.name)
    if resume_dir is None:
        _rundir.write_text_atomic(run_dir / "spec.yaml", yaml.safe_dump(settings, sort_keys=False))
    _rundir.mark(run_dir, "running", strategy=type(strategy).__name__,
                 replicas=replica_count(strategy), tensorflow=tf.__version__,
                 keras=keras.__version__)
    cbs = [*spec_callbacks(spec, log_dir=run_dir), keras.callbacks.TerminateOnNaN(),
           keras.callbacks.BackupAndRestore(str(run_dir / BACKUP_DIR)),
           _HistoryFile(run_dir / "history.json"), *(callbacks or [])]
    try:
        keras_history = model.fit(**fit_args, epochs=settings["train"]["epochs"], callbacks=cbs,
                                  verbose=verbose)
    except BaseException as exc:
        state = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        _rundir.mark(run_dir, state, error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    history = _read_history(run_dir / "history.json", keras_history)
    _finish(model, history, run_dir, cbs)
    return Run(model=model, history=history, log_dir=run_dir)


def _seed(settings: dict) -> None:
    if settings["seed"] is not None:
        keras.utils.set_random_seed(settings["seed"])
    if settings["deterministic"]:
        tf.config.experimental.enable_op_determinism()


def _unfinished_run(root: Path, spec: Spec) -> Path:
    """The newest run of this name not marked finished, for ``--resume``."""
    base = _rundir.run_name_dir(root, spec.name)
    for run_dir in sorted(base.glob("*/"), reverse=True) if base.is_dir() else []:
        status = run_dir / _rundir.STATUS_FILE
        state = json.loads(status.read_text()).get("status") if status.is_file() else None
        if state == "finished":
            continue
        saved = run_dir / "spec.yaml"
        if saved.is_file() and yaml.safe_load(saved.read_text()) != spec.to_dict():
            raise SpecError(Problem("", f"--resume: the spec differs from the one {run_dir} "
                                    "started with; resume with the same spec and --set values"))
        return run_dir
    raise SpecError(Problem("", f"--resume: no unfinished run of {spec.name!r} under {base}; "
                            "start a new run without --resume"))


def _fit_arguments(settings: dict, model: keras.Model, data: Any) -> dict[str, Any]:
    """Loads and checks the data; returns `model.fit`'s data arguments."""
    if isinstance(data, tf.data.Dataset):  # batched and shuffled by its maker
        return {"x": data, "shuffle": False}
    if data is None:
        if settings["data"] is None:
            raise SpecError(Problem("data", "no data: add a data section (e.g. source: digits) "
                                    "or pass data= to dlkit.train"))
        arrays = _data.load(settings["data"], input_shape=settings["model"]["input_shape"],
                            seed=settings["seed"])
    else:
        arrays = _arrays_from(data, settings["model"]["input_shape"])
    arrays = _with_labels_fitted(arrays, model)
    split = (settings["data"] or {}).get("validation_split", 0.2)
    if arrays.x_val is None and split:
        arrays = _split(arrays, split, settings["seed"])
    _check_monitor(settings, model, has_validation=arrays.x_val is not None)
    batch = settings["train"]["batch_size"]
    return {"x": arrays.x, "y": arrays.y, "shuffle": settings["train"]["shuffle"],
            "batch_size": len(arrays.x) if batch == "full" else batch,
            "validation_data": None if arrays.x_val is None else (arrays.x_val, arrays.y_val)}


def _arrays_from(data: Any, input_shape: list) -> _data.Arrays:
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 4):
        raise DataError(Problem("data", "pass data as (x, y), (x, y, x_val, y_val) or a "
                                f"tf.data.Dataset; received {type(data).__name__}"))
    return _data._shaped(_data.Arrays(*data), input_shape)


def _with_labels_fitted(arrays: _data.Arrays, model: keras.Model) -> _data.Arrays:
    if len(arrays.x) != len(arrays.y):
        raise DataError(Problem("data", f"x has {len(arrays.x)} samples but y has "
                                f"{len(arrays.y)}"))
    shape = tuple(model.output_shape)
    y = _labels.fit_labels(arrays.y, loss=model.loss, output_shape=shape)
    y_val = None if arrays.y_val is None else _labels.fit_labels(
        arrays.y_val, loss=model.loss, output_shape=shape, which="y_val")
    return _data.Arrays(arrays.x, y, arrays.x_val, y_val)


def _split(arrays: _data.Arrays, fraction: float, seed: int | None) -> _data.Arrays:
    """Holds out a shuffled `fraction` for validation (Keras' validation_split does not shuffle,
    so sorted data would validate on one class only)."""
    order = np.random.default_rng(seed).permutation(len(arrays.x))
    held = max(1, int(round(len(order) * fraction)))
    if held >= len(order):
        raise DataError(Problem("data.validation_split", f"{len(order)} samples leave none for "
                                "training after the validation split"))
    train, val = order[:-held], order[-held:]
    return _data.Arrays(arrays.x[train], arrays.y[train], arrays.x[val], arrays.y[val])


def _check_monitor(settings: dict, model: keras.Model, *, has_validation: bool) -> None:
    """Early stopping must watch a metric that will exist."""
    stopping = settings["callbacks"]["early_stopping"]
    if not isinstance(stopping, dict):
        return
    names = ["loss", *(m if isinstance(m, str) else getattr(m, "name", str(m))
                       for m in _compiled_metrics(settings))]
    logged = [*names, *(f"val_{n}" for n in names)] if has_validation else names
    monitor = stopping.get("monitor", "val_loss")
    if monitor not in logged:
        why = " (there is no validation data)" if monitor.startswith("val_") and \
            not has_validation else ""
        raise SpecError(Problem("callbacks.early_stopping.monitor", f"{monitor!r} will never be "
                                f"logged{why}; this run logs: {', '.join(logged)}"))


def _compiled_metrics(settings: dict) -> list:
    return [m if isinstance(m, str) else m.get("name", m["type"])
            for m in settings["compile"]["metrics"]]


class _HistoryFile(keras.callbacks.Callback):
    """Writes ``history.json`` after every epoch, each epoch once even across resumes."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        history = json.loads(self.path.read_text()) if self.path.is_file() else {}
        for key, value in (logs or {}).items():
            history[key] = [*history.get(key, [])[:epoch], float(value)]
        _rundir.write_json_atomic(self.path, history)


def _read_history(path: Path, keras_history: keras.callbacks.History) -> dict[str, list[float]]:
    if path.is_file():
        return json.loads(path.read_text())
    return {k: [float(v) for v in vs] for k, vs in keras_history.history.items()}


def _finish(model: keras.Model, history: dict, run_dir: Path, cbs: list) -> None:
    """Saves the model and marks the run; a diverged run is marked failed and raises."""
    losses = history.get("loss", [])
    if losses and not math.isfinite(losses[-1]):
        epoch = len(losses)
        _rundir.mark(run_dir, "failed", error=f"loss became {losses[-1]} in epoch {epoch}")
        raise TrainingError(f"training diverged: the loss became {losses[-1]} in epoch {epoch}; "
                            "lower the learning rate or normalize the inputs. The run "
                            f"directory {run_dir} is marked failed and keeps its backup.")
    _rundir.write_atomic(run_dir / "model.keras", lambda tmp: model.save(tmp))
    stopping = next((c for c in cbs if isinstance(c, keras.callbacks.EarlyStopping)), None)
    details: dict[str, Any] = {"epochs_run": len(losses)}
    if stopping is not None and stopping.stopped_epoch > 0:
        details["early_stopping"] = {"stopped_epoch": stopping.stopped_epoch + 1,
                                     "best_epoch": _best_epoch(history, stopping),
                                     "monitor": stopping.monitor}
    _rundir.mark(run_dir, "finished", **details)


def _best_epoch(history: dict, stopping: keras.callbacks.EarlyStopping) -> int | None:
    values = history.get(stopping.monitor)
    if not values or stopping.best is None:
        return None
    return int(np.argmin(np.abs(np.asarray(values) - float(stopping.best)))) + 1


def summary_line(run: Run) -> str:
    """A short end-of-run summary for the console."""
    history = run.history
    monitor = "val_loss" if "val_loss" in history else "loss"
    values = history.get(monitor, [])
    if not values:
        return f"run directory: {run.log_dir}"
    best = int(np.nanargmin(values))
    shown = ", ".join(f"{k} {v[best]:.4f}" for k, v in history.items() if len(v) > best)
    return (f"best epoch {best + 1} of {len(values)} by {monitor}: {shown}\n"
            f"run directory: {run.log_dir}")
