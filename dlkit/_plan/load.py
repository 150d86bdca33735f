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
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from dlkit._core.errors import (InitializationWarning, Problem, Problems, SpecError,
                                SpecWarning)
from dlkit._data.labels import is_classifier
from dlkit._plan.callbacks import callback_settings
from dlkit._plan.kinds import kind_plan, with_gan_monitors
from dlkit._plan.graph import (graph_plan, logged_names, loss_weights, monitor_modes,
                               output_nodes, output_plans)
from dlkit._plan.parts import PartError, freeze, make
from dlkit._plan.plan import (CompilePlan, FineTunePlan, FitPlan, GraphPlan, ModelPlan,
                              OutputPlan, Plan, RuntimePlan)
from dlkit._plan.registry import random_state_kept
from dlkit._plan.resolver import ModelParts, loss_name, model_parts
from dlkit._plan.shapes import Shapes, check_graph_shapes, check_shapes, scratch_graph
from dlkit._plan.transfer import check_base_shapes, plan_base, plan_fine_tune
from dlkit._runtime.precision import resolve_precision
from dlkit._runtime.steps import auto_steps_per_execution
from dlkit._spec.checks import run_checks, symmetric_initializer_warnings
from dlkit._spec.sections.kinds import model_kind
from dlkit._spec.graph import Layout, Node, graph_layout, network_layouts
from dlkit._spec.instances import merge_instances, note_instance
from dlkit._spec.spaces import find_spaces
from dlkit._spec.spec import DEFAULT_NAME, Spec, plan_of, raw_spec
from dlkit._spec.structure import TOP_KEYS, check_schema

MIXED_PRECISIONS = ("mixed_bfloat16", "mixed_float16")
# The model section's parts in the order a spec writes them, for sorting problems.
MODEL_PARTS = ("kind", "input_shape", "latent_dim", "inputs", "base", "blocks", "layers",
               "graph", "outputs", "encoder", "decoder", "generator", "discriminator", "noise",
               "anomaly",
               "regularization")


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
    layout = graph_layout(spec, problems)  # None for a stack of layers
    precision = _precision(spec, problems)
    if model_kind(spec["model"]) not in ("sequential", None):  # autoencoder, vae, gan
        return spec, _kind_plan(spec, problems, precision,
                                lambda items: _outside(items, checked_spaces, found.malformed))
    # Validating must not shift the random draws of a later build, nor allocate weights.
    with random_state_kept(), scratch_graph():
        parts, made, callbacks, graph, shapes, transfer = _passes_2_and_3(
            spec, layout, precision, problems)
    if problems.items or shapes is None:
        raise SpecError(in_spec_order(merge_instances(
            _outside(problems.items, checked_spaces, found.malformed))))
    for path, message in layout.warnings if layout is not None else ():
        warnings.warn(f"{path}: {message}", SpecWarning, stacklevel=3)
    for path, message in symmetric_initializer_warnings(spec):
        warnings.warn(f"{path}: {message}", InitializationWarning, stacklevel=3)
    return spec, _plan(spec, parts, made, shapes, callbacks, precision, graph, transfer)


def _passes_2_and_3(spec: dict, layout: Layout | None, precision: str,
                    problems: Problems) -> tuple:
    """Names resolved into parts, each made once (Keras checks its values), the callbacks'
    settings checked, and, if all is sound, the model assembled without weights."""
    nodes = layout.nodes if layout is not None else ()
    parts = _with_precision(model_parts(spec, problems, nodes), precision, layout)
    made = _made(parts, nodes, problems)
    callbacks = callback_settings(spec, problems)
    base = plan_base(spec, problems)  # None without model.base
    fine_tune = plan_fine_tune(spec, base, parts.optimizer, problems)
    graph = shapes = None
    if not problems.items and layout is not None:
        graph = graph_plan(layout, parts.layers)
        shapes = check_graph_shapes(graph, made["layers"], problems,
                                    sources=base and base.source(problems))
    elif not problems.items and base is not None:
        shapes = check_base_shapes(base, made["layers"], parts.layers, problems)
    elif not problems.items:
        shapes = check_shapes(tuple(spec["model"]["input_shape"]), made["layers"],
                              parts.layers, problems, input_dtype(spec))
    return parts, made, callbacks, graph, shapes, (base and base.plan, fine_tune)


def _kind_plan(spec: dict, problems: Problems, precision: str,
               reported: Callable[[list[Problem]], list[Problem]]) -> Plan:
    """The plan of an autoencoder, VAE or GAN (`dlkit._plan.kinds`); `reported` picks the
    problems to report (not those under a malformed search space's stand-in).

    Raises:
        SpecError: listing every problem found, in spec order.
    """
    layouts, unreached = network_layouts(spec, problems)  # its networks written as graphs
    with random_state_kept(), scratch_graph():
        planned = kind_plan(spec, problems, precision, layouts)
        callbacks = callback_settings(spec, problems)
    if problems.items or planned is None:
        raise SpecError(in_spec_order(merge_instances(reported(problems.items))))
    for path, message in unreached:
        warnings.warn(f"{path}: {message}", SpecWarning, stacklevel=4)
    for path, message in symmetric_initializer_warnings(spec):
        warnings.warn(f"{path}: {message}", InitializationWarning, stacklevel=4)
    model, compile_ = planned
    if model.gan is not None:
        callbacks = with_gan_monitors(callbacks)
    return _assembled(spec, model, compile_, callbacks, precision)


def input_dtype(spec: dict) -> str:
    """The model's input dtype: ``string`` when it reads text files, else float32."""
    data = spec.get("data")
    return "string" if isinstance(data, dict) and data.get("source") == "text" else "float32"


def _precision(spec: dict, problems: Problems) -> str:
    """The dtype policy for this machine, once the runtime section is sound."""
    runtime = spec.get("runtime")
    if not isinstance(runtime, dict) or problems.count_under("runtime"):
        return "float32"
    return resolve_precision(runtime["precision"], runtime["strategy"])


def _with_precision(parts: ModelParts, precision: str, layout: Layout | None) -> ModelParts:
    """Gives every layer but the output layers the mixed dtype policy `precision`, if any.

    The output layers stay float32, so that losses and softmax are computed in full precision,
    and so do preprocessing layers (those with ``adapt``): their statistics are float32, and
    Keras' ``adapt`` fails under a mixed policy.
    """
    if precision not in MIXED_PRECISIONS or not parts.layers:
        return parts
    if layout is None:
        kept = {len(parts.layers) - 1}
    else:
        outputs = set(output_nodes(layout.outputs).values())
        kept = {i for i, node in enumerate(layout.nodes) if node.name in outputs}
    layers = [p if p is None or "dtype" in p.args or i in kept or hasattr(p.cls, "adapt")
              else p.with_args(dtype=precision) for i, p in enumerate(parts.layers)]
    return ModelParts(layers, parts.optimizer, parts.loss, parts.metrics)


def _made(parts: ModelParts, nodes: tuple[Node, ...], problems: Problems) -> dict[str, Any]:
    """Makes every part once, so that Keras checks its values; records what it refuses."""
    def attempt(value: Any, instance: str = "") -> Any:
        start = len(problems.items)
        try:
            return make(value)
        except PartError as exc:
            problems.add(exc.path, exc.message)
            note_instance(problems, start, instance)
            return None

    instances = [node.instance for node in nodes] or [""] * len(parts.layers)
    metrics = parts.metrics
    return {"layers": [attempt(p, i) for p, i in zip(parts.layers, instances) if p is not None],
            "optimizer": attempt(parts.optimizer), "loss": attempt(parts.loss),
            "metrics": {out: [attempt(m) for m in ms if m is not None]
                        for out, ms in metrics.items()} if isinstance(metrics, dict) else
            [attempt(m) for m in metrics if m is not None]}


def _plan(spec: dict, parts: ModelParts, made: dict, shapes: Shapes, callbacks: Mapping,
          precision: str, graph: GraphPlan | None, transfer: tuple) -> Plan:
    """The plan of a stack or graph; `transfer`: its `BasePlan` and `FineTunePlan` (or None)."""
    compile_ = spec["compile"]
    if graph is None:
        name = loss_name(made["loss"])
        outputs = (OutputPlan(None, shapes.output_shape, name, is_classifier(name),
                              "model.layers[-1]"),)
    else:
        outputs = output_plans(shapes.output_shapes, made["loss"], loss_name)
    metrics = parts.metrics
    model = ModelPlan(input_shape=_input_shape(spec["model"], graph),
                      layers=() if graph else tuple(parts.layers),
                      parameters=shapes.parameters, multiply_adds=shapes.multiply_adds,
                      output_shape=shapes.output_shape, graph=graph,
                      input_dtype=input_dtype(spec), base=transfer[0])
    return _assembled(spec, model, CompilePlan(
        optimizer=parts.optimizer, loss=freeze(parts.loss),
        metrics=freeze(metrics) if isinstance(metrics, dict) else tuple(metrics),
        loss_name=outputs[0].loss_name, metric_names=logged_names(outputs, made["metrics"]),
        classifier=outputs[0].classifier, outputs=outputs,
        monitor_modes=monitor_modes(outputs, made["metrics"]),
        loss_weights=loss_weights(outputs, compile_.get("loss_weights"))), callbacks, precision,
        fine_tune=transfer[1])


def _assembled(spec: dict, model: ModelPlan, compile_: CompilePlan, callbacks: Mapping,
               precision: str, *, fine_tune: FineTunePlan | None = None) -> Plan:
    """The plan of a spec whose model and compile sections are planned."""
    runtime, train = spec["runtime"], spec["train"]
    return Plan(
        name=spec["name"], seed=spec["seed"], deterministic=spec["deterministic"],
        data=freeze(spec["data"]) if spec["data"] is not None else None,
        model=model, compile=compile_,
        fit=FitPlan(epochs=train["epochs"], batch_size=train["batch_size"],
                    shuffle=train["shuffle"], fine_tune=fine_tune),
        runtime=RuntimePlan(
            strategy=runtime["strategy"], precision=precision,
            steps_per_execution=runtime["steps_per_execution"],
            auto_steps=auto_steps_per_execution(model.multiply_adds, train["batch_size"]),
            peer_timeout=runtime["peer_timeout"]),
        callbacks=callbacks, settings=freeze(spec))


def _input_shape(model: dict, graph: GraphPlan | None) -> tuple | None:
    """A stack's input shape, or a graph's when it has one input (data sources shape x to it)."""
    if graph is None:
        return tuple(model["input_shape"])
    return next(iter(graph.inputs.values())) if len(graph.inputs) == 1 else None


def _outside(items: list[Problem], first: int, places: tuple[str, ...]) -> list[Problem]:
    """Drops problems from `first` on that lie at or inside one of `places` (malformed spaces,
    whose stand-in values are guesses)."""
    def inside(path: str) -> bool:
        return any(path == p or path.startswith((p + ".", p + "[")) for p in places)
    return items[:first] + [p for p in items[first:] if not inside(p.path)]


def in_spec_order(items: list[Problem]) -> list[Problem]:
    """Drops repeats and sorts problems as their places appear in a spec: section, then the
    model's parts (inputs, blocks, layers or nodes by index, outputs; inside a network written
    as a graph, its inputs, nodes and output)."""
    def place(problem: Problem) -> tuple[int, int, int]:
        section = re.split(r"[.\[]", problem.path, maxsplit=1)[0]
        rank = TOP_KEYS.index(section) if section in TOP_KEYS else -1
        part = re.match(r"model\.(\w+)", problem.path)
        part = MODEL_PARTS.index(part.group(1)) if part and part.group(1) in MODEL_PARTS else -1
        layer = re.match(r"model\.\w+(?:\.graph)?\[(\d+)\]", problem.path)
        if layer is None and re.match(r"model\.\w+\.output\b", problem.path):
            return rank, part, sys.maxsize  # a network's output node, after its nodes
        return rank, part, int(layer.group(1)) if layer else -1
    return sorted(dict.fromkeys(items), key=place)
