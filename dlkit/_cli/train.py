"""``dlkit train SPEC``: train a spec and write its run directory."""

from __future__ import annotations

import argparse

from dlkit._cli.options import add_logdir, add_set, add_spec

HELP = "train the model a spec describes"
DESCRIPTION = "Train a spec and write its run directory <logdir>/<name>/<YYYYmmdd-HHMMSS>/."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec(parser)
    add_set(parser)
    add_logdir(parser)
    parser.add_argument("--resume", action="store_true",
                        help="continue the newest unfinished run of this spec's name in DIR")
    parser.add_argument("--quiet", action="store_true", help="no progress display")


def run(args: argparse.Namespace) -> int:
    import dlkit
    from dlkit._cli.summary import summary_line

    spec = dlkit.load_spec(args.spec, overrides=args.overrides)
    run = dlkit.train(spec, logdir=args.logdir, resume=args.resume,
                      verbose=0 if args.quiet else "auto")
    print(summary_line(run))
    return 0
