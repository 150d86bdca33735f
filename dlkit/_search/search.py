"""`dlkit.search`: try the values of a spec's search spaces, one trial per choice of values.

The oracle (KerasTuner's) chooses each trial's values; each trial trains the concrete spec
into ``trials/<id>/`` of the search directory. A problem that would doom every trial (data
that cannot be loaded, an objective never logged, a monitor that does not exist) stops the
search before the first trial; a trial's own failure fails that trial only.

One process runs trials one after another. ``workers=N`` starts N worker processes on this
machine in KerasTuner's distributed mode, this process being the chief that serves the oracle.
Across machines, the same mode starts from environment variables (README, "Search on several
machines"): ``KERASTUNER_TUNER_ID`` (``chief`` on the chief), ``KERASTUNER_ORACLE_IP`` and
``KERASTUNER_ORACLE_PORT`` (the chief's address).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlkit._compat.keras_tuner import failed_trial_tracebacks_off
from dlkit._core.errors import ClusterError, Problem, SpecError, TrainingError
from dlkit._plan.callbacks import logged_metrics
from dlkit._plan.load import load_spec
from dlkit._search.board import write_experiment
from dlkit._search.chief import LocalWorkers, Watch, serve
from dlkit._search.oracles import make_oracle, trial_count
from dlkit._search.report import Reporter, TrialRecord, ranked, ranked_table
from dlkit._search.searchdir import SPEC_FILE, prepare, write_best
from dlkit._search.space import DLKIT_PREFIX, SEARCH_DIR, SPEC_DIGEST
from dlkit._search.spec import SearchSpec, load_search
from dlkit._search.trial import TrialRunner
from dlkit._search.tuner import SpecTuner
from dlkit._spec.spec import Spec, plan_of
from dlkit._train import rundir
from dlkit._train.fitdata import fit_arguments

ROLE_VARIABLES = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


@dataclass(frozen=True)
class SearchResult:
    """What a search found.

    Attributes:
        best_spec: the best trial's concrete spec (also ``best.yaml``); None if every trial
            failed (a worker's: the best of the trials it ran).
        best_score: its score, the objective at its best epoch.
        trials: every ended trial, in the order they started (a worker's: those it ran).
        log_dir: the search directory.
        objective: ``{"name", "direction"}``.
        worker: in a distributed search's worker, its ``KERASTUNER_TUNER_ID``; else None.
    """

    best_spec: Spec | None
    best_score: float | None
    trials: list[TrialRecord]
    log_dir: Path
    objective: Mapping[str, Any]
    worker: str | None = None


def search(spec: str | os.PathLike[str] | Mapping[str, Any] | Spec | SearchSpec,
           data: Any = None, *, logdir: str | os.PathLike[str] | None = None,
           resume: bool = False, overwrite: bool = False, workers: int = 1,
           verbose: int | str = "auto") -> SearchResult:
    """Searches the values of a spec's search spaces and writes its search directory.

    Args:
        spec: a `SearchSpec`, or anything `dlkit.load_search` takes.
        data: as `dlkit.train` takes it, for every trial (one process only); by default each
            trial loads the spec's data section.
        logdir: the log root; default ``$DLKIT_LOGDIR`` or ``logs``.
        resume: continue the newest unfinished search of this name; trials that ended are
            not run again. A spec that changed since is refused.
        overwrite: with `resume`, a changed spec starts that search over (its trials are
            deleted) instead of being refused.
        workers: trials run at once, each in a worker process of KerasTuner's distributed mode.
        verbose: 0 prints nothing; else a line per trial and a ranked table at the end.

    Returns:
        A `SearchResult`; ``best.yaml`` holds the best spec.

    Raises:
        SpecError: a bad spec, no spaces, or a problem every trial would have (found before
            the first trial).
        RunDirError: nothing to resume, or a changed spec without `overwrite`.
        ClusterError: malformed ``KERASTUNER_*`` variables, or a worker whose spec differs
            from the chief's.
        TrainingError: every trial failed, or every worker stopped early.

    Example:
        >>> result = dlkit.search("examples/digits_search.yaml")
        >>> result.best_score, result.log_dir / "best.yaml"
    """
    search_spec = load_search(spec)
    if not search_spec.spaces:
        raise SpecError(Problem("", "nothing to search: no value is a search space like "
                                "{search: int, min: 32, max: 256}; train it with dlkit train"))
    role, root = tuner_role(), rundir.log_root(logdir)
    if role == "worker":
        return _work(search_spec, root, data, verbose=verbose != 0)
    _check_workers(workers, role, data)
    check_ready(search_spec, data)
    search_dir, resumed = prepare(root, search_spec, resume=resume, overwrite=overwrite)
    if not resumed:
        write_experiment(search_dir, search_spec)
    fixed = {SEARCH_DIR: search_dir.relative_to(root).as_posix(),
             SPEC_DIGEST: search_spec.digest()}
    tuner = _tuner(make_oracle(search_spec, fixed), TrialRunner(search_spec, search_dir,
                                                                data=data), search_dir)
    reporter = Reporter(search_spec, search_dir, verbose=verbose != 0, writes=True,
                        total=trial_count(search_spec, tuner.oracle))
    tuner.on_end = lambda trial: reporter.ended(tuner.oracle.get_trial(trial.trial_id),
                                                tuner.oracle)
    _run(tuner, reporter, role, workers, root, search_spec)
    return _finish(tuner.oracle, reporter, search_spec)


def _check_workers(workers: int, role: str | None, data: Any) -> None:
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers is a number of processes >= 1, received {workers!r}")
    if workers > 1 and role == "chief":
        raise ClusterError("this process is the chief of a cluster (KERASTUNER_TUNER_ID="
                           f"{os.environ['KERASTUNER_TUNER_ID']}): its workers start on their "
                           "own, so --workers does not apply")
    if workers > 1 and data is not None:
        raise ValueError("with workers > 1 every worker process loads the spec's own data: "
                         "data= arrays cannot be passed to them")


def tuner_role() -> str | None:
    """``chief`` or ``worker`` from KerasTuner's variables, or None when they are not set.

    Raises:
        ClusterError: some of them are set but not all, or the port is not a number.
    """
    present = [name for name in ROLE_VARIABLES if os.environ.get(name)]
    if not present:
        return None
    missing = [name for name in ROLE_VARIABLES if name not in present]
    if missing:
        raise ClusterError(f"a distributed search needs {', '.join(ROLE_VARIABLES)}; "
                           f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set")
    if not os.environ["KERASTUNER_ORACLE_PORT"].isdigit():
        raise ClusterError("KERASTUNER_ORACLE_PORT is the chief's port number, received "
                           f"{os.environ['KERASTUNER_ORACLE_PORT']!r}")
    return "chief" if "chief" in os.environ["KERASTUNER_TUNER_ID"] else "worker"


def check_ready(search: SearchSpec, data: Any) -> None:
    """Finds what would fail every trial before the first: the data, the callbacks' monitors,
    and an objective that needs validation data there is none of.

    Raises:
        SpecError: naming the problem.
    """
    plan = plan_of(search.smallest)
    has_validation = fit_arguments(plan, data).get("validation_data") is not None
    name = search.settings["objective"]["name"]
    logged = logged_metrics(plan.compile.metric_names, plan.callbacks,
                            has_validation=has_validation)
    if name not in logged:
        raise SpecError(Problem("search.objective", f"{name!r} will never be logged (there is "
                                f"no validation data); trials log: {', '.join(logged)}"))


def _tuner(oracle: Any, runner: TrialRunner | None, directory: Path, *,
           heartbeat: float | None = None) -> SpecTuner:
    """The tuner, its state reloaded if the directory has one (KerasTuner's own message about
    it is left out), and saved at once so that a search killed early can be resumed."""
    with contextlib.redirect_stdout(io.StringIO()):
        tuner = SpecTuner(oracle, runner, directory=directory, heartbeat=heartbeat)
    tuner.save()
    return tuner


def _run(tuner: SpecTuner, reporter: Reporter, role: str | None, workers: int, root: Path,
         search: SearchSpec) -> None:
    """Runs the trials here, or serves the oracle to workers; marks how the search ended."""
    timeout = search.settings["worker_timeout"]
    try:
        if role is None and workers == 1:
            with failed_trial_tracebacks_off():
                tuner.search()
        else:
            address = "127.0.0.1:0" if role is None else \
                f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
            local = None if role else LocalWorkers(workers, reporter.search_dir / SPEC_FILE,
                                                   root, reporter.search_dir)
            serve(tuner.oracle, reporter, address=address, watch=Watch(timeout), workers=local)
    except KeyboardInterrupt:
        reporter.write(tuner.oracle, "interrupted")
        raise
    except BaseException as exc:
        reporter.write(tuner.oracle, "failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        raise


def _finish(oracle: Any, reporter: Reporter, search: SearchSpec) -> SearchResult:
    """Writes ``search.json`` and ``best.yaml``, prints the ranked table; the result."""
    records = reporter.write(oracle, "finished")
    objective = search.settings["objective"]
    best = ranked(records, objective["direction"])
    if reporter.verbose:
        reporter.show(ranked_table(records, search))
    if not best:
        raise TrainingError(f"every trial failed; their reasons are in "
                            f"{reporter.search_dir / 'search.json'}")
    best_raw = _concrete(search, best[0])
    path = write_best(reporter.search_dir, best_raw)
    if reporter.verbose:
        reporter.show(f"best: trial {best[0].id}, {objective['name']} {best[0].score:.4f}; its "
                      f"spec: {path} (dlkit train {path})\nsearch directory: "
                      f"{reporter.search_dir} (tensorboard --logdir {reporter.search_dir})")
    return SearchResult(load_spec(best_raw), best[0].score, records, reporter.search_dir,
                        objective)


def _concrete(search: SearchSpec, record: TrialRecord) -> dict[str, Any]:
    """A trial's concrete spec, trained from scratch (hyperband's: to the epoch it reached)."""
    raw = search.concrete(record.values)
    if record.epochs is not None:
        raw["train"]["epochs"] = record.epochs
    return raw


def _work(search: SearchSpec, root: Path, data: Any, *, verbose: bool) -> SearchResult:
    """A worker of a distributed search: runs the trials the chief's oracle gives it."""
    check_ready(search, data)  # this machine's data, before taking a trial
    state = Path(tempfile.mkdtemp(prefix="dlkit-worker-"))  # KerasTuner's worker-side files
    try:
        tuner = _tuner(make_oracle(search, {}), None, state,
                       heartbeat=min(5.0, search.settings["worker_timeout"] / 4))
        space = tuner.oracle.get_space()  # waits for the chief
        fixed = {hp.name: hp.value for hp in space.space if hp.name.startswith(DLKIT_PREFIX)}
        if fixed.get(SPEC_DIGEST) != search.digest():
            raise ClusterError("this worker's spec differs from the chief's: start every "
                               "worker with the chief's spec file and --set values")
        search_dir = rundir.run_name_dir(root, fixed[SEARCH_DIR])  # never outside the root
        tuner.runner = TrialRunner(search, search_dir, data=data)
        reporter = Reporter(search, search_dir, verbose=verbose, writes=False)
        tuner.on_end = lambda trial: reporter.ended(tuner.oracle.get_trial(trial.trial_id),
                                                    tuner.oracle)
        with failed_trial_tracebacks_off():
            tuner.search()
    finally:
        shutil.rmtree(state, ignore_errors=True)
    mine = reporter.ended_records
    best = ranked(mine, search.settings["objective"]["direction"])
    return SearchResult(load_spec(_concrete(search, best[0])) if best else None,
                        best[0].score if best else None, mine, search_dir,
                        search.settings["objective"], worker=os.environ["KERASTUNER_TUNER_ID"])
