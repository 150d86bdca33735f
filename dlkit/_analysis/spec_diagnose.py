"""``dlkit.diagnose``: a spec's model checked layer by layer at initialisation and after N steps."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
import yaml

from dlkit._analysis._checks import check_int
from dlkit._analysis._json import json_safe
from dlkit._analysis.diagnose import Diagnosis, write_histograms
from dlkit._analysis.diagnose import diagnose as diagnose_model
from dlkit._analysis.limits import MAX_STEPS
from dlkit._core.errors import DataError, Problem
from dlkit._core.files import write_json_atomic, write_text_atomic
from dlkit._model.build import build_plan
from dlkit._plan.kindplans import refuse_kind
from dlkit._plan.load import load_spec
from dlkit._spec.spec import Spec, plan_of
from dlkit._train.fitdata import fit_arguments
from dlkit._train.rundir import create_run_dir, log_root

DEFAULT_STEPS = 20
DIAGNOSE_SUFFIX = "-diagnose"  # <root>/<name>-diagnose/<YYYYmmdd-HHMMSS>/, beside the runs


def diagnose(spec: Spec | Mapping[str, Any] | str | os.PathLike[str], data: Any = None, *,
             steps: int = DEFAULT_STEPS, logdir: str | os.PathLike[str] | None = None,
             histograms: bool = True) -> Diagnosis:
    """Checks every layer of a spec's model at initialisation and after ``steps`` steps.

    Builds the model as `dlkit.build` does (seeded by the spec's ``seed``, so the initial
    weights are those a run of the spec starts from), loads the training split of its data as
    `dlkit.train` does, and measures each layer with a kernel and each activation layer on one
    batch: ``dead_fraction`` (ReLU units that output <= 0 for every sample), ``saturated_fraction``
    (sigmoid/tanh outputs in their flat tails), ``activation_std`` and the kernel's
    ``gradient_norm``; then trains a copy for ``steps`` steps of the spec's batch size and
    measures again. Warnings: dead, symmetric (identical units), saturated, vanishing,
    exploding, each with its numbers. Nothing is trained for real: the model is left as built.

    Why He initialisation beats zeros for a ReLU network, in these numbers: with zero kernels
    every hidden unit outputs relu(0) = 0 (dead fraction 100%, activation std 0), all units are
    identical (symmetric) and every kernel gradient is exactly 0, so the numbers after N steps
    are the same; ``he_normal`` keeps the outputs' spread from layer to layer (variance 2/fan_in
    makes up for ReLU zeroing half of them), no unit is dead and every kernel gets a gradient.

    Args:
        spec: a `Spec`, or anything `dlkit.load_spec` takes.
        data: ``(x, y)`` or ``(x, y, x_val, y_val)`` arrays; by default the spec's data
            section (its training split).
        steps: training steps between the two measurements (1 to 100,000).
        logdir: the log root for the TensorBoard histograms; default ``$DLKIT_LOGDIR`` or
            ``logs``.
        histograms: write the histograms, ``diagnose.json`` and ``spec.yaml`` into a new
            directory ``<logdir>/<name>-diagnose/<YYYYmmdd-HHMMSS>/``.

    Returns:
        The `Diagnosis` (a JSON-ready dict): ``layers`` (per layer ``name``, ``type``,
        ``activation``, ``units``, ``at_init`` and ``after`` numbers), ``warnings`` (``layer``,
        ``kind``, ``phases``, ``message``), ``steps``, ``batch_size``, ``thresholds``, and
        ``log_dir`` (the directory written, or None).

    Raises:
        SpecError: the spec is invalid or names no data (and none was given).
        DataError: the data cannot be loaded or does not fit the model.
        ValueError: ``steps`` is out of range.

    Example:
        >>> result = dlkit.diagnose("examples/digits_mlp.yaml", steps=20)
        >>> [w["message"] for w in result["warnings"]]
    """
    steps = check_int("steps", steps, 1, MAX_STEPS)
    spec = load_spec(spec)
    plan = plan_of(spec)
    refuse_kind(plan.model.kind, "dlkit diagnose", takes=("sequential",))
    if data is None and plan.data is None:
        raise DataError(Problem("data", "no data to diagnose on: add a data section (e.g. "
                                "source: digits) or pass data=(x, y)"))
    if plan.seed is not None:
        keras.utils.set_random_seed(plan.seed)
    model = build_plan(plan)
    fit_args = fit_arguments(plan, data)
    if not isinstance(fit_args["x"], np.ndarray) or "y" not in fit_args:
        raise DataError(Problem("data", "diagnose needs arrays: pass data=(x, y), not a "
                                "tf.data.Dataset"))
    x, y = fit_args["x"], fit_args["y"]
    result = diagnose_model(model, x, y, steps=steps, batch_size=fit_args["batch_size"],
                            seed=plan.seed or 0)
    result["log_dir"] = None
    if histograms:
        run_dir = create_run_dir(log_root(logdir), plan.name + DIAGNOSE_SUFFIX)
        write_histograms(result, run_dir)
        write_text_atomic(run_dir / "spec.yaml", yaml.safe_dump(spec.to_dict(), sort_keys=False))
        result["log_dir"] = str(run_dir)
        write_json_atomic(run_dir / "diagnose.json", json_safe(dict(result)))
    return result
