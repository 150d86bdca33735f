"""A run directory opened for use: its plan, its model, what it outputs and its class names."""

from __future__ import annotations

import keyword
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import keras
import numpy as np

from dlkit._core.errors import RunDirError
from dlkit._model.saving import load_model
from dlkit._plan.kindplans import refuse_kind
from dlkit._plan.load import load_spec
from dlkit._plan.plan import Plan
from dlkit._spec.spec import plan_of
from dlkit._train.rundir import read_status


@dataclass(frozen=True)
class ModelInput:
    """One input of the model: its name, the shape of one sample and its dtype."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str

    @property
    def serving(self) -> str:
        """Its name in exported signatures and over HTTP (`serving_name`)."""
        return serving_name(self.name)


def serving_name(name: str) -> str:
    """An input name as a signature can carry it: a Python identifier that is not a keyword
    (TensorFlow makes each signature input a function parameter, so a table column ``class``
    or ``cabin-deck`` cannot be one). ``class`` -> ``class_``, ``cabin-deck`` -> ``cabin_deck``,
    ``2nd`` -> ``x_2nd``; other names stay as they are."""
    safe = re.sub(r"\W", "_", name, flags=re.ASCII)
    safe = f"x_{safe}" if not safe or safe[0].isdigit() else safe
    return f"{safe}_" if keyword.iskeyword(safe) else safe


@dataclass
class TrainedRun:
    """A finished run, opened from its directory.

    Attributes:
        run_dir: the run directory.
        plan: the plan of its ``spec.yaml``.
        model: ``model.keras`` as trained (its own precision).
        classes: class names per output name, as the data stage recorded them in
            ``run.json`` (``classes``); an output without recorded names has none here.
    """

    run_dir: Path
    plan: Plan
    model: keras.Model
    classes: dict[str, list[str] | None] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.plan.name

    @cached_property
    def inputs(self) -> list[ModelInput]:
        return [ModelInput(_base_name(t.name), tuple(t.shape[1:]), str(t.dtype))
                for t in self.model.inputs]

    @cached_property
    def output_names(self) -> list[str]:
        return output_names(self.model)

    @cached_property
    def named_inputs(self) -> bool:
        """Whether the model takes its inputs as a dict by name (a graph, a table's columns)."""
        return takes_dict(self.model)

    def is_classifier(self, output: str) -> bool:
        """Whether an output predicts classes (by its loss in the run's spec)."""
        outputs = self.plan.compile.outputs
        if len(outputs) == 1 or not outputs:
            return self.plan.compile.classifier
        return next((out.classifier for out in outputs if out.name == output), False)

    def output_tensor(self, output: str) -> Any:
        """The model's output tensor of that name (its shape and dtype)."""
        if not isinstance(self.model, keras.Sequential) and isinstance(self.model.output, dict):
            return self.model.output[output]
        return dict(zip(self.output_names, self.model.outputs))[output]

    def class_names(self, output: str) -> list[str]:
        """The output's class names: the run's own, else ``0``, ``1``, ... by unit."""
        tensor = self.output_tensor(output)
        units = max(2, tensor.shape[-1] or 1)  # one sigmoid unit: classes 0 and 1
        named = self.classes.get(output)
        return list(named) if named and len(named) == units else [str(i) for i in range(units)]


def open_run(run: Any) -> TrainedRun:
    """Opens a `dlkit.Run` or a run directory for predicting, exporting or serving.

    Raises:
        RunDirError: not a finished run directory (no ``spec.yaml`` or ``model.keras``).
        ModelFileError: ``model.keras`` cannot be loaded.
    """
    if isinstance(run, TrainedRun):
        return run
    run_dir = Path(run.log_dir if hasattr(run, "log_dir") else os.fspath(run))
    missing = [name for name in ("spec.yaml", "model.keras") if not (run_dir / name).is_file()]
    if not run_dir.is_dir() or missing:
        what = "no such directory" if not run_dir.is_dir() else f"it has no {' or '.join(missing)}"
        raise RunDirError(f"{run_dir} is not a finished run directory ({what}); pass the "
                          "directory `dlkit train` printed, like logs/<name>/<YYYYmmdd-HHMMSS>")
    plan = plan_of(load_spec(run_dir / "spec.yaml"))
    refuse_kind(plan.model.kind, "predicting, exporting and serving",
                takes=("sequential", "autoencoder"))
    model = run.model if hasattr(run, "model") else load_model(run_dir / "model.keras",
                                                               compile=False)
    return TrainedRun(run_dir, plan, model, _recorded_classes(run_dir, output_names(model)))


def takes_dict(model: keras.Model) -> bool:
    """Whether `model` was built on a dict of inputs (and so is called with one)."""
    return not isinstance(model, keras.Sequential) and isinstance(model.input, dict)


def output_names(model: keras.Model) -> list[str]:
    """The model's outputs by name: the keys of a dict of outputs, else the layers'."""
    if isinstance(model, keras.Sequential):
        return [model.layers[-1].name]
    if isinstance(model.output, dict):
        return [str(name) for name in model.output]
    return [str(name) for name in model.output_names]


def _recorded_classes(run_dir: Path, outputs: list[str]) -> dict[str, list[str]]:
    """The class names in ``run.json``: a list for the one output, or output name -> list."""
    recorded = read_status(run_dir).get("classes")
    if isinstance(recorded, list) and recorded:
        return {outputs[0]: [str(c) for c in recorded]}
    if isinstance(recorded, dict):
        return {name: [str(c) for c in recorded[name]] for name in outputs
                if isinstance(recorded.get(name), list)}
    return {}


def _base_name(name: str) -> str:
    return name.split(":")[0]


def class_of(output: np.ndarray) -> np.ndarray:
    """The predicted class per sample: argmax, or ``p > 0.5`` for one sigmoid unit."""
    output = np.asarray(output)
    if output.ndim >= 2 and output.shape[-1] > 1:
        return output.argmax(axis=-1)
    return (output.reshape(len(output)) > 0.5).astype("int64")
