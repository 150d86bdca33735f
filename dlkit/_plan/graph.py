"""Graph models in the plan: nodes wired into a functional `keras.Model`, each problem at the
node that has it, and the outputs, their losses and the names Keras logs for them.

`assemble` is shared by pass 3 (`dlkit._plan.shapes`, in a scratch graph) and by
`dlkit.build`, so the model validation checked is the model that is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import keras

from dlkit._compat.metrics import metric_direction
from dlkit._core.errors import Problem, Problems, first_line
from dlkit._data.labels import is_classifier
from dlkit._plan.parts import Part
from dlkit._plan.plan import GraphNode, GraphPlan, OutputPlan
from dlkit._plan.registry import random_state_kept
from dlkit._plan.resolver import COMPILE_METRIC_NAMES
from dlkit._spec.graph import Layout
from dlkit._spec.instances import note_instance
from dlkit._spec.rules import key_path


def graph_plan(layout: Layout, parts: list[Part]) -> GraphPlan:
    """The plan of a graph whose every node resolved (`parts` in node order)."""
    nodes = tuple(GraphNode(node.name, part, node.inputs, node.instance)
                  for node, part in zip(layout.nodes, parts))
    return GraphPlan(inputs=layout.inputs, nodes=nodes, outputs=layout.outputs)


def output_nodes(outputs: object) -> dict[str | None, str]:
    """Output name -> node name; the one unnamed output of ``outputs: node`` is None (what is
    not a name is left out: pass 1 reported it)."""
    if isinstance(outputs, str):
        return {None: outputs}
    return {k: v for k, v in outputs.items() if isinstance(v, str)} \
        if isinstance(outputs, Mapping) else {}


def assemble(graph: GraphPlan, layer_for: Callable[[int], Any], problems: Problems, *,
             name: str | None = None,
             sources: Callable[[dict], None] | None = None) -> keras.Model | None:
    """Wires the nodes into a functional model; None after recording problems.

    Each node's layer is made (``layer_for(index)``) just before it is called on its inputs,
    as hand-written functional code does, so a seed gives the same initial weights. A node
    that cannot take its inputs is recorded at its path, naming its inputs and their shapes;
    the nodes that depend on it are skipped, the others still checked. `sources` adds named
    tensors that nodes may take besides the inputs (a base's output, `dlkit._plan.transfer`).
    """
    tensors: dict[str, Any] = {n: keras.Input(shape=s, name=n) for n, s in graph.inputs.items()}
    if sources is not None:
        sources(tensors)
    failed = False
    for index, node in enumerate(graph.nodes):
        if any(ref not in tensors for ref in node.inputs):
            failed = True  # an input failed before: its problem is recorded
            continue
        args = [tensors[ref] for ref in node.inputs]
        layer = layer_for(index)
        try:
            tensors[node.name] = layer(args[0] if len(args) == 1 else args)
        except Exception as exc:  # noqa: BLE001 - Keras' own message, with our path
            start = len(problems.items)
            problems.items.append(_node_problem(node, args, exc))
            note_instance(problems, start, node.instance)
            failed = True
    if failed:
        return None
    inputs = [tensors[n] for n in graph.inputs]
    outputs = output_nodes(graph.outputs)
    try:
        return keras.Model(inputs[0] if len(inputs) == 1 else dict(zip(graph.inputs, inputs)),
                           tensors[outputs[None]] if None in outputs else
                           {out: tensors[node] for out, node in outputs.items()}, name=name)
    except Exception as exc:  # noqa: BLE001 - unexpected: reported, not raised
        problems.add("model", f"Keras could not assemble the model: {first_line(exc)}")
        return None


def _node_problem(node: GraphNode, args: list, exc: Exception) -> Problem:
    kind = node.part.cls.__name__
    shaped = [f"'{ref}' of shape {tuple(arg.shape)}" for ref, arg in zip(node.inputs, args)]
    if len(args) == 1:
        text = f"{kind} cannot take its input {shaped[0]}"
    else:
        text = f"{kind} cannot take {', '.join(shaped[:-1])} and {shaped[-1]} together"
    return Problem(node.part.path, f"{text}: {first_line(exc)}")


def output_shapes(model: keras.Model, graph: GraphPlan) -> dict[str | None, tuple]:
    """Each output's shape (batch dimension first), by output name."""
    return {out: tuple(model.get_layer(node).output.shape)
            for out, node in output_nodes(graph.outputs).items()}


def output_plans(shapes: Mapping[str | None, tuple], losses: Any, loss_name: Callable) -> tuple:
    """One `OutputPlan` per output: `losses` is one made loss for all, or one per output."""
    plans = []
    for out, shape in shapes.items():
        name = loss_name(losses[out] if isinstance(losses, Mapping) else losses)
        path = "model.outputs" if out is None else key_path("model.outputs", out)
        plans.append(OutputPlan(out, shape, name, is_classifier(name), path))
    return tuple(plans)


def logged_names(outputs: tuple[OutputPlan, ...], metrics: Any) -> tuple[str, ...]:
    """The names Keras 3 logs besides ``loss``: a model of one output logs its metrics by
    their names (``accuracy``); of several, ``<output>_loss`` for each output and
    ``<output>_<metric>`` (``label_accuracy``). `metrics` are made metrics or names, a list
    or a mapping by output name."""
    def names(items: Any) -> list[str]:
        return [m if isinstance(m, str) else m.name for m in items or ()]

    if len(outputs) == 1:
        only = outputs[0].name
        return tuple(names(metrics.get(only) if isinstance(metrics, Mapping) else metrics))
    found = [f"{out.name}_loss" for out in outputs]
    for out in outputs:
        found += [f"{out.name}_{m}" for m in names(_of(metrics, out.name))]
    return tuple(found)


def monitor_modes(outputs: tuple[OutputPlan, ...], metrics: Any) -> Mapping[str, str]:
    """For a model of several outputs, ``min`` or ``max`` for each name it logs
    (``label_loss``: min, ``label_accuracy``: max). Keras' callbacks choose ``mode: auto``
    by plain metric names and cannot for these; dlkit chooses for them."""
    if len(outputs) < 2:
        return MappingProxyType({})
    modes = {f"{out.name}_loss": "min" for out in outputs}
    for out in outputs:
        for metric in _of(metrics, out.name):
            name = metric if isinstance(metric, str) else metric.name
            mode = _direction(metric)
            if mode is not None:
                modes[f"{out.name}_{name}"] = mode
    return MappingProxyType(modes)


def _of(metrics: Any, output: str) -> list:
    """One output's metrics, from metrics keyed by output (none listed: none)."""
    return list(metrics.get(output) or ()) if isinstance(metrics, Mapping) else []


def _direction(metric: Any) -> str | None:
    """Which way a metric improves, as `model.compile` would make it from a name."""
    if metric in COMPILE_METRIC_NAMES:
        return "max" if metric in ("accuracy", "acc") else "min"
    if isinstance(metric, str):
        with random_state_kept():
            metric = keras.metrics.get(metric)
        if not isinstance(metric, keras.metrics.Metric):
            metric = keras.metrics.MeanMetricWrapper(metric)
    return metric_direction(metric)


def loss_weights(outputs: tuple[OutputPlan, ...], weights: Mapping | None) -> Mapping | None:
    """Every output's weight (1.0 where the spec names none, as Keras wants all of them)."""
    if not weights:
        return None
    return MappingProxyType({out.name: float(weights.get(out.name, 1.0)) for out in outputs})
