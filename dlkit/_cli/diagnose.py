"""``dlkit diagnose SPEC``: each layer's health at initialisation and after a few steps."""

from __future__ import annotations

import argparse
import json
import sys

from dlkit._analysis.limits import MAX_STEPS
from dlkit._cli.options import add_logdir, add_set, add_spec, bounded

HELP = "check a spec's layers at initialisation and after a few training steps"
DESCRIPTION = ("Build a spec's model, measure every layer on its data at initialisation and "
               "after N training steps (dead ReLUs, saturated units, activation spread, "
               "gradient norms) and warn about dead, symmetric, saturated, vanishing and "
               "exploding layers. Writes TensorBoard histograms under "
               "<logdir>/<name>-diagnose/<YYYYmmdd-HHMMSS>/.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec(parser)
    add_set(parser)
    add_logdir(parser)
    parser.add_argument("--steps", type=bounded(int, 1, MAX_STEPS), default=20, metavar="N",
                        help="training steps between the two measurements (default 20)")
    parser.add_argument("--json", action="store_true",
                        help='print {"layers": [...], "warnings": [...], ...} as JSON')


def run(args: argparse.Namespace) -> int:
    import dlkit
    from dlkit._analysis._json import json_safe
    from dlkit._analysis.diagnose import diagnosis_table

    spec = dlkit.load_spec(args.spec, overrides=args.overrides)
    result = dlkit.diagnose(spec, steps=args.steps, logdir=args.logdir)
    if args.json:
        print(json.dumps(json_safe(dict(result)), indent=2, allow_nan=False))
        print(f"TensorBoard histograms: {result['log_dir']}", file=sys.stderr)
    else:
        print(diagnosis_table(result))
        print(f"\nTensorBoard histograms (diagnose/<layer>/...): tensorboard --logdir "
              f"{result['log_dir']}")
    return 0
