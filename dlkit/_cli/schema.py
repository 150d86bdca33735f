"""``dlkit schema [--out FILE]``: the JSON Schema of the spec format, from the installed Keras."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "print or write the JSON Schema of specs, for editors"
DESCRIPTION = ("Print the JSON Schema (draft 2020-12) of the whole spec format, generated from "
               "the installed Keras: every layer, activation, initializer, loss, metric, "
               "optimizer and schedule with its arguments. Point an editor's YAML language "
               "server at it (see the README) for completion, documentation on hover and "
               "errors as you type; `dlkit validate` stays the authority.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="FILE", help="write it to FILE instead of printing it")


def run(args: argparse.Namespace) -> int:
    import dlkit

    if args.out is None:
        print(json.dumps(dlkit.schema(), indent=1))
        return 0
    try:
        dlkit.schema(out=args.out)
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1024:.0f} KiB)")
    return 0
