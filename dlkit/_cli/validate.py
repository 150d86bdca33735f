"""``dlkit validate SPEC``: every problem at once, or a one-line summary."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from dlkit._cli.options import add_set, add_spec

HELP = "check a spec and build its model"
DESCRIPTION = "Check a spec: exit 0 with a one-line summary, or exit 2 listing every problem."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec(parser)
    add_set(parser)


def run(args: argparse.Namespace) -> int:
    import dlkit

    spec = dlkit.load_spec(args.spec, overrides=args.overrides)
    model = dlkit.build(spec)
    layers = f"{len(model.layers)} layers"
    if "graph" in spec["model"]:
        inputs, outputs = len(model.inputs), len(model.outputs)
        layers += f" ({inputs} input{'s' * (inputs > 1)}, {outputs} output{'s' * (outputs > 1)})"
    print(f"ok: {spec.name}: {layers}, {model.count_params():,} parameters, "
          f"{_losses(spec['compile']['loss'])}, optimizer {type(model.optimizer).__name__}")
    return 0


def _losses(loss: Any) -> str:
    """``loss mse``, or ``losses label sparse_categorical_crossentropy, score mse``."""
    def name(value: Any) -> str:
        return value if isinstance(value, str) else value["type"]

    if isinstance(loss, Mapping) and "type" not in loss:
        return "losses " + ", ".join(f"{output} {name(value)}" for output, value in loss.items())
    return f"loss {name(loss)}"
