"""`dlkit.train`: seeds, strategy, model, data, callbacks, fit, and the run directory."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
import yaml

from dlkit._callbacks.backup import BACKUP_DIR, Backup, backup_epoch
from dlkit._callbacks.progress import Progress, choose_mode
from dlkit._callbacks.runlog import read_history
from dlkit._callbacks.tensorboard import mark_restart
from dlkit._compat.multi_worker import multi_worker_fixes
from dlkit._core.errors import RunDirError, TrainingError
from dlkit._core.files import write_atomic, write_text_atomic
from dlkit._data.stream import Stream
from dlkit._model.build import build_plan
from dlkit._plan.load import load_spec
from dlkit._plan.plan import Plan
from dlkit._runtime.cluster import Cluster, cluster_of
from dlkit._runtime.strategy import make_strategy, replica_count, strategy_name
from dlkit._spec.spec import Spec, plan_of
from dlkit._train import rundir
from dlkit._train.adapt import adapt_layers, load_adapted, save_adapted
from dlkit._train.cached import caching
from dlkit._train.callbacks import make_callbacks
from dlkit._train.fitdata import (
    deterministic,
    fit_arguments,
    load_data,
    training_inputs,
)
from dlkit._train.kindfiles import write_kind_files
from dlkit._train.phases import best_with_phase, resumed_phase, run_phases
from dlkit._train.pictures import best_epoch, write_pictures
from dlkit._train.resume import check_backup, unfinished_run
from dlkit._train.streaming import checked_stream, stream_fit_arguments, stream_inputs
from dlkit._train.unlabeled import labels_note, unlabeled_fit_arguments

# What a collective raises when another worker died, hung or cannot be reached.
PEER_ERRORS = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
               tf.errors.AbortedError, tf.errors.CancelledError)


@dataclass
class Run:
    """One finished training run.

    Attributes:
        model: the trained `keras.Model` (best weights when early stopping restored them).
        history: per-epoch metrics, ``{"loss": [...], "val_loss": [...], ...}``.
        log_dir: the run directory, ``<root>/<name>/<YYYYmmdd-HHMMSS>``.
        worker: under ``strategy: multi_worker``, which worker this process was.
        chief: whether this process wrote the run directory. Under ``multi_worker`` only the
            chief does; the other workers write into temporary directories, removed at the end.
        weights_digest: under ``multi_worker``, a fingerprint of the final weights
            (`weights_digest`), also in ``run.json``: every worker's must be the same.
        best: the epoch the run counts as best, ``{"monitor", "goal", "epoch", "value"}``:
            early stopping's choice when it watched, else the lowest validation loss; for a
            run that fine-tuned its base, also ``"phase"``: ``train`` or ``fine_tune``.
    """

    model: keras.Model
    history: dict[str, list[float]]
    log_dir: Path
    worker: str | None = None  # this process's place in a multi-worker cluster
    chief: bool = True  # False: another worker wrote the run directory; log_dir is gone
    weights_digest: str | None = None  # multi-worker: equal on workers that trained in sync
    best: dict[str, Any] | None = None


def train(spec: Spec | Mapping[str, Any] | str | os.PathLike[str], data: Any = None, *,
          logdir: str | os.PathLike[str] | None = None, resume: bool = False,
          callbacks: list[keras.callbacks.Callback] | None = None,
          verbose: int | str = "auto") -> Run:
    """Trains the model a spec describes and writes its run directory.

    Args:
        spec: a `Spec`, or anything `dlkit.load_spec` takes.
        data: ``(x, y)``, ``(x, y, x_val, y_val)`` arrays (for a graph model of several
            inputs or outputs, dicts of arrays keyed by their names) or a `tf.data.Dataset`
            of batches; by default the spec's ``data`` section is loaded. An autoencoder or
            a GAN learns from ``x`` alone: it also takes ``x`` or ``(x, None, x_val, None)``.
        logdir: the log root; default ``$DLKIT_LOGDIR`` or ``logs``.
        resume: continue the newest unfinished run of this spec's name under the log root.
        callbacks: more Keras callbacks, called after dlkit's own.
        verbose: progress display: 0 none, 2 a line per epoch, 1 or ``"auto"`` a bar that
            updates in place on a terminal or in a notebook (a line per epoch elsewhere).

    Returns:
        A `Run` with the trained model, its history and its run directory.

    Raises:
        SpecError: a bad spec or data that does not fit it (`DataError`), found before
            anything is written.
        ClusterError: for ``strategy: multi_worker``, a malformed ``$TF_CONFIG``.
        RunDirError: an unwritable log root, or nothing to ``resume`` from.
        TrainingError: training diverged (NaN loss) or failed, or another worker did not
            answer within ``runtime.peer_timeout``; the run directory is marked failed and
            keeps what was written.
    """
    spec = load_spec(spec)
    root = rundir.log_root(logdir)
    resume_dir = unfinished_run(root, spec.name, spec.to_dict()) if resume else None
    return _train(spec, data, root=root, resume_dir=resume_dir, callbacks=callbacks,
                  verbose=verbose)


@dataclass(frozen=True)
class Start:
    """Where `train_into` starts a run, instead of a new directory under the log root.

    Attributes:
        run_dir: the run directory, created by `train_into` (its parent may exist).
        weights: a ``.weights.h5`` file to start from instead of fresh weights.
        epoch: the first epoch, 0-based (the spec's ``train.epochs`` is the last).
        hparams: TensorBoard hparams to log beside the spec's own (spec path -> value).
        session: the TensorBoard hparams session (group) name; default ``<name>/<dir name>``.
        pictures: draw the learning curve and confusion matrix (about a second per run).
    """

    run_dir: Path
    weights: Path | None = None
    epoch: int = 0
    hparams: Mapping[str, Any] | None = None
    session: str | None = None
    pictures: bool = True


def train_into(spec: Spec, start: Start, data: Any = None, *,
               callbacks: list[keras.callbacks.Callback] | None = None,
               verbose: int | str = 0) -> Run:
    """Trains a validated spec into ``start.run_dir``, on this machine: what `dlkit.search`
    runs for each trial. Everything else is `train`'s: data, callbacks, files, errors.

    Raises:
        SpecError, DataError: as `train`, before anything is written.
        TrainingError: training diverged; the run directory is marked failed.
    """
    return _train(spec, data, start=start, callbacks=callbacks, verbose=verbose)


@dataclass
class _Prepared:
    """What a run has decided and made before its run directory is written."""

    model: keras.Model
    fit_args: dict
    extra: list  # callbacks the data order needs
    validation: Any  # validation data for the confusion matrix
    first_epoch: int
    adapted: list  # preprocessing layers adapted on the training split
    classes: list  # class names, where the data has them
    note: str | None  # an autoencoder's or GAN's labels, left unused
    tuning_from: int | None  # a run resumed in its fine-tuning phase: the phase's first epoch


def _train(spec: Spec, data: Any, *, root: Path | None = None, resume_dir: Path | None = None,
           start: Start | None = None, callbacks: list[keras.callbacks.Callback] | None,
           verbose: int | str) -> Run:
    """`train` and `train_into`: a run in a new, resumed or given run directory."""
    plan, settings = plan_of(spec), spec.to_dict()
    _seed(plan)
    strategy = make_strategy(plan.runtime.strategy, peer_timeout=plan.runtime.peer_timeout)
    cluster = cluster_of(strategy)  # None on one machine
    chief = cluster is None or cluster.is_chief
    ready = _prepare(plan, data, strategy, cluster, resume_dir=resume_dir, start=start)
    model = ready.model
    run_dir = _new_dir(start.run_dir) if start else _run_dir(root, plan, resume_dir, cluster)
    try:
        _start(run_dir, model, settings if resume_dir is None or not chief else None,
               new=resume_dir is None, chief=chief, adapted=ready.adapted,
               precision=plan.runtime.precision, strategy=strategy_name(strategy),
               replicas=replica_count(strategy), steps_per_execution=model.steps_per_execution,
               **({"workers": cluster.size} if cluster else {}),
               **({"classes": ready.classes} if ready.classes else {}),
               **({"note": ready.note} if ready.note else {}))
        if ready.note and verbose != 0 and chief:
            print(f"dlkit: note: {ready.note}")
        cbs = [*ready.extra, *make_callbacks(plan, run_dir, verbose=verbose != 0 and chief,
                                             progress=choose_mode(verbose) if chief else None,
                                             **(_session(start) if start else {})),
               *(callbacks or [])]
        if resume_dir is not None and not chief:
            _restore_from(cbs, resume_dir / BACKUP_DIR)
        with multi_worker_fixes(model, strategy):
            fit = caching(_fitter(model, ready.fit_args, run_dir, cluster), model, plan,
                          ready.fit_args, strategy, run_dir)  # a frozen base's outputs once
            run_phases(model, plan, fit, cbs, run_dir, strategy,
                       first_epoch=ready.first_epoch if start else 0,
                       fine_tune_start=ready.tuning_from)
            record = read_history(run_dir)
            digest = None if cluster is None else weights_digest(model)
            _finish(model, record, run_dir, plan, ready.validation, ready.classes,
                    digest=digest, pictures=start is None or start.pictures)  # on every worker
    finally:
        if not chief:
            shutil.rmtree(run_dir, ignore_errors=True)
    return Run(model=model, history=record["metrics"], log_dir=run_dir,
               worker=None if cluster is None else str(cluster), chief=chief,
               weights_digest=digest,
               best=best_with_phase(best_epoch(record["metrics"], record.get("best")), run_dir))


def _prepare(plan: Plan, data: Any, strategy: tf.distribute.Strategy, cluster: Cluster | None,
             *, resume_dir: Path | None, start: Start | None) -> _Prepared:
    """Loads and checks the data, builds (or reloads) the model, finds the first epoch and
    adapts preprocessing layers: everything that can fail before a file is written."""
    loaded = load_data(plan, data)
    note = labels_note(plan, loaded)  # an autoencoder's or GAN's unused labels
    stream = checked_stream(plan, loaded) if isinstance(loaded, Stream) else None
    with strategy.scope():
        model = (resume_dir and load_adapted(resume_dir, plan)) or build_plan(
            plan, encoder=stream.encoder if stream else None)
    chief = cluster is None or cluster.is_chief
    tuning_from = resumed_phase(resume_dir, model, plan, strategy)  # None: the first phase
    first_epoch = _start_point(start, model) if start else \
        _resume_point(resume_dir, model, chief=chief)
    fit_args, extra, validation, inputs = _fit_data(plan, loaded, stream, strategy, cluster,
                                                    first_epoch)
    adapted = adapt_layers(model, inputs) if resume_dir is None else []
    classes = list(getattr(stream or loaded, "classes", None) or [])
    return _Prepared(model, fit_args, extra, validation, first_epoch, adapted, classes, note,
                     tuning_from)


def _fit_data(plan: Plan, loaded: Any, stream: Stream | None,
              strategy: tf.distribute.Strategy, cluster: Cluster | None,
              first_epoch: int) -> tuple[dict, list, Any, tf.data.Dataset]:
    """`model.fit`'s data arguments, the callbacks the data order needs, the validation data
    (for the confusion matrix), and the training inputs (to adapt preprocessing layers on)."""
    if stream is not None:
        args, extra = stream_fit_arguments(plan, stream, strategy=strategy,
                                           workers=cluster.size if cluster else 1,
                                           first_epoch=first_epoch)
        return args, extra, args["validation_data"], stream_inputs(stream)
    args = fit_arguments(plan, loaded) if plan.model.supervised else \
        unlabeled_fit_arguments(plan, loaded)
    validation, inputs, extra = args.get("validation_data"), training_inputs(args), []
    if plan.deterministic:
        args, extra = deterministic(args, plan, first_epoch)
    return args, extra, validation, inputs


def _start_point(start: Start, model: keras.Model) -> int:
    """The first epoch of a run that `train_into` starts, its weights loaded first."""
    if start.weights is not None:
        model.load_weights(start.weights)
    return start.epoch


def _session(start: Start) -> dict[str, Any]:
    return {"hparams": start.hparams, "session": start.session}


def _new_dir(run_dir: Path) -> Path:
    """Creates the run directory `train_into` was given.

    Raises:
        RunDirError: it exists already, or cannot be created.
    """
    try:
        run_dir.mkdir(parents=True)
    except OSError as exc:
        raise RunDirError(f"cannot create the run directory {run_dir} "
                          f"({exc.strerror or exc})") from None
    return run_dir


def _resume_point(resume_dir: Path | None, model: keras.Model, *, chief: bool) -> int:
    """The epoch a resumed run starts at (0 for a new run), its backup checked first."""
    if resume_dir is None:
        return 0
    check_backup(resume_dir / BACKUP_DIR, model)
    first_epoch = backup_epoch(resume_dir / BACKUP_DIR)
    if chief:
        mark_restart(resume_dir, epoch=first_epoch)
    return first_epoch


def _run_dir(root: Path, plan: Plan, resume_dir: Path | None, cluster: Cluster | None) -> Path:
    """The run directory, or for a worker other than the chief a temporary one."""
    if cluster is None or cluster.is_chief:
        return resume_dir or rundir.create_run_dir(root, plan.name)
    return Path(tempfile.mkdtemp(prefix=f"dlkit-{cluster.task_type}{cluster.task_index}-"))


def _start(run_dir: Path, model: keras.Model, settings: dict | None, *, new: bool,
           chief: bool, adapted: list, **details: Any) -> None:
    """Writes what a run holds before its first step: the adapted model (if any), the resolved
    spec (unless resuming), ``initial.weights.h5`` (a new run's, on the chief: landscapes draw
    the line from there), and ``run.json`` marked running with where and how it runs."""
    if adapted:
        save_adapted(run_dir, model)
    if settings is not None:
        write_text_atomic(run_dir / "spec.yaml", yaml.safe_dump(settings, sort_keys=False))
    if new and chief:  # a resumed run keeps the file of its first start
        write_atomic(run_dir / rundir.INITIAL_WEIGHTS, lambda tmp: model.save_weights(tmp))
    rundir.mark(run_dir, "running", **details, **({"adapted": adapted} if adapted else {}),
                tensorflow=tf.__version__, keras=keras.__version__)


def _fitter(model: keras.Model, fit_args: dict, run_dir: Path,
            cluster: Cluster | None) -> Callable[..., None]:
    """``fit(epochs, initial_epoch, callbacks)``: one `model.fit` of the run (a phase); or of
    another `model` on other `fit_args`, `passed` callbacks standing for `callbacks`."""
    return lambda epochs, first, cbs, model=model, fit_args=fit_args, passed=None: _fit(
        model, {**fit_args, "initial_epoch": first}, epochs, cbs, run_dir, cluster, passed)


def _fit(model: keras.Model, fit_args: dict, epochs: int, cbs: list, run_dir: Path,
         cluster: Cluster | None, passed: list | None = None) -> None:
    """`model.fit`; a failure marks the run, and a lost worker becomes a `TrainingError`."""
    try:
        model.fit(**fit_args, epochs=epochs, callbacks=passed or cbs, verbose=0)
    except BaseException as exc:
        state = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        rundir.mark(run_dir, state, error=f"{type(exc).__name__}: {exc}"[:2000])
        if cluster is not None and isinstance(exc, PEER_ERRORS):
            raise TrainingError(
                f"{cluster} lost the other workers mid-training ({type(exc).__name__}: "
                f"{tf_reason(exc)}); the run is marked failed. Restart every worker with "
                "--resume to continue from the last backup") from None
        raise
    finally:
        for callback in cbs:
            if isinstance(callback, Progress):
                callback.close()


def tf_reason(exc: BaseException) -> str:
    """TensorFlow's own explanation, without its stack of where the op was defined."""
    noise = ("File \"", "Detected at node", "Graph execution error", "[[")
    lines = [line.strip() for line in str(exc).splitlines()
             if line.strip() and not line.strip().startswith(noise)]
    return (lines[0] if lines else type(exc).__name__)[:300]


def _restore_from(cbs: list[keras.callbacks.Callback], backup: Path) -> None:
    """A worker other than the chief resumes from the chief's backup (a shared filesystem)."""
    for callback in cbs:
        if isinstance(callback, Backup):
            callback.restore_dir = backup


def weights_digest(model: keras.Model) -> str:
    """A short fingerprint of the model's weights: equal on workers that trained in sync."""
    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.hexdigest()[:16]


def _seed(plan: Plan) -> None:
    if plan.seed is not None:
        keras.utils.set_random_seed(plan.seed)
    if plan.deterministic:
        tf.config.experimental.enable_op_determinism()


def _classifiers(plan: Plan) -> bool | tuple[str, ...]:
    """Whether the model's one output predicts classes; for named outputs, which do."""
    outputs = plan.compile.outputs
    if outputs[0].name is None:
        return plan.compile.classifier
    return tuple(out.name for out in outputs if out.classifier)


def _finish(model: keras.Model, record: dict, run_dir: Path, plan: Plan,
            validation: Any, classes: list[str], *, digest: str | None = None,
            pictures: bool = True) -> None:
    """Saves the model and the pictures (unless told not to: a search's trials skip them),
    and marks the run finished."""
    metrics = record["metrics"]
    write_atomic(run_dir / "model.keras", lambda tmp: model.save(tmp))
    write_kind_files(run_dir, model, plan, validation,
                     tensorboard=plan.callback("tensorboard") is not None)
    if pictures:
        write_pictures(run_dir, metrics=metrics, name=plan.name,
                       best=best_epoch(metrics, record.get("best")), model=model,
                       validation=validation, classifier=_classifiers(plan),
                       classes=tuple(classes) or None,
                       tensorboard=plan.callback("tensorboard") is not None)
    details: dict[str, Any] = {"epochs_run": len(next(iter(metrics.values()), []))}
    stop = next((e for e in record["events"] if e["kind"] == "early_stopping"), None)
    if stop is not None:
        details["early_stopping"] = stop
    if digest is not None:
        details["weights_digest"] = digest
    rundir.mark(run_dir, "finished", **details)
