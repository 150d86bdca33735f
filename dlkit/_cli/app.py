"""The ``dlkit`` command: a thin layer over the public API.

Argument parsing imports nothing heavy; TensorFlow loads only once a verb needs it.
Exit codes: 0 ok, 1 training failed, 2 bad spec, bad data or bad usage.
"""

from __future__ import annotations

import argparse
import contextlib
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlkit", description="Declarative deep-learning specs, compiled to Keras models.",
        epilog="Exit codes: 0 ok, 1 training failed, 2 bad spec, data or usage.")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    train = verbs.add_parser("train", help="train the model a spec describes",
                             description="Train a spec and write its run directory "
                             "<logdir>/<name>/<YYYYmmdd-HHMMSS>/.")
    train.add_argument("spec", metavar="SPEC", help="a .yaml, .yml or .json spec file")
    _add_set(train)
    train.add_argument("--logdir", metavar="DIR", help="log root (default: $DLKIT_LOGDIR or logs)")
    train.add_argument("--resume", action="store_true",
                       help="continue the newest unfinished run of this spec's name in DIR")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    validate = verbs.add_parser("validate", help="check a spec and build its model",
                                description="Check a spec: exit 0 with a one-line summary, or "
                                "exit 2 listing every problem.")
    validate.add_argument("spec", metavar="SPEC", help="a .yaml, .yml or .json spec file")
    _add_set(validate)
    return parser


def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append",
                        default=[], help="override a spec value, e.g. train.epochs=3 or "
                        "model.layers[1].units=128 (VALUE is read as YAML); repeatable")


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
        if args.verb == "validate":
            return _validate(args)
        return _train(args)
    except dlkit.TrainingError as exc:
        print(f"training failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except dlkit.DlkitError as exc:  # a spec, data, cluster, model file or run directory
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; resume with --resume", file=sys.stderr)
        return 130


def _validate(args: argparse.Namespace) -> int:
    import dlkit

    spec = dlkit.load_spec(args.spec, overrides=args.overrides)
    model = dlkit.build(spec)
    loss = spec["compile"]["loss"]
    print(f"ok: {spec.name}: {len(model.layers)} layers, {model.count_params():,} parameters, "
          f"loss {loss if isinstance(loss, str) else loss['type']}, "
          f"optimizer {type(model.optimizer).__name__}")
    return EXIT_OK


def _train(args: argparse.Namespace) -> int:
    import dlkit
    from dlkit._cli.summary import summary_line

    spec = dlkit.load_spec(args.spec, overrides=args.overrides)
    run = dlkit.train(spec, logdir=args.logdir, resume=args.resume,
                      verbose=0 if args.quiet else "auto")
    print(summary_line(run))
    return EXIT_OK


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
