"""`dlkit.train`: data, seeds, strategy, callbacks, fit, and the run directory."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
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
from dlkit._backup import BACKUP_DIR, Backup, backup_epoch, backup_weights
from dlkit._callbacks import MONITORING
from dlkit._callbacks import callbacks as spec_callbacks
from dlkit._compat import multi_worker_fixes
from dlkit._errors import DataError, Problem, SpecError, TrainingError
from dlkit._resolve import first_line
from dlkit._runlog import read_history
from dlkit._runtime import (Cluster, cluster_of, make_strategy, replica_count,
                            resolve_precision, strategy_name)
from dlkit._spec import Spec, load_spec


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
        weights_digest: under ``multi_worker``, a fingerprint of the final weights
            (`weights_digest`), also in ``run.json``: every worker's must be the same.
        chief: whether this process wrote the run directory. Under ``multi_worker`` only the
            chief does; the other workers write into temporary directories, removed at the end.
    """

    model: keras.Model
    history: dict[str, list[float]]
    log_dir: Path
    worker: str | None = None  # this process's place in a multi-worker cluster
    chief: bool = True  # False: another worker wrote the run directory; log_dir is gone
    weights_digest: str | None = None  # multi-worker: equal on workers that trained in sync


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
        SpecError: a bad spec, data that does not fit it (`DataError`), or for
            ``strategy: multi_worker`` a malformed ``$TF_CONFIG``, found before anything is
            written.
        TrainingError: training diverged (NaN loss) or failed, or another worker did not
            answer within ``runtime.peer_timeout``; the run directory is marked failed and
            keeps what was written.
    """
    spec = load_spec(spec)
    settings = spec.to_dict()
    _seed(settings)
    root = _rundir.log_root(logdir)
    resume_dir = _unfinished_run(root, spec) if resume else None
    runtime = settings["runtime"]
    strategy = make_strategy(runtime["strategy"], peer_timeout=runtime["peer_timeout"])
    cluster = cluster_of(strategy)  # None on one machine
    chief = cluster is None or cluster.is_chief
    with strategy.scope():
        model = build(spec)
        precision = resolve_precision(runtime["precision"], runtime["strategy"])
    fit_args = _fit_arguments(settings, model, data)
    first_epoch = 0
    if resume_dir is not None:
        _check_backup(resume_dir / BACKUP_DIR, model)
        first_epoch = backup_epoch(resume_dir / BACKUP_DIR)
        if chief:
            from dlkit._report import mark_restart

            mark_restart(resume_dir, epoch=first_epoch)
    extra: list[keras.callbacks.Callback] = []
    if settings["deterministic"]:
        fit_args, extra = _deterministic(fit_args, settings, first_epoch)
    run_dir = _run_dir(root, spec, resume_dir, cluster)
    try:
        if resume_dir is None or not chief:
            _rundir.write_text_atomic(run_dir / "spec.yaml",
                                      yaml.safe_dump(settings, sort_keys=False))
        _rundir.mark(run_dir, "running", strategy=strategy_name(strategy),
                     replicas=replica_count(strategy), precision=precision,
                     steps_per_execution=model.steps_per_execution, tensorflow=tf.__version__,
                     keras=keras.__version__, **({"workers": cluster.size} if cluster else {}))
        cbs = [*extra, *spec_callbacks(spec, log_dir=run_dir, verbose=verbose != 0 and chief),
               *(callbacks or [])]
        if resume_dir is not None and not chief:
            _restore_from(cbs, resume_dir / BACKUP_DIR)
        with multi_worker_fixes(model, strategy):
            _fit(model, fit_args, settings["train"]["epochs"], cbs, run_dir, cluster,
                 verbose=verbose if chief else 0)
            record = read_history(run_dir)
            digest = None if cluster is None else weights_digest(model)
            _finish(model, record, run_dir, settings, fit_args.get("validation_data"),
                    digest=digest)  # its pictures predict on every worker
    finally:
        if not chief:
            shutil.rmtree(run_dir, ignore_errors=True)
    return Run(model=model, history=record["metrics"], log_dir=run_dir,
               worker=None if cluster is None else str(cluster), chief=chief,
               weights_digest=digest)


def _run_dir(root: Path, spec: Spec, resume_dir: Path | None, cluster: Cluster | None) -> Path:
    """The run directory, or for a worker other than the chief a temporary one."""
    if cluster is None or cluster.is_chief:
        return resume_dir or _rundir.create_run_dir(root, spec.name)
    return Path(tempfile.mkdtemp(prefix=f"dlkit-{cluster.task_type}{cluster.task_index}-"))


def _fit(model: keras.Model, fit_args: dict, epochs: int, cbs: list, run_dir: Path,
         cluster: Cluster | None, verbose: int | str) -> None:
    """`model.fit`; a failure marks the run, and a lost worker becomes a `TrainingError`."""
    try:
        model.fit(**fit_args, epochs=epochs, callbacks=cbs, verbose=verbose)
    except BaseException as exc:
        state = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        _rundir.mark(run_dir, state, error=f"{type(exc).__name__}: {exc}"[:2000])
        if cluster is not None and isinstance(exc, PEER_ERRORS):
            raise TrainingError(
                f"{cluster} lost the other workers mid-training ({type(exc).__name__}: "
                f"{_tf_reason(exc)}); the run is marked failed. Restart every worker with "
                "--resume to continue from the last backup") from None
        raise


def _tf_reason(exc: BaseException) -> str:
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


def _deterministic(fit_args: dict, settings: dict, first_epoch: int) -> tuple[dict, list]:
    """Data order and dropout from ``(seed, epoch)``, so that a resumed run repeats exactly."""
    from dlkit._determinism import EpochSeeds, epoch_keyed_batches

    seed = settings["seed"] if settings["seed"] is not None else 0
    epoch = tf.Variable(first_epoch, dtype=tf.int64, trainable=False, name="dlkit_epoch")
    if "y" in fit_args and fit_args["shuffle"]:
        batches = epoch_keyed_batches(fit_args["x"], fit_args["y"], seed=seed, epoch=epoch,
                                      batch_size=fit_args["batch_size"])
        fit_args = {"x": batches, "shuffle": False,
                    "validation_data": fit_args["validation_data"]}
    return fit_args, [EpochSeeds(seed, epoch)]


def _seed(settings: dict) -> None:
    if settings["seed"] is not None:
        keras.utils.set_random_seed(settings["seed"])
    if settings["deterministic"]:
        tf.config.experimental.enable_op_determinism()


def _unfinished_run(root: Path, spec: Spec) -> Path:
    """The newest run of this name not marked finished, for ``--resume``."""
    base = _rundir.run_name_dir(root, spec.name)
    for run_dir in sorted(base.glob("*/"), reverse=True) if base.is_dir() else []:
        if _rundir.read_status(run_dir).get("status") == "finished":
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
    return _data.shaped(_data.Arrays(*data), input_shape)


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
    """Early stopping, checkpoints and learning-rate reduction watch metrics that will exist."""
    names = ["loss", *_compiled_metrics(settings)]
    logged = [*names, *(f"val_{n}" for n in names)] if has_validation else names
    if settings["callbacks"]["reduce_lr_on_plateau"] or settings["callbacks"]["tensorboard"]:
        logged.append("learning_rate")
    problems = []
    for key in MONITORING:
        callback = settings["callbacks"][key]
        monitor = callback.get("monitor", "val_loss") if isinstance(callback, dict) else None
        if monitor is not None and monitor not in logged:
            why = " (there is no validation data)" if monitor.startswith("val_") and \
                not has_validation else ""
            problems.append(Problem(f"callbacks.{key}.monitor", f"{monitor!r} will never be "
                                    f"logged{why}; this run logs: {', '.join(logged)}"))
    if problems:
        raise SpecError(problems)


def _compiled_metrics(settings: dict) -> list[str]:
    """The names Keras logs the spec's metrics under (``accuracy``, ``auc``, ...)."""
    from dlkit._resolve import Resolver
    from dlkit._schema import Problems

    resolver = Resolver(Problems())
    names = []
    for metric in settings["compile"]["metrics"]:
        made = metric if isinstance(metric, str) else resolver.metric(metric, "")
        names.append(made if isinstance(made, str) else made.name)
    return names


def _check_backup(backup: Path, model: keras.Model) -> None:
    """Refuses a corrupt backup before --resume touches anything; deletes nothing."""
    weights = backup_weights(backup)
    if weights is None:
        return
    try:
        model.load_weights(weights)
    except Exception as exc:  # noqa: BLE001 - any failure to read it means the same to a user
        raise SpecError(Problem("--resume", f"the backup {weights} cannot be read "
                                f"({type(exc).__name__}: {first_line(exc)[:200]}); "
                                "nothing was changed or deleted. Move the backup folder away "
                                "to restart that run from its beginning, or train without "
                                "--resume")) from None


def _finish(model: keras.Model, record: dict, run_dir: Path, settings: dict,
            validation: tuple | None, *, digest: str | None = None) -> None:
    """Saves the model and the pictures, and marks the run finished."""
    from dlkit._report import write_pictures

    metrics = record["metrics"]
    _rundir.write_atomic(run_dir / "model.keras", lambda tmp: model.save(tmp))
    write_pictures(run_dir, metrics=metrics, name=settings["name"], model=model,
                   validation=validation,
                   classifier=_labels.is_classifier(model.loss),
                   tensorboard=isinstance(settings["callbacks"]["tensorboard"], dict))
    details: dict[str, Any] = {"epochs_run": len(metrics.get("loss", []))}
    stop = next((e for e in record["events"] if e["kind"] == "early_stopping"), None)
    if stop is not None:
        details["early_stopping"] = stop
    if digest is not None:
        details["weights_digest"] = digest
    _rundir.mark(run_dir, "finished", **details)


def summary_line(run: Run) -> str:
    """A short end-of-run summary for the console."""
    history = run.history
    monitor = "val_loss" if "val_loss" in history else "loss"
    values = history.get(monitor, [])
    if not values:
        return f"run directory: {run.log_dir}"
    best = int(np.nanargmin(values))
    shown = ", ".join(f"{k} {v[best]:.4f}" for k, v in history.items() if len(v) > best)
    where = f"run directory: {run.log_dir}" if run.chief else \
        "run directory: written by the chief (this worker's files were temporary)"
    if run.worker is not None:
        where += f"\n{run.worker}; weights digest {run.weights_digest}"
    return f"best epoch {best + 1} of {len(values)} by {monitor}: {shown}\n{where}"
