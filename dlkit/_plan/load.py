"""`load_spec`, the only door to a `Spec`: every validation pass, and the plan made once.

Pass 1 (`dlkit._spec.structure`, `dlkit._spec.checks`) checks structure without Keras; pass 2
(`dlkit._plan.resolver`) resolves every name through Keras, on every part whose structure is
sound, and makes each part once (in a scratch graph) so that Keras checks its values; pass 3
(`dlkit._plan.shapes`), once all of that is sound, assembles the model without weights to check
shapes and size. One `SpecError` lists every problem; what passes becomes the `Plan`.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from typing import Any

from dlkit._core.errors import InitializationWarning, Problem, Problems, SpecError
from dlkit._data.labels import is_classifier
from dlkit._plan.callbacks import callback_settings
from dlkit._plan.parts import PartError, freeze, make
from dlkit._plan.plan import CompilePlan, FitPlan, ModelPlan, Plan, RuntimePlan
from dlkit._plan.registry import random_state_kept
from dlkit._plan.resolver import ModelParts, loss_name, model_parts
from dlkit._plan.shapes import Shapes, check_shapes, scratch_graph
from dlkit._runtime.precision import resolve_precision
from dlkit._runtime.steps import auto_steps_per_execution
from dlkit._spec.checks import run_checks, symmetric_initializer_warnings
from dlkit._spec.spaces import find_spaces
from dlkit._spec.spec import DEFAULT_NAME, Spec, plan_of, raw_spec
from dlkit._spec.structure import TOP_KEYS, check_schema

MIXED_PRECISIONS = ("mixed_bfloat16", "mixed_float16")


def load_spec(source: str | os.PathLike[str] | Mapping[str, Any] | Spec, *,
              overrides: list[str] | None = None) -> Spec:
    """Reads and validates a spec.

    Args:
        source: a `.yaml`/`.yml`/`.json` path, a dict, or a `Spec`.
        overrides: ``KEY=VALUE`` settings applied before validation, as `dlkit train --set`
            takes them, e.g. ``["train.epochs=3", "model.layers[1].units=128"]``.

    Returns:
        A validated `Spec` with defaults filled in.

    Raises:
        SpecError: listing every problem found, each with its path.

    Example:
        >>> spec = dlkit.load_spec("examples/digits_mlp.yaml", overrides=["train.epochs=2"])
    """
    if isinstance(source, Spec) and not overrides and plan_of(source) is not None:
        return source
    raw, default_name = raw_spec(source, overrides)
    data, plan = make_plan(raw, default_name=default_name)
    return Spec(data, plan=plan, _validated=True)


def plan_for(source: str | os.PathLike[str] | Mapping[str, Any] | Spec) -> Plan:
    """The plan of anything `load_spec` takes (a `Spec`'s own, made when it was loaded)."""
    return plan_of(load_spec(source))


def make_plan(raw: dict[str, Any], *, default_name: str = DEFAULT_NAME) -> tuple[dict, Plan]:
    """Every validation pass over plain data; returns it with defaults filled in, and its plan.

    A search space anywhere is a problem here (a plan is one concrete network): the rest is
    checked with each space at its smallest value, and each space's problem points to
    `dlkit search`.

    Raises:
        SpecError: listing every problem found, in spec order.
    """
    problems = Problems()
    found = find_spaces(raw, problems)
    for space in found.spaces:
        problems.add(space.path, f"a search space ({space.describe()}): training and building "
                     "take one concrete value; try its values with `dlkit search SPEC` "
                     "(dlkit.search), or write one value here")
    checked_spaces = len(problems.items)
    spec = check_schema(found.stand_in, default_name, problems)
    run_checks(spec, problems)
    precision = _precision(spec, problems)
    # Validating must not shift the random draws of a later build, nor allocate weights.
    with random_state_kept(), scratch_graph():
        parts = _with_precision(model_parts(spec, problems), precision)
        made = _made(parts, problems)
        callbacks = callback_settings(spec, problems)
        shapes = None
        if not problems.items:
            shapes = check_shapes(tuple(spec["model"]["input_shape"]), made["layers"],
                                  parts.layers, problems)
    if problems.items or shapes is None:
        raise SpecError(in_spec_order(_outside(problems.items, checked_spaces, found.malformed)))
    for path, message in symmetric_initializer_warnings(spec):
        warnings.warn(f"{path}: {message}", InitializationWarning, stacklevel=3)
    return spec, _plan(spec, parts, made, shapes, callbacks, precision)


def _precision(spec: dict, problems: Problems) -> str:
    """The dtype policy for this machine, once the runtime section is sound."""
    runtime = spec.get("runtime")
    if not isinstance(runtime, dict) or problems.count_under("runtime"):
        return "float32"
    return resolve_precision(runtime["precision"], runtime["strategy"])


def _with_precision(parts: ModelParts, precision: str) -> ModelParts:
    """Gives every layer but the output layer the mixed dtype policy `precision`, if any.

    The output layer stays float32, so that losses and softmax are computed in full precision.
    """
    if precision not in MIXED_PRECISIONS or not parts.layers:
        return parts
    layers = [p if p is None or "dtype" in p.args else p.with_args(dtype=precision)
              for p in parts.layers[:-1]]
    return ModelParts([*layers, parts.layers[-1]], parts.optimizer, parts.loss, parts.metrics)


def _made(parts: ModelParts, problems: Problems) -> dict[str, Any]:
    """Makes every part once, so that Keras checks its values; records what it refuses."""
    def attempt(value: Any) -> Any:
        try:
            return make(value)
        except PartError as exc:
            problems.add(exc.path, exc.message)
            return None

    return {"layers": [attempt(p) for p in parts.layers if p is not None],
            "optimizer": attempt(parts.optimizer), "loss": attempt(parts.loss),
            "metrics": [attempt(m) for m in parts.metrics if m is not None]}


def _plan(spec: dict, parts: ModelParts, made: dict, shapes: Shapes, callbacks: Mapping,
          precision: str) -> Plan:
    runtime, train = spec["runtime"], spec["train"]
    name = loss_name(made["loss"])
    metric_names = tuple(m if isinstance(m, str) else m.name for m in made["metrics"])
    return Plan(
        name=spec["name"], seed=spec["seed"], deterministic=spec["deterministic"],
        data=freeze(spec["data"]) if spec["data"] is not None else None,
        model=ModelPlan(input_shape=tuple(spec["model"]["input_shape"]),
                        layers=tuple(parts.layers), parameters=shapes.parameters,
                        multiply_adds=shapes.multiply_adds, output_shape=shapes.output_shape),
        compile=CompilePlan(optimizer=parts.optimizer, loss=parts.loss,
                            metrics=tuple(parts.metrics), loss_name=name,
                            metric_names=metric_names, classifier=is_classifier(name)),
        fit=FitPlan(epochs=train["epochs"], batch_size=train["batch_size"],
                    shuffle=train["shuffle"]),
        runtime=RuntimePlan(
            strategy=runtime["strategy"], precision=precision,
            steps_per_execution=runtime["steps_per_execution"],
            auto_steps=auto_steps_per_execution(shapes.multiply_adds, train["batch_size"]),
            peer_timeout=runtime["peer_timeout"]),
        callbacks=callbacks, settings=freeze(spec))


def _outside(items: list[Problem], first: int, places: tuple[str, ...]) -> list[Problem]:
    """Drops problems from `first` on that lie at or inside one of `places` (malformed spaces,
    whose stand-in values are guesses)."""
    def inside(path: str) -> bool:
        return any(path == p or path.startswith((p + ".", p + "[")) for p in places)
    return items[:first] + [p for p in items[first:] if not inside(p.path)]


def in_spec_order(items: list[Problem]) -> list[Problem]:
    """Drops repeats and sorts problems as their places appear in a spec: section, then layer."""
    def place(problem: Problem) -> tuple[int, int]:
        section = re.split(r"[.\[]", problem.path, maxsplit=1)[0]
        rank = TOP_KEYS.index(section) if section in TOP_KEYS else -1
        layer = re.match(r"model\.layers\[(\d+)\]", problem.path)
        return rank, int(layer.group(1)) if layer else -1
    return sorted(dict.fromkeys(items), key=place)

