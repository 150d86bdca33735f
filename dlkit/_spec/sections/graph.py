"""The graph form of the ``model`` section: named inputs, nodes in order, named outputs, and
blocks (named sub-graphs with parameters) that nodes instantiate.

```yaml
model:
  inputs: {image: [32, 32, 3]}                  # name -> shape
  blocks:                                       # optional: sub-graphs written once
    residual:
      inputs: [x]                               # the block's own input names
      params: {filters: 64}                     # parameters and their defaults
      graph:
        - {name: a, type: Conv2D, filters: $filters, kernel_size: 3, padding: same, inputs: x}
        - {name: sum, type: Add, inputs: [a, x]}
      output: sum                               # default: the block's last node
  graph:                                        # in order; a node takes earlier names only
    - {name: c1, type: Conv2D, filters: 32, kernel_size: 3, inputs: image}
    - {name: b1, block: residual, inputs: c1, with: {filters: 32}}
  outputs: b1                                   # a node, or {output name: node}
```

Here only the structure is checked (names, types, keys); `dlkit._spec.graph` checks the wiring
(unknown names, order, cycles, duplicates, what reaches no output) and expands the blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from dlkit._core.errors import Problems, did_you_mean
from dlkit._spec.rules import check_keys, check_layer, check_shape, key_path, mapping_or_none
from dlkit._spec.sections.kinds import KIND_STACKS

GRAPH_KEYS = ("inputs", "graph", "outputs", "blocks")
BLOCK_NODE_KEYS = ("name", "inputs", "block", "with")
BLOCK_KEYS = ("inputs", "params", "graph", "output")
# Inputs, nodes, outputs, blocks and parameters: names that are also Keras layer names and
# metric-name prefixes (`label_accuracy`); a "." is kept for the nodes blocks expand into.
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
PARAMETER = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
RESERVED_OUTPUTS = ("type",)  # compile.loss: {type: ...} is one loss, not a loss per output


def check_graph_model(model: dict, problems: Problems) -> dict:
    """Checks the structure of a graph model; returns its section with defaults filled in."""
    for key in ("inputs", "graph", "outputs"):
        if key not in model:
            problems.add(f"model.{key}", f"missing: a graph model needs inputs, graph and "
                         f"outputs ({_EXAMPLES[key]})")
    if "inputs" in model:
        _inputs(model["inputs"], problems)
    blocks = model.get("blocks", {})
    if mapping_or_none(blocks, "model.blocks", problems) is not None:
        for name, block in blocks.items():
            _block(name, block, key_path("model.blocks", str(name)), problems)
    if "graph" in model:
        check_nodes(model["graph"], "model.graph", None, problems)
    if "outputs" in model:
        _outputs(model["outputs"], problems)
    return {"inputs": model.get("inputs"), "graph": model.get("graph"),
            "outputs": model.get("outputs"), "blocks": blocks}


_EXAMPLES = {"inputs": "inputs: {image: [28, 28, 1]}", "graph": "graph: [{name: d1, type: "
             "Dense, units: 8, inputs: image}, ...]", "outputs": "outputs: d1"}


def check_name(value: object, path: str, problems: Problems, *, what: str) -> bool:
    """A name of an input, node, output, block or parameter; returns whether it is one."""
    if isinstance(value, str) and NAME.match(value):
        return True
    problems.add(path, f"a {what} name is 1-64 letters, digits, '_' or '-', starting with a "
                 f"letter or '_'; received {value!r}")
    return False


def _inputs(value: object, problems: Problems) -> None:
    inputs = _named(value, "model.inputs", problems, example="{image: [28, 28, 1]}")
    for name, shape in inputs.items():
        path = key_path("model.inputs", str(name))
        if check_name(name, path, problems, what="input"):
            check_shape(shape, path, problems)


def _named(value: object, path: str, problems: Problems, *, example: str) -> dict:
    """A mapping of names that is not empty; {} (its problem recorded) for anything else."""
    mapping = mapping_or_none(value, path, problems)
    if mapping is not None and not mapping:
        problems.add(path, f"name at least one, like {example}")
    return mapping or {}


def check_nodes(value: object, path: str, params: dict | None, problems: Problems) -> None:
    """A non-empty list of nodes, each a layer or a block instance; `params` are the
    parameters the nodes may use (`$name`), None outside blocks."""
    if not isinstance(value, list) or not value:
        problems.add(path, f"expected a non-empty list of nodes, received {value!r}")
        return
    for index, node in enumerate(value):
        node_path = key_path(path, index)
        if mapping_or_none(node, node_path, problems) is None:
            continue
        check_name(node.get("name"), key_path(node_path, "name"), problems, what="node")
        _references(node.get("inputs"), key_path(node_path, "inputs"), problems)
        if "block" in node:
            check_keys(node, BLOCK_NODE_KEYS, node_path, problems)
            if not isinstance(node["block"], str):
                problems.add(key_path(node_path, "block"), "expected the name of a block in "
                             f"model.blocks, received {node['block']!r}")
            if "with" in node:
                mapping_or_none(node["with"], key_path(node_path, "with"), problems)
        elif "type" in node:
            check_layer({k: v for k, v in node.items() if k != "inputs"}, node_path, problems)
        else:
            problems.add(node_path, "a node is a layer {name, type, inputs, ...arguments} or a "
                         "block instance {name, block, inputs, with}")
        _parameters(node, node_path, params, problems)


def _references(value: object, path: str, problems: Problems) -> None:
    if value is None:
        problems.add(path, "missing: name the input or earlier node(s) this node takes, like "
                     "inputs: image or inputs: [c1, c2]")
    elif not (isinstance(value, str) or (isinstance(value, list) and value
                                         and all(isinstance(v, str) for v in value))):
        problems.add(path, "expected a name or a non-empty list of names of inputs and earlier "
                     f"nodes, received {value!r}")


def _parameters(node: dict, path: str, params: dict | None, problems: Problems) -> None:
    """Every ``$name`` a node uses is a parameter of its block."""
    for where, name in parameter_uses(node, path):
        if params is None:
            problems.add(where, f"'${name}' is a block parameter; parameters are for nodes "
                         "inside model.blocks, whose instances set them with `with:`")
        elif name not in params:
            hint = did_you_mean(name, list(params)).replace("mean '", "mean '$")
            known = ", ".join(f"${p}" for p in params) or "none"
            problems.add(where, f"unknown parameter '${name}'{hint}; this block's parameters: "
                         f"{known}")


def parameter_uses(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every ``$name`` in a node's values (``with`` included), with its path."""
    if isinstance(value, str):
        match = PARAMETER.match(value)
        if match:
            yield path, match.group(1)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from parameter_uses(item, key_path(path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from parameter_uses(item, key_path(path, index))


def _block(name: object, value: object, path: str, problems: Problems) -> None:
    check_name(name, path, problems, what="block")
    block = mapping_or_none(value, path, problems)
    if block is None:
        return
    check_keys(block, BLOCK_KEYS, path, problems)
    inputs = block.get("inputs")
    if not (isinstance(inputs, list) and inputs):
        problems.add(key_path(path, "inputs"), "expected a non-empty list of the block's input "
                     f"names, like [x]; received {inputs!r}")
    else:
        for index, item in enumerate(inputs):
            check_name(item, key_path(key_path(path, "inputs"), index), problems, what="input")
    params = block.get("params", {})
    if mapping_or_none(params, key_path(path, "params"), problems) is None:
        params = {}
    for param in params:
        check_name(param, key_path(key_path(path, "params"), str(param)), problems,
                   what="parameter")
    check_nodes(block.get("graph"), key_path(path, "graph"), params, problems)
    if "output" in block and not isinstance(block["output"], str):
        problems.add(key_path(path, "output"), "expected the name of the block's node whose "
                     f"result the block gives, received {block['output']!r}")


def _outputs(value: object, problems: Problems) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, dict):
        problems.add("model.outputs", "expected a node name, or output names mapped to node "
                     f"names like {{label: head, score: reg}}; received {value!r}")
        return
    outputs = _named(value, "model.outputs", problems, example="a node name, or {output name: "
                     "node name}")
    for name, node in outputs.items():
        path = key_path("model.outputs", str(name))
        if check_name(name, path, problems, what="output") and name in RESERVED_OUTPUTS:
            problems.add(path, f"'{name}' cannot name an output (compile.loss: {{{name}: ...}} "
                         "names one loss); choose another name")
        if not isinstance(node, str):
            problems.add(path, f"expected the name of a node, received {node!r}")


def output_names(model: object) -> list[str]:
    """The names of a graph model's named outputs (``outputs: {label: head}``), else []."""
    outputs = model.get("outputs") if isinstance(model, dict) else None
    return [str(name) for name in outputs] if isinstance(outputs, dict) else []


def layer_lists(model: dict) -> Iterator[tuple[str, list]]:
    """Every list of layers in a model section, with its path: the stack's layers, the
    graph's nodes, each block's nodes, and an autoencoder's or GAN's stacks."""
    for key in ("layers", "graph", *KIND_STACKS):
        if isinstance(model.get(key), list):
            yield f"model.{key}", model[key]
    blocks = model.get("blocks")
    for name, block in (blocks.items() if isinstance(blocks, dict) else ()):
        if isinstance(block, dict) and isinstance(block.get("graph"), list):
            yield f"model.blocks.{name}.graph", block["graph"]
