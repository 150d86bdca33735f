"""One trial: the spec with the oracle's values in its spaces, trained into ``trials/<id>/``.

A trial is an ordinary dlkit run (`dlkit._train.train.train_into`): its run directory has
``spec.yaml`` (a concrete spec), TensorBoard events, ``history.json``, ``model.keras`` and
``run.json``. Its score is the objective at its best epoch (the mean over executions when
``executions_per_trial`` > 1, each then in ``trials/<id>/execution-<k>/``). Whatever stops a
trial (a combination Keras refuses, a NaN loss, memory) fails that trial only: `TrialFailed`
carries the reason, also written to ``trials/<id>/run.json``.

Memory stays flat across trials: Keras' session is cleared before each, and the custom
gradients TensorFlow registered while it trained are released after it
(`dlkit._compat.gradients`).

Hyperband's later rounds continue a trial of the round before, as KerasTuner's own Hyperband
does: its best epoch's weights (``checkpoint.weights.h5``, kept by a `ModelCheckpoint` on the
objective) are loaded and training goes on from epoch ``tuner/initial_epoch`` to
``tuner/epochs``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from dlkit._compat.gradients import custom_gradients_released
from dlkit._core.errors import DlkitError, one_line
from dlkit._plan.load import load_spec
from dlkit._search.board import session_values, write_score
from dlkit._search.space import spec_values
from dlkit._search.spec import SearchSpec
from dlkit._train import rundir
from dlkit._train.train import Start, tf_reason, train_into

TRIALS_DIR = "trials"
TRIAL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHECKPOINT = "checkpoint.weights.h5"


class TrialFailed(Exception):
    """A trial could not be scored; the message says why (recorded in ``search.json``)."""


@dataclass(frozen=True)
class Round:
    """Hyperband's plan for a trial: train to `epochs`, from `initial_epoch`, continuing the
    weights of trial `parent` (None in a bracket's first round)."""

    epochs: int
    initial_epoch: int
    parent: str | None


def round_of(chosen: Mapping[str, Any]) -> Round | None:
    """The hyperband round a trial's values carry, or None for other algorithms."""
    if "tuner/epochs" not in chosen:
        return None
    return Round(int(chosen["tuner/epochs"]), int(chosen.get("tuner/initial_epoch", 0)),
                 chosen.get("tuner/trial_id"))


class TrialRunner:
    """Trains trials of one search into its ``trials/`` folder.

    Args:
        search: the search spec.
        search_dir: the search directory.
        data: what `dlkit.train` takes as data, for every trial (default: the spec's).
    """

    def __init__(self, search: SearchSpec, search_dir: Path, *, data: Any = None) -> None:
        self.search = search
        self.trials_dir = Path(search_dir) / TRIALS_DIR
        self.data = data
        self.objective = search.settings["objective"]
        self.executions = search.settings["executions_per_trial"]

    def run(self, trial_id: str, chosen: Mapping[str, Any]) -> float:
        """Trains trial `trial_id` with the oracle's values `chosen`; returns its score.

        Raises:
            TrialFailed: the trial cannot be scored (recorded in its ``run.json``).
        """
        if not TRIAL_ID.match(trial_id):  # it names a folder: never one outside trials/
            raise TrialFailed(f"refused trial id {trial_id!r}: letters, digits, - and _ only")
        values = spec_values(self.search.spaces, chosen)
        plan = round_of(chosen)
        trial_dir = self.trials_dir / trial_id
        if trial_dir.exists():  # cut short by a killed search: it runs again from its start
            shutil.rmtree(trial_dir)
        checkpoint = self._checkpoint(trial_dir) if plan is not None else None
        try:
            raw = self.search.concrete(values)
            if plan is not None:
                raw["train"]["epochs"] = plan.epochs
            spec = _loaded(raw)
            with retracing_unreported():
                scores = [self._execute(spec, raw, trial_id, values, plan, checkpoint, k)
                          for k in range(self.executions)]
        except TrialFailed as exc:
            trial_dir.mkdir(parents=True, exist_ok=True)
            rundir.mark(trial_dir, "failed", error=str(exc))
            raise
        return sum(scores) / len(scores)

    def _execute(self, spec: Any, raw: dict, trial_id: str, values: Mapping[str, Any],
                 plan: Round | None, checkpoint: Any, index: int) -> float:
        """One training of the trial's spec (a new seed for each execution after the first)."""
        if index > 0 and raw.get("seed") is not None:
            spec = _loaded({**raw, "seed": raw["seed"] + index})
        trial_dir = self.trials_dir / trial_id
        run_dir = trial_dir if self.executions == 1 else trial_dir / f"execution-{index + 1}"
        hparams = session_values(self.search, values)
        start = Start(run_dir, weights=self._parent_weights(plan),
                      epoch=plan.initial_epoch if plan else 0, hparams=hparams,
                      session=f"trial {trial_id} ({self.trials_dir.parent.name})",
                      pictures=False)
        keras.backend.clear_session()  # the last trial's models and graphs go (and gc runs)
        try:
            with custom_gradients_released():  # else every trial's graphs stay in memory
                run = train_into(spec, start, self.data, verbose=0,
                                 callbacks=[checkpoint] if checkpoint is not None else None)
        except Exception as exc:  # noqa: BLE001 - any failure fails this trial only
            raise TrialFailed(_reason(exc)) from None
        score, epochs = self._score(run.history)
        write_score(run_dir, score, step=start.epoch + epochs - 1)
        return score

    def _score(self, history: Mapping[str, list[float]]) -> tuple[float, int]:
        """The objective at the best epoch, and how many epochs ran."""
        name = self.objective["name"]
        logged = history.get(name) or []
        if not logged:
            raise TrialFailed(f"the trial never logged {name}")
        finite = [value for value in logged if math.isfinite(value)]
        if not finite:
            raise TrialFailed(f"{name} was {logged[-1]} at every epoch: the trial diverged")
        return (max(finite) if self.objective["direction"] == "max" else min(finite)), \
            len(logged)

    def _checkpoint(self, trial_dir: Path) -> keras.callbacks.ModelCheckpoint:
        """Keeps the best epoch's weights (across executions), for hyperband's next round."""
        return keras.callbacks.ModelCheckpoint(
            str(trial_dir / CHECKPOINT), monitor=self.objective["name"],
            mode=self.objective["direction"], save_best_only=True, save_weights_only=True)

    def _parent_weights(self, plan: Round | None) -> Path | None:
        if plan is None or plan.parent is None:
            return None
        if not TRIAL_ID.match(plan.parent):
            raise TrialFailed(f"refused the trial id to continue, {plan.parent!r}")
        weights = self.trials_dir / plan.parent / CHECKPOINT
        if not weights.is_file():
            raise TrialFailed(f"this round continues trial {plan.parent}, whose weights are not "
                              f"at {weights}; a distributed hyperband search needs the log root "
                              "on a filesystem every worker shares")
        return weights


class RetracingNotice(logging.Filter):
    """Drops TensorFlow's warning that a function "triggered tf.function retracing": every
    trial builds a new model, so its functions are traced anew on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def retracing_unreported() -> Iterator[None]:
    logger, notice = logging.getLogger("tensorflow"), RetracingNotice()
    logger.addFilter(notice)
    try:
        yield
    finally:
        logger.removeFilter(notice)


def _loaded(raw: dict) -> Any:
    """The trial's `Spec`; a combination that validation refuses fails the trial."""
    try:
        return load_spec(raw)
    except DlkitError as exc:
        raise TrialFailed(_reason(exc)) from None


def _reason(exc: BaseException) -> str:
    """Why a trial failed, in one line: dlkit's message, or the first line of another."""
    if isinstance(exc, DlkitError):
        lines = [line.strip(" -") for line in str(exc).splitlines()]
        text = "; ".join(line for line in lines[1:] if line) if len(lines) > 1 else lines[0]
    elif isinstance(exc, MemoryError):
        text = "out of memory"
    else:
        text = f"{type(exc).__name__}: {tf_reason(exc)}"
    return one_line(text)[:1000]
