"""Arguments that several verbs share."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def add_spec(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="a .yaml, .yml or .json spec file")


def add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append",
                        default=[], help="override a spec value, e.g. train.epochs=3 or "
                        "model.layers[1].units=128 (VALUE is read as YAML); repeatable")


def add_logdir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--logdir", metavar="DIR", help="log root (default: $DLKIT_LOGDIR or logs)")


def add_run_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory dlkit train wrote")


def add_output(parser: argparse.ArgumentParser) -> None:
    """``--out FILE``, ``--batch-size N`` and ``--quiet``, for verbs that write a CSV of one row
    per sample (predict, score)."""
    parser.add_argument("--out", metavar="FILE", help="the CSV to write")
    parser.add_argument("--batch-size", type=bounded(int, 1, 10**7), default=256, metavar="N",
                        help="samples per model call (default 256)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")


def bounded(kind: type, low: float, high: float, *, above: bool = False) -> Callable[[str], Any]:
    """An argparse ``type``: a `kind` (int or float) from `low` (or `above` it) to `high`;
    anything else exits 2 with ``argument --grid: expected an integer from 2 to 201, received
    '0'``."""
    noun, low_, high_ = ("an integer", int(low), int(high)) if kind is int else \
        ("a number", f"{low:g}", f"{high:g}")
    rule = f"above {low_} and at most {high_}" if above else f"from {low_} to {high_}"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not (low < value if above else low <= value) or not value <= high:
            raise argparse.ArgumentTypeError(f"expected {noun} {rule}, received {text!r}")
        return value

    return parse
