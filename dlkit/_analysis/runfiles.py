"""A finished run's directory opened for analysis: its plan, model, weights and data.

What a run directory gives a landscape:

- ``spec.yaml``: the resolved spec, loaded again to reload the data exactly as training did
  (``fit_arguments``: the same source, labels and seeded validation split);
- ``model.keras``: the final (or best) weights, loaded in safe mode, computing in float32;
- ``initial.weights.h5``: the weights before the first step (runs since issue 17 keep it);
- ``checkpoints/epoch-NNN.weights.h5`` or ``.keras``: the weights after each epoch, when the
  spec asked for them (``checkpoint: {save_best_only: false, save_weights_only: true}``): the
  path training took.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from dlkit._analysis.float32 import float32_twin
from dlkit._core.errors import DataError, ModelFileError, Problem, RunDirError
from dlkit._model.saving import load_model
from dlkit._plan.kindplans import refuse_kind
from dlkit._plan.load import load_spec
from dlkit._plan.plan import Plan
from dlkit._spec.spec import plan_of
from dlkit._train.callbacks import CHECKPOINT_DIR
from dlkit._train.fitdata import fit_arguments
from dlkit._train.rundir import INITIAL_WEIGHTS, read_status

DATA_CHOICES = ("train", "validation")
_EPOCH_FILE = re.compile(r"^epoch-(\d+)\.(weights\.h5|keras)$")


@dataclass
class OpenedRun:
    """What an analysis reads from a run directory.

    Attributes:
        run_dir: the run directory.
        plan: the plan of its ``spec.yaml``.
        model: its model, compiled, with the final weights, computing in float32.
        initial: ``model.get_weights()`` before the first training step.
        trajectory: ``get_weights()`` after each epoch, oldest first (empty without
            per-epoch checkpoints).
        epochs: the epoch number of each entry of ``trajectory`` (1-based, as Keras counts).
    """

    run_dir: Path
    plan: Plan
    model: keras.Model
    initial: list[np.ndarray]
    trajectory: list[list[np.ndarray]]
    epochs: list[int]


def run_directory(run: Any) -> Path:
    """The directory of ``run`` (a ``Run`` or a path), checked to be a dlkit run directory.

    Raises:
        RunDirError: it does not exist, or holds no ``spec.yaml``.
    """
    path = Path(run.log_dir if hasattr(run, "log_dir") else run)
    if not path.is_dir():
        raise RunDirError(f"{path}: no such run directory; give one that dlkit train wrote, "
                          "like logs/<name>/<YYYYmmdd-HHMMSS> (it prints the path at the end)")
    if not (path / "spec.yaml").is_file():
        raise RunDirError(f"{path} is not a dlkit run directory: it has no spec.yaml; give the "
                          "folder logs/<name>/<YYYYmmdd-HHMMSS> of one run")
    return path


def open_run(run: Any) -> OpenedRun:
    """Opens a run directory for a landscape.

    Raises:
        RunDirError: not a run directory, or one without ``initial.weights.h5``.
        ModelFileError: no readable ``model.keras`` (the run did not finish), or refused.
        SpecError: its ``spec.yaml`` is no longer a valid spec.
    """
    run_dir = run_directory(run)
    model_file = run_dir / "model.keras"
    if not model_file.is_file():
        status = read_status(run_dir).get("status", "unknown")
        raise ModelFileError(f"{run_dir} has no model.keras: the run's status is {status}, and "
                             "a run saves its model when training ends. Continue it with "
                             "`dlkit train SPEC --resume` (the same spec and log root), or give "
                             "a finished run")
    initial_file = run_dir / INITIAL_WEIGHTS
    if not initial_file.is_file():
        raise RunDirError(f"{run_dir} has no {INITIAL_WEIGHTS}, the weights before the first "
                          "step: the run was trained by an older dlkit. Train it again to draw "
                          f"its landscape: dlkit train {run_dir / 'spec.yaml'}")
    plan = plan_of(load_spec(run_dir / "spec.yaml"))
    refuse_kind(plan.model.kind, "a loss landscape", takes=("sequential", "autoencoder"))
    model = load_model(model_file)
    reader = type(model).from_config(model.get_config())  # uncompiled: reads weights only
    epochs = epoch_files(run_dir)
    return OpenedRun(run_dir=run_dir, plan=plan, model=float32_twin(model),
                     initial=_read_weights(reader, initial_file),
                     trajectory=[_read_weights(reader, f) for f in epochs.values()],
                     epochs=list(epochs))


def epoch_files(run_dir: Path) -> dict[int, Path]:
    """The run's per-epoch checkpoint files by epoch, in order (``.weights.h5`` where both)."""
    found: dict[int, Path] = {}
    folder = run_dir / CHECKPOINT_DIR
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        match = _EPOCH_FILE.match(path.name)
        if match and (int(match[1]) not in found or match[2] == "weights.h5"):
            found[int(match[1])] = path
    return {epoch: found[epoch] for epoch in sorted(found)}


def _read_weights(reader: keras.Model, path: Path) -> list[np.ndarray]:
    """The weights a ``.weights.h5`` or ``.keras`` file holds for ``reader``'s architecture."""
    try:
        reader.load_weights(path)
    except Exception as exc:  # noqa: BLE001 - any failure to read it means the same to a user
        raise ModelFileError(f"{path}: cannot be read as weights of the run's model "
                             f"({type(exc).__name__}: {str(exc).strip()[:200]})") from None
    return reader.get_weights()


def run_data(opened: OpenedRun, which: Any) -> tuple[np.ndarray, np.ndarray]:
    """The run's training or validation arrays, or ``which`` itself when it is ``(x, y)``.

    The spec's data section is loaded as ``dlkit.train`` loaded it: the same labels and the
    same validation split, which repeats exactly when the spec has a ``seed``.

    Raises:
        DataError: the spec names no data, or the run had no validation data.
    """
    if isinstance(which, (tuple, list)):
        if len(which) != 2:
            raise ValueError("Invalid value received for argument data. Expected 'train', "
                             f"'validation' or (x, y). Received: a sequence of {len(which)}")
        return np.asarray(which[0]), np.asarray(which[1])
    if opened.plan.data is None:
        raise DataError(Problem("data", f"the spec of {opened.run_dir} names no data (the run "
                                "was trained on arrays given to dlkit.train); pass them: "
                                "dlkit.landscape(run, data=(x, y))"))
    if opened.plan.seed is None:
        warnings.warn(f"the spec of {opened.run_dir} has no seed: its validation split (and "
                      "generated data) is drawn afresh, not as in training", stacklevel=3)
    arrays = fit_arguments(opened.plan, None)
    if which == "validation":
        if arrays["validation_data"] is None:
            raise DataError(Problem("data.validation_split", f"the run {opened.run_dir} "
                                    "trained without validation data; use --data train "
                                    "(data='train')"))
        return arrays["validation_data"]
    if not isinstance(arrays["x"], np.ndarray):
        raise DataError(Problem("data.source", "a landscape needs data that loads as arrays"))
    return arrays["x"], arrays["y"]


def check_choice(data: Any) -> None:
    """Refuses a ``data`` argument that is neither a choice nor a pair, before any work."""
    if isinstance(data, str) and data not in DATA_CHOICES or \
            not isinstance(data, (str, tuple, list)):
        raise ValueError("Invalid value received for argument data. Expected 'train', "
                         f"'validation' or (x, y). Received: data={data!r}")

