"""Pass 1 for graph models: the wiring of inputs, nodes and outputs, and the blocks expanded.

Checked here, without Keras, every problem at once: unknown names (with a did-you-mean), a node
used before it is defined or in a cycle, duplicate names, outputs that name no node, unknown
blocks and parameters, a block that uses itself; inputs and nodes that reach no output are
warnings. Then every block instance is expanded into plain nodes: the nodes of block
instance ``b1`` are named ``b1.<node>``, except the block's output node, which takes the
instance's own name ``b1`` (so later nodes take ``b1`` as their input). Expanded nodes keep
the spec path where their layer is written (``model.blocks.residual.graph[1]``) and the name
of the instance they belong to, so messages point at both.

The networks of an autoencoder, VAE or GAN written as graphs (``model.encoder: {inputs: [x],
graph, output}``) are checked and expanded the same way, one layout each (`network_layouts`),
their paths under the network (``model.encoder.graph[2].inputs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from dlkit._core.errors import Problems, did_you_mean
from dlkit._spec.rules import key_path
from dlkit._spec.sections.base import BASE_NAME, base_warnings
from dlkit._spec.sections.graph import PARAMETER
from dlkit._spec.sections.kinds import STACKS, model_kind
from dlkit._spec.sections.model import is_graph_model

@dataclass(frozen=True)
class Node:
    """One node of a graph, blocks expanded.

    Attributes:
        name: its Keras layer name (``b1.conv`` inside block instance ``b1``).
        layer: the layer spec, ``{type, name, **arguments}``, block parameters substituted.
        inputs: the names of the inputs and nodes it takes, in order.
        path: where its layer is written in the spec, like ``model.graph[3]``.
        instance: the block instance it belongs to (``b1``), or "" for a node of the graph.
    """

    name: str
    layer: Mapping[str, Any]
    inputs: tuple[str, ...]
    path: str
    instance: str = ""


@dataclass(frozen=True)
class Layout:
    """A graph model with its blocks expanded.

    Attributes:
        inputs: input name -> shape, in spec order (None for a network of an autoencoder,
            VAE or GAN: its input's shape is known once the networks before it are assembled).
        nodes: every node, in an order where each comes after what it takes.
        outputs: one node's name (one unnamed output), or output name -> node name.
        warnings: ``(path, message)`` for each input or node that reaches no output.
    """

    inputs: Mapping[str, tuple]
    nodes: tuple[Node, ...]
    outputs: str | Mapping[str, str]
    warnings: tuple[tuple[str, str], ...]


@dataclass
class _Scope:
    """One graph's names (the model's, or a block's) for the wiring check."""

    inputs: list[tuple[str, str]]  # (name, path)
    nodes: list
    path: str
    outputs: list[tuple[str, str]]  # (path, node name)


def graph_layout(spec: dict, problems: Problems) -> Layout | None:
    """Checks a graph model's wiring and expands its blocks; None for a stack model.

    Nodes whose structure pass 1 refused are left out of the layout (their problems are
    recorded), so the layers of the others are still resolved and checked.
    """
    model = spec.get("model")
    if not is_graph_model(model) or model_kind(model) in STACKS:
        return None
    warnings: list[tuple[str, str]] = []
    blocks = _checked_blocks(model, problems, warnings)
    inputs = model["inputs"] if isinstance(model.get("inputs"), dict) else {}
    nodes = model["graph"] if isinstance(model.get("graph"), list) else []
    outputs = model.get("outputs")
    sources = [str(n) for n in inputs] + ([BASE_NAME] if "base" in model else [])
    scope = _Scope([(n, "model.base" if n == BASE_NAME else key_path("model.inputs", n))
                    for n in sources], nodes, "model.graph", _output_references(outputs))
    _check_scope(scope, blocks, problems, warnings)
    warnings = base_warnings(model, warnings)
    expanded: list[Node] = []
    _Expander(blocks, problems, expanded).run(nodes, "model.graph", {n: n for n in sources})
    shapes = {str(n): tuple(s) if isinstance(s, list) else s for n, s in inputs.items()}
    return Layout(MappingProxyType(shapes), tuple(expanded),
                  outputs if not isinstance(outputs, dict) else MappingProxyType(dict(outputs)),
                  tuple(warnings))


def network_layouts(spec: dict, problems: Problems
                    ) -> tuple[dict[str, Layout], tuple[tuple[str, str], ...]]:
    """An autoencoder's, VAE's or GAN's networks written as graphs, by name (``encoder``), each
    checked and its blocks expanded; and warnings for what reaches no output (in them or in
    blocks). Lists of layers, and other kinds of model, have no layout."""
    model = spec.get("model")
    kind = model_kind(model)
    if kind not in STACKS:
        return {}, ()
    warnings: list[tuple[str, str]] = []
    blocks = _checked_blocks(model, problems, warnings)
    layouts = {}
    for name in (name for name in STACKS[kind] if isinstance(model.get(name), dict)):
        scope = _subgraph_scope(f"model.{name}", model[name])
        _check_scope(scope, blocks, problems, warnings)
        expanded: list[Node] = []
        _Expander(blocks, problems, expanded).run(scope.nodes, scope.path,
                                                  {n: n for n, _ in scope.inputs})
        output = scope.outputs[0][1] if scope.outputs else ""
        layouts[name] = Layout(MappingProxyType({n: None for n, _ in scope.inputs}),
                               tuple(expanded), output, ())
    return layouts, tuple(warnings)


def _checked_blocks(model: dict, problems: Problems, warnings: list[tuple[str, str]]) -> dict:
    """The model's blocks (those that are mappings), each block's wiring checked."""
    blocks = model["blocks"] if isinstance(model.get("blocks"), dict) else {}
    for name, block in blocks.items():
        if isinstance(block, dict):
            _check_scope(_subgraph_scope(key_path("model.blocks", str(name)), block), blocks,
                         problems, warnings)
    return blocks


def _output_references(outputs: object) -> list[tuple[str, str]]:
    """``(path, node name)`` for each output that names a node."""
    if isinstance(outputs, str):
        return [("model.outputs", outputs)]
    if not isinstance(outputs, dict):
        return []
    return [(key_path("model.outputs", str(k)), v) for k, v in outputs.items()
            if isinstance(v, str)]


def _subgraph_scope(path: str, block: dict) -> _Scope:
    """The scope of a block, or of a network written as a graph, at `path`."""
    inputs = block.get("inputs") if isinstance(block.get("inputs"), list) else []
    nodes = block.get("graph") if isinstance(block.get("graph"), list) else []
    output = block.get("output", _last_name(nodes))
    return _Scope([(str(n), key_path(key_path(path, "inputs"), i)) for i, n in enumerate(inputs)],
                  nodes, key_path(path, "graph"),
                  [(key_path(path, "output"), output)] if isinstance(output, str) else [])


def _last_name(nodes: list) -> str | None:
    return nodes[-1].get("name") if nodes and isinstance(nodes[-1], dict) else None


def _names(nodes: list) -> list[str | None]:
    return [n.get("name") if isinstance(n, dict) and isinstance(n.get("name"), str) else None
            for n in nodes]


def references(node: object) -> list[str]:
    """The names a node takes (``inputs: a`` or ``inputs: [a, b]``); [] if malformed."""
    refs = node.get("inputs") if isinstance(node, dict) else None
    if isinstance(refs, str):
        return [refs]
    return list(refs) if isinstance(refs, list) and all(isinstance(r, str) for r in refs) else []


def _check_scope(scope: _Scope, blocks: dict, problems: Problems,
                 warnings: list[tuple[str, str]]) -> None:
    """Names, references, outputs and block instances of one graph; reach warnings if sound."""
    start = len(problems.items)
    inputs = [name for name, _ in scope.inputs]
    names = _names(scope.nodes)
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        if name is None:
            continue
        first = dict(scope.inputs).get(name) or (key_path(scope.path, index[name])
                                                 if name in index else None)
        if first is not None:
            problems.add(key_path(key_path(scope.path, i), "name"), f"duplicate name '{name}': "
                         f"{first} has it already; every input and node needs its own name (a "
                         "node's name is its Keras layer name)")
        else:
            index[name] = i
    refs = [references(node) for node in scope.nodes]
    for i, node_refs in enumerate(refs):
        for k, ref in enumerate(node_refs):
            if ref in inputs or index.get(ref, i) < i:
                continue
            where = key_path(key_path(scope.path, i), "inputs")
            where = key_path(where, k) if isinstance(scope.nodes[i]["inputs"], list) else where
            problems.add(where, _reference_problem(ref, i, names, index, refs, inputs,
                                                   scope.path))
    for where, ref in scope.outputs:
        if ref in inputs:
            problems.add(where, f"'{ref}' is an input; an output is a node")
        elif ref not in index:
            problems.add(where, f"unknown node '{ref}'{did_you_mean(ref, list(index))}; the "
                         f"nodes are: {', '.join(index)}")
    for i, node in enumerate(scope.nodes):
        if isinstance(node, dict) and "block" in node:
            _check_instance(node, key_path(scope.path, i), blocks, problems)
    if len(problems.items) == start:
        warnings.extend(_unreached(scope, names, index, refs))


def _reference_problem(ref: str, i: int, names: list, index: dict[str, int], refs: list,
                       inputs: list[str], path: str) -> str:
    """Why node `i` cannot take `ref`: a later node, a cycle, or an unknown name."""
    if ref in index:
        cycle = _cycle(names[i], ref, index, refs)
        if cycle:
            return (f"'{ref}' makes a cycle: {' -> '.join(cycle)}; a graph has no cycles: a "
                    "node takes inputs and earlier nodes only")
        return (f"'{ref}' is used before it is defined (at {key_path(path, index[ref])}); a node "
                f"takes inputs and earlier nodes only: move '{names[i]}' below it")
    known = list(dict.fromkeys([*inputs, *(n for n in names[:i] if n is not None)]))
    return (f"unknown node or input '{ref}'{did_you_mean(ref, [*inputs, *index])}; "
            f"'{names[i]}' can take: {', '.join(known) or 'nothing'}")


def _cycle(start: str, ref: str, index: dict[str, int], refs: list) -> list[str] | None:
    """The cycle that `start` taking `ref` closes, in the direction data flows
    (``a -> b -> a``: a feeds b, b feeds a), or None when `ref` does not depend on `start`."""
    taker: dict[str, str | None] = {ref: None}  # name -> the node that takes it on the way
    queue = [ref]
    while queue:
        name = queue.pop(0)
        if name == start:
            chain = [name]
            while taker[chain[-1]] is not None:
                chain.append(taker[chain[-1]])
            return [*chain, start]
        for taken in refs[index[name]] if name in index else []:
            if taken not in taker:
                taker[taken] = name
                queue.append(taken)
    return None


def _check_instance(node: dict, path: str, blocks: dict, problems: Problems) -> None:
    """The block exists, takes as many inputs as given, and has the parameters set."""
    name = node.get("block")
    if not isinstance(name, str):
        return
    block = blocks.get(name)
    if not isinstance(block, dict):
        problems.add(key_path(path, "block"), f"unknown block '{name}'"
                     f"{did_you_mean(name, list(blocks))}; blocks: {', '.join(blocks) or 'none'}"
                     " (define blocks under model.blocks)")
        return
    chain = _self_use(name, blocks, [name])
    if chain:
        problems.add(key_path(path, "block"), f"block '{name}' uses itself: "
                     f"{' -> '.join(chain)}; a block cannot contain itself")
    wanted = block.get("inputs") if isinstance(block.get("inputs"), list) else []
    given = references(node)
    if given and wanted and len(given) != len(wanted):
        problems.add(key_path(path, "inputs"), f"block '{name}' takes {len(wanted)} input(s) "
                     f"({', '.join(map(str, wanted))}); received {len(given)}")
    params = block.get("params") if isinstance(block.get("params"), dict) else {}
    settings = node.get("with") if isinstance(node.get("with"), dict) else {}
    for key in settings:
        if key not in params:
            problems.add(key_path(key_path(path, "with"), str(key)), f"unknown parameter "
                         f"'{key}' of block '{name}'{did_you_mean(key, list(params))}; its "
                         f"parameters: {', '.join(params) or 'none'}")


def _self_use(name: str, blocks: dict, chain: list[str]) -> list[str] | None:
    """A chain of blocks from `chain[0]` back to itself through `name`'s instances, if any."""
    block = blocks.get(name)
    nodes = block.get("graph") if isinstance(block, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        inner = node.get("block") if isinstance(node, dict) else None
        if not isinstance(inner, str) or inner not in blocks:
            continue
        if inner == chain[0]:
            return [*chain, inner]
        if inner not in chain:
            found = _self_use(inner, blocks, [*chain, inner])
            if found:
                return found
    return None


def _unreached(scope: _Scope, names: list, index: dict[str, int],
               refs: list) -> list[tuple[str, str]]:
    """Inputs and nodes from which no output can be reached."""
    reached: set[str] = set()
    stack = [ref for _, ref in scope.outputs]
    while stack:
        name = stack.pop()
        if name not in reached:
            reached.add(name)
            stack.extend(refs[index[name]] if name in index else [])
    found = [(path, f"input '{name}' reaches no output: no node takes it, or none that "
              "leads to an output") for name, path in scope.inputs if name not in reached]
    found += [(key_path(scope.path, i), f"node '{name}' reaches no output: it is computed but "
               "never used; connect it to an output or remove it")
              for i, name in enumerate(names) if name is not None and name not in reached]
    return found


class _Expander:
    """Expands block instances into plain nodes (see the module docstring for the names)."""

    def __init__(self, blocks: dict, problems: Problems, out: list[Node]) -> None:
        self.blocks, self.problems, self.out = blocks, problems, out

    def run(self, nodes: list, path: str, scope: dict[str, str], *, prefix: str = "",
            output: tuple[str, str] | None = None, params: Mapping[str, Any] | None = None,
            chain: tuple[str, ...] = ()) -> None:
        """Appends the nodes of one graph. `scope` maps its local names to expanded ones;
        inside a block instance, nodes are named ``<prefix>.<name>`` but the block's output
        node, ``output = (its local name, the instance's name)``, takes the instance's."""
        for i, node in enumerate(nodes):
            node_path = key_path(path, i)
            if not isinstance(node, dict) or self.problems.count_under(node_path):
                continue
            local = node["name"]
            scoped = f"{prefix}.{local}" if prefix else local
            name = output[1] if output is not None and local == output[0] else scoped
            inputs = tuple(scope.get(ref, ref) for ref in references(node))
            scope[local] = name
            if "block" in node:
                self._instance(node, node_path, scoped, name, inputs, params or {}, chain)
            else:
                layer = {**substitute({k: v for k, v in node.items() if k != "inputs"},
                                      params or {}), "name": name}
                self.out.append(Node(name, MappingProxyType(layer), inputs, node_path, prefix))

    def _instance(self, node: dict, path: str, scoped: str, name: str, inputs: tuple[str, ...],
                  params: Mapping[str, Any], chain: tuple[str, ...]) -> None:
        block = self.blocks.get(node["block"])
        if not isinstance(block, dict) or node["block"] in chain:
            return  # an unknown block, or one that contains itself: reported
        settings = substitute(_mapping(node.get("with")), params)
        nodes = block["graph"] if isinstance(block.get("graph"), list) else []
        wanted = block["inputs"] if isinstance(block.get("inputs"), list) else []
        self.run(nodes, key_path(key_path("model.blocks", node["block"]), "graph"),
                 {str(k): v for k, v in zip(wanted, inputs)}, prefix=scoped,
                 output=(block.get("output", _last_name(nodes)), name),
                 params={**_mapping(block.get("params")), **settings},
                 chain=(*chain, node["block"]))


def _mapping(value: object) -> dict:
    """`value` if it is a mapping, else {} (pass 1 reported what it is)."""
    return value if isinstance(value, dict) else {}


def substitute(value: Any, params: Mapping[str, Any]) -> Any:
    """`value` with every ``$name`` replaced by that parameter's value."""
    if isinstance(value, str):
        match = PARAMETER.match(value)
        return params.get(match.group(1), value) if match else value
    if isinstance(value, dict):
        return {key: substitute(item, params) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, params) for item in value]
    return value
