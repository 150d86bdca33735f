"""The chief of a distributed search: KerasTuner's oracle served to workers, and watched.

The chief owns the oracle (and so ``search.json``); workers are KerasTuner's own clients,
each running trials until the oracle says the search is over. A worker that dies mid-trial
would leave its trial running forever in KerasTuner's own chief (keras-team/keras-tuner#254,
#990); here its trial fails with the reason and the search goes on: a worker process dlkit
started is seen to exit at once, and any worker is lost once the chief has heard nothing of
it for ``search.worker_timeout`` seconds (workers speak every few seconds during a trial).
The chief returns when every trial has ended and every worker has been told to stop.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dlkit._compat.keras_tuner import serve_oracle
from dlkit._core.errors import ClusterError, TrainingError
from dlkit._search.report import Reporter
from dlkit._search.trial import TRIALS_DIR
from dlkit._train import rundir

POLL = 0.2  # seconds between the chief's looks at its oracle and workers
WORKER_LOGS = "workers"
WORKER_GRACE = 30.0  # seconds a told-to-stop worker has to finish on its own


class Watch:
    """When each worker and each trial was last heard of; which workers are lost.

    Args:
        timeout: seconds of silence after which a worker counts as lost.
        clock: seconds, monotonic (tests pass their own).
    """

    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout, self.clock = timeout, clock
        self.last: dict[tuple[str, str], float] = {}
        self.lock = threading.Lock()

    def heard(self, kind: str, key: str) -> None:
        with self.lock:
            self.last[(kind, key)] = self.clock()

    def lost(self, oracle: Any) -> list[str]:
        """The workers the oracle counts on that have been silent for longer than `timeout`."""
        now, found = self.clock(), []
        with self.lock:
            for tuner_id in list(oracle.tuner_ids):
                trial = oracle.ongoing_trials.get(tuner_id)
                times = [self.last.get(("tuner", tuner_id)),
                         self.last.get(("trial", trial.trial_id)) if trial else None]
                known = [t for t in times if t is not None]
                if not known:
                    self.last[("tuner", tuner_id)] = now
                elif now - max(known) > self.timeout:
                    found.append(tuner_id)
        return found


def drop(oracle: Any, tuner_id: str, reason: str, search_dir: Path) -> None:
    """Ends a lost worker's trial as failed (with `reason`) and stops counting on the worker."""
    trial = oracle.ongoing_trials.get(tuner_id)
    if trial is not None:
        trial_dir = search_dir / TRIALS_DIR / trial.trial_id
        trial_dir.mkdir(parents=True, exist_ok=True)
        rundir.mark(trial_dir, "failed", error=reason)
        trial.status, trial.message = "FAILED", reason
        oracle.end_trial(trial)
    oracle.tuner_ids.discard(tuner_id)


class LocalWorkers:
    """Worker processes on this machine, started and stopped by the chief (``--workers``).

    Each runs ``dlkit search <spec.yaml>`` as a KerasTuner worker (``KERASTUNER_TUNER_ID``,
    ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``), its output in
    ``workers/<id>.log``, and TensorFlow's threads shared out between the workers.
    """

    def __init__(self, count: int, spec_file: Path, root: Path, search_dir: Path) -> None:
        self.count, self.spec_file, self.root = count, spec_file, root
        self.log_dir = search_dir / WORKER_LOGS
        self.processes: dict[str, subprocess.Popen] = {}
        self.reported: set[str] = set()

    def start(self, port: int) -> None:
        self.log_dir.mkdir(exist_ok=True)
        threads = str(max(1, (os.cpu_count() or 1) // self.count))
        for index in range(self.count):
            tuner_id = f"worker{index}"
            env = {"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads,
                   **os.environ, "KERASTUNER_TUNER_ID": tuner_id,
                   "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port)}
            with open(self.log_dir / f"{tuner_id}.log", "w") as log:
                self.processes[tuner_id] = subprocess.Popen(
                    [sys.executable, "-m", "dlkit", "search", str(self.spec_file), "--logdir",
                     str(self.root.resolve()), "--quiet"],
                    env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def exited(self) -> list[tuple[str, int]]:
        """Workers that exited since the last call, with their exit codes."""
        found = []
        for tuner_id, process in self.processes.items():
            code = process.poll()
            if code is not None and tuner_id not in self.reported:
                self.reported.add(tuner_id)
                found.append((tuner_id, code))
        return found

    def exit_codes(self) -> str:
        return ", ".join(f"{name} {process.poll()}" for name, process in self.processes.items())

    def all_exited(self) -> bool:
        return all(process.poll() is not None for process in self.processes.values())

    def stop(self, *, grace: float = 0.0) -> None:
        """Lets the workers end on their own for `grace` seconds, then terminates them."""
        deadline = time.monotonic() + grace
        while not self.all_exited() and time.monotonic() < deadline:
            time.sleep(POLL)
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def serve(oracle: Any, reporter: Reporter, *, address: str, watch: Watch,
          workers: LocalWorkers | None = None) -> None:
    """Serves `oracle` until the search is over, reporting each trial as it ends.

    Raises:
        ClusterError: `address` cannot be listened at.
        TrainingError: every worker dlkit started stopped before the search ended.
    """
    try:
        server, servicer, port = serve_oracle(oracle, address, watch.heard)
    except (OSError, RuntimeError) as exc:
        raise ClusterError(f"the chief cannot listen at {address} ({exc}); choose a free "
                           "KERASTUNER_ORACLE_PORT") from None
    over = False
    try:
        if workers is not None:
            workers.start(port)
        def finished() -> bool:
            return servicer.stop_triggered and not oracle.ongoing_trials and not oracle.tuner_ids

        while True:
            over = finished()
            for trial_id in list(oracle.end_order):  # after `over`: none is left unreported
                reporter.ended(oracle.trials[trial_id], oracle)
            if over:
                break
            _drop_lost(oracle, watch, workers, reporter.search_dir)
            if workers is not None and workers.all_exited() and not finished():
                raise TrainingError("every worker stopped before the search ended (exit codes "
                                    f"{workers.exit_codes()}); see their output in "
                                    f"{workers.log_dir}")
            time.sleep(POLL)
    finally:
        if workers is not None:
            workers.stop(grace=WORKER_GRACE if over else 0.0)
        server.stop(grace=1)


def _drop_lost(oracle: Any, watch: Watch, workers: LocalWorkers | None,
               search_dir: Path) -> None:
    """Fails the trials of workers that exited or fell silent."""
    for tuner_id, code in workers.exited() if workers is not None else []:
        if tuner_id in oracle.tuner_ids:
            drop(oracle, tuner_id, f"worker {tuner_id} exited (code {code}) during the trial; "
                 f"see {workers.log_dir / (tuner_id + '.log')}", search_dir)
    for tuner_id in watch.lost(oracle):
        drop(oracle, tuner_id, f"worker {tuner_id} was not heard from for "
             f"{watch.timeout:g} s (search.worker_timeout) and counts as lost", search_dir)
