"""Arguments that several verbs share."""

from __future__ import annotations

import argparse


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
