"""``dlkit search SPEC``: try the values of a spec's search spaces and write the search
directory."""

from __future__ import annotations

import argparse

from dlkit._cli.options import add_logdir, add_set, add_spec

HELP = "search the values of a spec's search spaces"
DESCRIPTION = ("Try the values of a spec's search spaces ({search: int, ...}), one trial each, "
               "chosen by KerasTuner's grid, random, bayesian or hyperband oracle, and write "
               "<logdir>/<name>/<YYYYmmdd-HHMMSS>/: search.json, best.yaml, trials/<id>/ and "
               "TensorBoard hparams. With KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP and "
               "KERASTUNER_ORACLE_PORT set, this process is the chief or a worker of a search "
               "across machines.")


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of workers >= 1, received {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec(parser)
    add_set(parser)
    add_logdir(parser)
    parser.add_argument("--resume", action="store_true",
                        help="continue the newest unfinished search of this spec's name in DIR "
                        "(refused if the spec changed)")
    parser.add_argument("--overwrite", action="store_true",
                        help="with --resume: a changed spec starts that search over, deleting "
                        "its trials")
    parser.add_argument("--workers", type=_count, default=1, metavar="N",
                        help="run N trials at a time, each in a worker process (default 1)")
    parser.add_argument("--quiet", action="store_true", help="no line per trial, no table")


def run(args: argparse.Namespace) -> int:
    import dlkit

    search = dlkit.load_search(args.spec, overrides=args.overrides)
    result = dlkit.search(search, logdir=args.logdir, resume=args.resume,
                          overwrite=args.overwrite, workers=args.workers,
                          verbose=0 if args.quiet else "auto")
    if result.worker is not None:
        print(f"{result.worker}: ran {len(result.trials)} trial(s) of {result.log_dir}")
    return 0
