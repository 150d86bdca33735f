"""Cross-field checks: values Keras would only reject late, or never.

Each check is a small function with a one-line docstring; `run_checks` runs them all on a spec
whose structure already passed `dlkit._spec.structure`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dlkit._core.errors import Problems, did_you_mean
from dlkit._spec.rules import is_int, is_number, key_path
from dlkit._spec.sections.base import check_transfer
from dlkit._spec.sections.compile import per_output
from dlkit._spec.sections.graph import PARAMETER, output_names
from dlkit._spec.sections.kinds import KIND_STACKS

SYMMETRIC_INITIALIZERS = ("zeros", "ones", "constant")
EARLY_STOPPING_MODES = ("auto", "min", "max")
PATIENCE_MINIMUM = {"early_stopping": 0, "reduce_lr_on_plateau": 0, "checkpoint": 0,
                    "overfitting": 1}


def layer_lists(model: dict) -> Iterator[tuple[str, list]]:
    """Every list of layers in a model section, with its path: the stack's layers, the
    graph's nodes, each block's nodes, and an autoencoder's or GAN's networks (a list of
    layers, or a graph's nodes)."""
    for key in ("layers", "graph", *KIND_STACKS):
        if isinstance(model.get(key), list):
            yield f"model.{key}", model[key]
        elif key in KIND_STACKS and isinstance(model.get(key), dict) \
                and isinstance(model[key].get("graph"), list):
            yield f"model.{key}.graph", model[key]["graph"]
    blocks = model.get("blocks")
    for name, block in (blocks.items() if isinstance(blocks, dict) else ()):
        if isinstance(block, dict) and isinstance(block.get("graph"), list):
            yield f"model.blocks.{name}.graph", block["graph"]


def walk_layers(spec: dict) -> Iterator[tuple[dict, str]]:
    """Yields every well-formed layer mapping with its path, nested wrapper layers included:
    a stack's layers, a graph's nodes and its blocks' nodes (without values that are block
    parameters, ``$name``, which are checked where they are set)."""
    model = spec.get("model")
    for path, layers in layer_lists(model) if isinstance(model, dict) else ():
        for index, layer in enumerate(layers):
            if isinstance(layer, dict) and "block" not in layer:
                yield from _walk_layer(layer, key_path(path, index))


def _walk_layer(layer: dict, path: str) -> Iterator[tuple[dict, str]]:
    layer = {k: v for k, v in layer.items()
             if not (isinstance(v, str) and PARAMETER.match(v))}
    yield layer, path
    for key in ("layer", "backward_layer"):
        if isinstance(layer.get(key), dict):
            yield from _walk_layer(layer[key], key_path(path, key))


@dataclass(frozen=True)
class Range:
    """The numbers a layer argument may take: from `low` to `high` (`high` itself only if
    `closed`)."""

    low: float
    high: float
    closed: bool

    def holds(self, value: object) -> bool:
        return is_number(value) and self.low <= value and (
            value <= self.high if self.closed else value < self.high)


DROPOUT_RATE = Range(0, 1, closed=False)  # a rate of 1 drops everything: nothing is learned
MOMENTUM = Range(0, 1, closed=True)


def layer_ranges(layer_type: str) -> dict[str, Range]:
    """The ranges dlkit checks on a layer's arguments (Keras checks none of them), by name."""
    ranges = {"dropout": DROPOUT_RATE, "recurrent_dropout": DROPOUT_RATE}
    if "Dropout" in layer_type:
        ranges["rate"] = DROPOUT_RATE
    if "Normalization" in layer_type:
        ranges["momentum"] = MOMENTUM
    return ranges


def check_dropout_rates(spec: dict, problems: Problems) -> None:
    """Dropout rates lie in [0, 1): a rate of 1 drops everything and the network learns nothing."""
    for layer, path in walk_layers(spec):
        for key, limits in layer_ranges(str(layer.get("type"))).items():
            if limits is DROPOUT_RATE and key in layer and not limits.holds(layer[key]):
                problems.add(key_path(path, key), "a dropout rate is a number in [0, 1), "
                             f"received {layer[key]!r}")


def check_batch_norm_momentum(spec: dict, problems: Problems) -> None:
    """Batch-normalization momentum lies in [0, 1]; Keras accepts anything."""
    for layer, path in walk_layers(spec):
        limits = layer_ranges(str(layer.get("type"))).get("momentum")
        if limits is not None and "momentum" in layer and not limits.holds(layer["momentum"]):
            problems.add(key_path(path, "momentum"), "batch-normalization momentum is a "
                         f"number in [0, 1] (0.99 is usual), received {layer['momentum']!r}")


def check_callback_settings(spec: dict, problems: Problems) -> None:
    """Modes are auto, min or max (Keras would quietly fall back to auto); patience counts."""
    callbacks = spec.get("callbacks")
    if not isinstance(callbacks, dict):
        return
    backup = callbacks.get("backup")
    if isinstance(backup, dict) and "min_interval" in backup and not (
            is_number(backup["min_interval"]) and backup["min_interval"] >= 0):
        problems.add("callbacks.backup.min_interval", "expected a number of seconds >= 0, "
                     f"received {backup['min_interval']!r}")
    for key, least in PATIENCE_MINIMUM.items():
        settings = callbacks.get(key)
        if not isinstance(settings, dict):
            continue
        mode = settings.get("mode", "auto")
        if key != "overfitting" and mode not in EARLY_STOPPING_MODES:
            problems.add(f"callbacks.{key}.mode", "expected one of auto, min, max (Keras would "
                         f"quietly fall back to auto), received {mode!r}")
        patience = settings.get("patience", least)
        if not (is_int(patience) and patience >= least):
            problems.add(f"callbacks.{key}.patience", "expected a whole number of epochs "
                         f">= {least}, received {patience!r}")


def symmetric_initializer_warnings(spec: dict) -> list[tuple[str, str]]:
    """Layers of several units whose kernel starts constant: every unit would learn the same."""
    found = []
    for layer, path in walk_layers(spec):
        width = layer.get("units", layer.get("filters"))
        for key in ("kernel_initializer", "recurrent_initializer"):
            name = _component_name(layer.get(key))
            if name and name.lower() in SYMMETRIC_INITIALIZERS and is_int(width) and width > 1:
                found.append((key_path(path, key), f"'{name}' gives all {width} units the same "
                              "starting weights, so they receive the same gradients and learn "
                              "the same thing (symmetric neurons); use glorot_uniform or "
                              "he_normal"))
    return found


def _component_name(value: Any) -> str | None:
    name = value.get("type") if isinstance(value, dict) else value
    return name if isinstance(name, str) else None


def check_per_output_settings(spec: dict, problems: Problems) -> None:
    """A loss per output names every output and nothing else; metrics and loss weights name
    outputs only; all three need named outputs (``model.outputs: {name: node}``)."""
    compile_, model = spec.get("compile"), spec.get("model")
    if not isinstance(compile_, dict):
        return
    outputs = output_names(model)
    loss, metrics = compile_.get("loss"), compile_.get("metrics")
    for key, value in (("loss", loss), ("metrics", metrics),
                       ("loss_weights", compile_.get("loss_weights"))):
        if isinstance(value, dict) and (key != "loss" or per_output(value)):
            _check_output_keys(value, f"compile.{key}", outputs, problems)
    if per_output(loss) and outputs:
        for output in outputs:
            if output not in loss:
                problems.add("compile.loss", f"output '{output}' has no loss; add one, like "
                             f"{output}: mse (or give one loss for every output)")
    if isinstance(metrics, list) and metrics and len(outputs) > 1:
        problems.add("compile.metrics", "with several outputs, name the output each metric is "
                     f"for, like {{{outputs[0]}: [accuracy]}}")


def _check_output_keys(value: dict, path: str, outputs: list[str], problems: Problems) -> None:
    if not outputs:
        problems.add(path, "a setting per output needs named outputs: a graph model with "
                     "model.outputs as {output name: node}")
        return
    for key in value:
        if key not in outputs:
            problems.add(key_path(path, str(key)), f"unknown output '{key}'"
                         f"{did_you_mean(key, outputs)}; the outputs are: {', '.join(outputs)}")


CHECKS: tuple[Callable[[dict, Problems], None], ...] = (
    check_dropout_rates,
    check_batch_norm_momentum,
    check_callback_settings,
    check_per_output_settings,
    check_transfer,
)


def run_checks(spec: dict, problems: Problems) -> None:
    """Runs every cross-field check, recording problems."""
    for check in CHECKS:
        check(spec, problems)
