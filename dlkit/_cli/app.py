"""The ``dlkit`` command: a thin layer over the public API.

Argument parsing imports nothing heavy; TensorFlow loads only once a verb needs it.
Exit codes: 0 ok, 1 training failed, 2 a mistake to fix first (spec, data, TF_CONFIG, model
file, run directory or usage).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# TensorFlow's native start-up chatter, printed before its logging honours TF_CPP_MIN_LOG_LEVEL.
_NATIVE_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|"
                           r"[IWE]\d{4} .*\b(port|cudart_stub|cuda_platform|cuda_\w+|"
                           r"cpu_feature_guard)\.cc)|^To enable the following instructions")


# Each verb is a module of this package with HELP, DESCRIPTION, add_arguments(parser) and
# run(args) -> exit code; importing one imports nothing heavy.
VERBS = ("train", "validate", "search", "diagnose", "landscape", "predict", "score", "export",
         "serve")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlkit", description="Declarative deep-learning specs, compiled to Keras models.",
        epilog="Exit codes: 0 ok, 1 training failed, 2 a mistake to fix first (spec, data, "
               "TF_CONFIG, model file, run directory or usage).")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for name in VERBS:
        verb = importlib.import_module(f"dlkit._cli.{name}")
        verb.add_arguments(verbs.add_parser(name, help=verb.HELP, description=verb.DESCRIPTION))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI; returns the exit code."""
    args = _parser().parse_args(argv)
    warnings.showwarning = _show_warning
    import dlkit

    if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:  # the user did not ask for TensorFlow's logs
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
        with _native_noise_filtered():
            import tensorflow as tf

            if "TF_CONFIG" not in os.environ:  # a multi-worker strategy must start first
                tf.config.list_logical_devices()  # device start-up prints too
    try:
        return importlib.import_module(f"dlkit._cli.{args.verb}").run(args)
    except dlkit.TrainingError as exc:
        print(f"training failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except dlkit.DlkitError as exc:  # a spec, data, cluster, model file or run directory
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; resume with --resume", file=sys.stderr)
        return 130


@contextlib.contextmanager
def _native_noise_filtered() -> Iterator[None]:
    """Captures file descriptor 2 (where native code writes) and replays all but known noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode("utf-8", "replace").splitlines():
                if not _NATIVE_NOISE.search(line):
                    print(line, file=sys.stderr)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Warnings as one plain line, without the source line Python would print."""
    print(f"warning: {message}", file=sys.stderr)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
