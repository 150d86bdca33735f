"""KerasTuner's tuner for a spec: its oracle chooses the values, `TrialRunner` trains them.

`SpecTuner` is a `keras_tuner.engine.base_tuner.BaseTuner`, so KerasTuner's own loop, state
files (``tuner/`` in the search directory: the oracle and every trial, which is what
``--resume`` reloads) and distributed mode (a worker's oracle is a gRPC client of the chief's)
all work unchanged. In a worker, a thread asks the chief about the running trial every few
seconds: the chief counts a trial as lost when that stops (`dlkit._search.chief.Watch`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from keras_tuner.engine.base_tuner import BaseTuner
from keras_tuner.errors import FailedTrialError

from dlkit._search.trial import TrialFailed, TrialRunner

PROJECT = "tuner"  # KerasTuner's state, inside the search directory
IDLE_WAIT = 0.25  # seconds between asking an oracle that has nothing to run yet


class SpecTuner(BaseTuner):
    """Runs the trials an oracle creates, each through a `TrialRunner`.

    Args:
        oracle: a KerasTuner oracle whose search space is the spec's spaces.
        runner: trains one trial (may be set later, once a worker knows its search).
        directory: where KerasTuner keeps its state (``<directory>/tuner/``).
        on_end: called with each trial after the oracle recorded its end.
        heartbeat: seconds between a worker's words to the chief during a trial (None: none).
    """

    def __init__(self, oracle: Any, runner: TrialRunner | None, *, directory: Path,
                 on_end: Callable[[Any], None] | None = None,
                 heartbeat: float | None = None) -> None:
        self.runner = runner
        self.on_end = on_end
        self.heartbeat = heartbeat
        self.idle_asks = 0
        super().__init__(oracle, hypermodel=None, directory=str(directory),
                         project_name=PROJECT, overwrite=False)

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        """Trains the trial; a trial that cannot be scored fails alone (KerasTuner goes on)."""
        with self.beating(trial.trial_id):
            try:
                score = self.runner.run(trial.trial_id, trial.hyperparameters.values)
            except TrialFailed as exc:
                raise FailedTrialError(str(exc)) from None
        return {self.oracle.objective.name: score}

    def pre_create_trial(self) -> None:
        """Waits a little before asking again an oracle that had nothing to run (hyperband
        waiting for a round to finish elsewhere), instead of asking in a busy loop."""
        if self.idle_asks:
            time.sleep(IDLE_WAIT)
        self.idle_asks += 1

    def on_trial_begin(self, trial: Any) -> None:
        self.idle_asks = 0

    def on_trial_end(self, trial: Any) -> None:
        super().on_trial_end(trial)
        if self.on_end is not None:
            self.on_end(trial)

    @contextlib.contextmanager
    def beating(self, trial_id: str) -> Iterator[None]:
        """While the block runs, asks the oracle about `trial_id` every `heartbeat` seconds."""
        if self.heartbeat is None:
            yield
            return
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.heartbeat):
                try:
                    self.oracle.get_trial(trial_id)
                except Exception:  # noqa: BLE001 - the chief gone: the main loop will say so
                    return

        thread = threading.Thread(target=beat, name=f"dlkit-heartbeat-{trial_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
