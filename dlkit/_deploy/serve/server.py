"""`dlkit.serve`: a trained run behind TensorFlow Serving's REST API, on Uvicorn."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from typing import Any

from dlkit._core.errors import DlkitError
from dlkit._deploy.extras import require
from dlkit._deploy.calling import model_call
from dlkit._deploy.serve.batcher import Batcher
from dlkit._deploy.trained import open_run

LOOPBACK = "127.0.0.1"


def serve(run: Any, *, host: str = LOOPBACK, port: int = 8501, max_batch: int = 256,
          batch_window_ms: float = 2.0, max_body_mb: float = 16.0,
          on_ready: Callable[[str], None] | None = None) -> None:
    """Serves a run's model over HTTP until Ctrl-C, speaking TensorFlow Serving's REST API.

    ``GET /v1/models/<name>``, ``GET /v1/models/<name>/metadata`` and
    ``POST /v1/models/<name>:predict`` with ``{"instances": [...]}`` or ``{"inputs": ...}``,
    where ``<name>`` is the run's spec name. Concurrent requests arriving within
    `batch_window_ms` of each other run as one batch of at most `max_batch` samples.

    Args:
        run: a `dlkit.Run` or a run directory.
        host: the address to listen on; the loopback address by default (this machine only).
        port: the port; 0 picks a free one (printed when ready).
        max_batch: samples per model call at most.
        batch_window_ms: how long the first waiting request waits for others to join it.
        max_body_mb: larger request bodies are refused with 413.
        on_ready: called with the model's URL once the server listens (default: print it).

    Raises:
        ExtraMissingError: Starlette or Uvicorn are not installed (``dlkit[serve]``).
        DlkitError: the address cannot be listened on (a port in use).
    """
    uvicorn = require("uvicorn", "serve", purpose="dlkit serve")
    require("starlette", "serve", purpose="dlkit serve")
    from dlkit._deploy.serve.app import make_app

    trained = open_run(run)
    listener = _listen(host, port)
    batcher = Batcher(model_call(trained), max_batch=max_batch, window=batch_window_ms / 1000)
    app = make_app(trained, batcher, max_body=int(max_body_mb * 1024 * 1024))
    bound_host, bound_port = listener.getsockname()[:2]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    url = f"http://{bound_host}:{bound_port}/v1/models/{trained.name}"
    (on_ready or _print_ready)(url)
    try:
        server.run(sockets=[listener])  # Ctrl-C: Uvicorn finishes open requests, then stops
    except KeyboardInterrupt:  # Uvicorn raises the signal again once it has shut down
        pass
    finally:
        listener.close()


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket. Made with ``proto=IPPROTO_TCP`` explicitly: asyncio turns Nagle's
    algorithm off (TCP_NODELAY) only on sockets that say so, and with it on, every answer on a
    kept-alive connection waited 40 ms for the client's delayed ACK."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)[0]
        listener = socket.socket(family, kind, proto)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(address)
            listener.listen(2048)
        except OSError:
            listener.close()
            raise
        return listener
    except OSError as exc:
        raise DlkitError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose "
                         "another --port (0 picks a free one)") from None


def _print_ready(url: str) -> None:
    print(f"serving at {url} (POST {url}:predict); Ctrl-C stops", flush=True)
    sys.stdout.flush()
