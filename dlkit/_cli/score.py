"""``dlkit score RUN_DIR DATA``: an autoencoder's anomaly score and flag for each sample."""

from __future__ import annotations

import argparse

from dlkit._cli.options import add_run_dir, bounded

HELP = "score new samples with a trained autoencoder: anomaly scores and flags, into a CSV"
DESCRIPTION = ("Score each sample of DATA (.npz with an x array, .csv rows, images) by its "
               "reconstruction error under RUN_DIR's autoencoder, flag those above the run's "
               "threshold (anomaly.json), print a summary, and write one row per sample: "
               "`score` and `anomaly` (1 or 0). Default FILE: RUN_DIR/scores/<stem>.csv.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_dir(parser)
    parser.add_argument("data", metavar="DATA", help="the samples to score")
    parser.add_argument("--out", metavar="FILE", help="the CSV to write")
    parser.add_argument("--batch-size", type=bounded(int, 1, 10**7), default=256, metavar="N",
                        help="samples per model call (default 256)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")


def run(args: argparse.Namespace) -> int:
    import dlkit

    print(dlkit.score_file(args.run_dir, args.data, out=args.out, batch_size=args.batch_size,
                           verbose=0 if args.quiet else "auto"))
    return 0
