"""``dlkit serve RUN_DIR``: the run's model behind TensorFlow Serving's REST API."""

from __future__ import annotations

import argparse

from dlkit._cli.options import add_run_dir

HELP = "serve a run's model over HTTP (TensorFlow Serving's REST API)"
DESCRIPTION = ("Serve RUN_DIR's model at http://HOST:PORT/v1/models/<name> (<name>: the run's "
               "spec name): GET it for its status, POST <name>:predict with {\"instances\": "
               "[...]} or {\"inputs\": ...}. Concurrent requests are batched into one model "
               "call. Ctrl-C stops it. Needs the 'serve' extra: pip install 'dlkit[serve]'.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_dir(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8501,
                        help="port (default 8501, TensorFlow Serving's; 0 picks a free one)")
    parser.add_argument("--max-batch", type=int, default=256, metavar="N",
                        help="samples per model call at most (default 256)")
    parser.add_argument("--batch-window-ms", type=float, default=2.0, metavar="MS",
                        help="how long a request waits for others to batch with (default 2)")
    parser.add_argument("--max-body-mb", type=float, default=16.0, metavar="MB",
                        help="larger request bodies get 413 (default 16)")


def run(args: argparse.Namespace) -> int:
    import dlkit

    dlkit.serve(args.run_dir, host=args.host, port=args.port, max_batch=args.max_batch,
                batch_window_ms=args.batch_window_ms, max_body_mb=args.max_body_mb)
    print("stopped")
    return 0
