"""``dlkit export RUN_DIR --format F``: the run's model for TensorFlow Serving, ONNX Runtime or
LiteRT, checked in that runtime before it is kept."""

from __future__ import annotations

import argparse

from dlkit._cli.options import add_run_dir

HELP = "export a run's model to SavedModel, ONNX or LiteRT, checked in its runtime"
DESCRIPTION = ("Export RUN_DIR/model.keras through Keras' own export into "
               "RUN_DIR/export/<format>[-<quantize>]/, run it in its own runtime on the run's "
               "validation data, and record the comparison in RUN_DIR/export/export.json. "
               "ONNX and LiteRT need the 'export' extra: pip install 'dlkit[export]'.")
FORMATS = ("saved_model", "onnx", "litert")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_dir(parser)
    parser.add_argument("--format", required=True, choices=FORMATS,
                        help="saved_model (TensorFlow Serving), onnx (ONNX Runtime) or litert")
    parser.add_argument("--quantize", choices=("float16", "int8"),
                        help="LiteRT only: float16 weights, or int8 calibrated on the run's "
                             "training data")
    parser.add_argument("--out", metavar="DIR", help="folder to write instead of "
                        "RUN_DIR/export/<format>[-<quantize>]")


def run(args: argparse.Namespace) -> int:
    import dlkit

    entry = dlkit.export(args.run_dir, args.format, quantize=args.quantize, out=args.out)
    checked = f"max abs diff {entry['max_abs_diff']:.3g}"
    if entry.get("agreement") is not None:
        checked += f", same class on {entry['agreement']:.1%}"
    if entry.get("accuracy_after") is not None:
        checked += f", accuracy {entry['accuracy_before']:.4f} -> {entry['accuracy_after']:.4f}"
    for output, each in (entry.get("outputs") or {}).items():
        checked += f"; {output}: same class on {each['agreement']:.1%}" + (
            f", accuracy {each['accuracy_before']:.4f} -> {each['accuracy_after']:.4f}"
            if each.get("accuracy_after") is not None else "")
    kind = args.format + (f" ({args.quantize})" if args.quantize else "")
    print(f"exported {kind}: {entry['path']} ({entry['bytes']:,} bytes); checked on "
          f"{entry['checked_on']} validation samples: {checked}")
    return 0
