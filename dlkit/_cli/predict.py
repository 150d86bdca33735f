"""``dlkit predict RUN_DIR INPUT``: a table of predictions for new data."""

from __future__ import annotations

import argparse

from dlkit._cli.options import add_run_dir

HELP = "predict on new data with a trained run, into a CSV"
DESCRIPTION = ("Run RUN_DIR's model on INPUT (.npz with x or x_<input> arrays; .csv rows, raw "
               "columns by name for a run trained on a table; an image file or folder; a .txt "
               "file or folder), read as training read it, in batches, and write one row per "
               "sample: `prediction` (the class name, or the value) and `p_<class>` per class "
               "for classifiers (`<output>.` before each for several outputs). Default FILE: "
               "RUN_DIR/predictions/<stem>.csv.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_dir(parser)
    parser.add_argument("input", metavar="INPUT", help="the data to predict on")
    parser.add_argument("--out", metavar="FILE", help="the CSV to write")
    parser.add_argument("--batch-size", type=_positive, default=256, metavar="N",
                        help="samples per model call (default 256)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text}")
    return value


def run(args: argparse.Namespace) -> int:
    import dlkit

    out = dlkit.predict_file(args.run_dir, args.input, out=args.out, batch_size=args.batch_size,
                             verbose=0 if args.quiet else "auto")
    print(f"predictions: {out}")
    return 0
