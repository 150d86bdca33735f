"""Fine-tuning (``train.fine_tune``): a second phase of training after the head has trained on
the frozen base, with part of the base unfrozen and a smaller learning rate.

Both phases run in one run directory through the same callbacks: the second phase's epochs
follow the first phase's last (which early stopping may have ended early), so
``history.json``, the TensorBoard curves and the learning curve are one continuous run, and
the learning rate's drop shows in TensorBoard. At the boundary the model is set for the second
phase (`enter_fine_tune`) and backed up at once, its backup marked ``phase: fine_tune``, so
``--resume`` knows which phase to continue in. When early stopping watches, its best value
and weights carry over into the second phase: fine-tuning that never beats the first phase
ends with the first phase's best weights restored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from dlkit._callbacks.backup import BACKUP_DIR, Backup, backup_metadata
from dlkit._callbacks.runlog import RunLog, read_history
from dlkit._callbacks.tensorboard import HParamsLogger
from dlkit._model.base import base_of, set_trainable
from dlkit._model.build import compile_plan
from dlkit._plan.plan import Plan
from dlkit._train import rundir

FINE_TUNE = "fine_tune"
FIRST_EPOCH = "fine_tune_first_epoch"  # in run.json: the fine-tuning phase's first epoch (1-based)
PHASE_NAMES = {"train": "the first phase", FINE_TUNE: "the fine-tuning phase"}

# fit(epochs, initial_epoch, callbacks): one `model.fit` of the run
Fit = Callable[[int, int, list], None]


def enter_fine_tune(model: keras.Model, plan: Plan) -> None:
    """Unfreezes the base as ``train.fine_tune`` says (its BatchNormalization layers stay
    frozen) and compiles the model again with the fine-tuning learning rate."""
    tune = plan.fit.fine_tune
    set_trainable(base_of(model), tune.first_layer)
    compile_plan(model, dataclasses.replace(
        plan, compile=dataclasses.replace(plan.compile, optimizer=tune.optimizer)))
    model.optimizer.build(model.trainable_variables)  # so that backups hold its state


def resumed_phase(resume_dir: Path | None, model: keras.Model, plan: Plan,
                  strategy: tf.distribute.Strategy) -> int | None:
    """For a resumed run whose backup is from the fine-tuning phase: sets the model for that
    phase (before its backup is read into it) and returns the phase's first epoch (0-based);
    else None."""
    if resume_dir is None or plan.fit.fine_tune is None:
        return None
    metadata = backup_metadata(resume_dir / BACKUP_DIR)
    if metadata.get("phase") != FINE_TUNE:
        return None
    with strategy.scope():
        enter_fine_tune(model, plan)
    return int(metadata["phase_start"])


def run_phases(model: keras.Model, plan: Plan, fit: Fit, cbs: list, run_dir: Path,
               strategy: tf.distribute.Strategy, *, first_epoch: int = 0,
               fine_tune_start: int | None = None) -> None:
    """Trains the first phase (unless resuming in the second) and, when the plan fine-tunes,
    the second.

    Args:
        fit: runs one `model.fit` of the run.
        first_epoch: the first phase's first epoch (0-based; a resumed run's backup sets its own).
        fine_tune_start: a resumed run's fine-tuning phase's first epoch (`resumed_phase`).
    """
    tune = plan.fit.fine_tune
    if fine_tune_start is None:
        fit(plan.fit.epochs, first_epoch, cbs)
        if tune is None:
            return
        fine_tune_start = len(read_history(run_dir)["metrics"].get("loss", []))
        best = _best_so_far(cbs)
        with strategy.scope():
            enter_fine_tune(model, plan)
        _begin(cbs, run_dir, plan, fine_tune_start, model)
        cbs = _second_phase_callbacks(cbs, best)
    for callback in cbs:
        if isinstance(callback, Backup):
            callback.metadata = {"phase": FINE_TUNE, "phase_start": fine_tune_start}
    fit(fine_tune_start + tune.epochs, fine_tune_start, cbs)


def _begin(cbs: list, run_dir: Path, plan: Plan, start: int, model: keras.Model) -> None:
    """Backs up the model set for the second phase, and records where the phase begins."""
    for callback in cbs:
        if isinstance(callback, Backup):
            callback.metadata = {"phase": FINE_TUNE, "phase_start": start}
            callback.finish_epoch(start - 1)
            callback.save_backup()
    rundir.mark(run_dir, "running", **{FIRST_EPOCH: start + 1})
    base = base_of(model)
    trained = sum(layer.trainable for layer in base.layers)
    message = (f"fine-tuning from epoch {start + 1}: {trained} of {len(plan.model.base.layers)} "
               f"layers of the base train (its BatchNormalization layers stay frozen), "
               f"learning rate {plan.fit.fine_tune.optimizer.args['learning_rate']:g}, "
               f"{plan.fit.fine_tune.epochs} epochs")
    for callback in cbs:
        if isinstance(callback, RunLog):
            callback.add_event(start + 1, FINE_TUNE, message)


def _best_so_far(cbs: list) -> dict[str, Any] | None:
    """What early stopping found best in the first phase, to carry into the second."""
    for callback in cbs:
        if isinstance(callback, keras.callbacks.EarlyStopping) and callback.best is not None:
            return {"best": callback.best, "best_weights": callback.best_weights,
                    "best_epoch": callback.best_epoch}
    return None


def _second_phase_callbacks(cbs: list, best: dict[str, Any] | None) -> list:
    """The first phase's callbacks, less the hparams (written once), with early stopping's
    best carried over (it starts afresh at every `fit`)."""
    second = []
    for callback in cbs:
        if isinstance(callback, HParamsLogger):
            continue
        second.append(callback)
        if best is not None and isinstance(callback, keras.callbacks.EarlyStopping):
            second.append(_CarryBest(callback, best))
    return second


class _CarryBest(keras.callbacks.Callback):
    """Gives early stopping, just reset by a new `fit`, the best it had found before."""

    def __init__(self, stopping: keras.callbacks.EarlyStopping, best: dict[str, Any]) -> None:
        super().__init__()
        self.stopping, self.best = stopping, best

    def on_train_begin(self, logs: dict | None = None) -> None:
        for key, value in self.best.items():
            setattr(self.stopping, key, value)


def best_with_phase(best: dict | None, run_dir: Path) -> dict | None:
    """The run's best epoch with the phase it came from (``train`` or ``fine_tune``), when
    the run fine-tuned."""
    first = rundir.read_status(run_dir).get(FIRST_EPOCH)
    if best is None or first is None:
        return best
    return {**best, "phase": FINE_TUNE if best["epoch"] >= first else "train"}
