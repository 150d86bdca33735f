"""``dlkit validate SPEC``: every problem at once, or a one-line summary."""

from __future__ import annotations

import argparse

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
    loss = spec["compile"]["loss"]
    print(f"ok: {spec.name}: {len(model.layers)} layers, {model.count_params():,} parameters, "
          f"loss {loss if isinstance(loss, str) else loss['type']}, "
          f"optimizer {type(model.optimizer).__name__}")
    return 0
