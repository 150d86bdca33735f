"""The Starlette application: TensorFlow Serving's REST routes for one model.

- ``GET /v1/models/<name>``: the model's status (version 1, AVAILABLE);
- ``GET /v1/models/<name>/metadata``: its serving signature (inputs and outputs);
- ``POST /v1/models/<name>:predict``: ``{"instances": ...}`` or ``{"inputs": ...}``.

Every error is a JSON ``{"error": "..."}`` with a 4xx status that names what is wrong (a 500
only for a failure of the model itself); no request can stop the server.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dlkit._deploy.serve.batcher import Batcher
from dlkit._deploy.serve.protocol import SIGNATURE, BadRequest, parse, response
from dlkit._deploy.trained import TrainedRun

MAX_BODY = 16 * 1024 * 1024  # bytes


def make_app(run: TrainedRun, batcher: Batcher, *, max_body: int = MAX_BODY) -> Starlette:
    """The application serving `run`'s model under its spec name."""
    name = run.name

    async def model(request: Request) -> JSONResponse:
        target = request.path_params["target"]
        if request.method == "GET":
            if target != name:
                return _error(f"no model {target!r}; this server has {name!r}", 404)
            return JSONResponse({"model_version_status": [{
                "version": "1", "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""}}]})
        model_name, _, verb = target.rpartition(":")
        if model_name != name or verb != "predict":
            return _error(f"no such endpoint; POST /v1/models/{name}:predict", 404)
        try:
            checked = parse(await _body(request, max_body), run.inputs)
        except BadRequest as exc:
            return _error(str(exc), exc.status)
        outputs = await batcher.predict(checked.inputs)
        return JSONResponse(response(checked, outputs, run.output_names))

    async def metadata(request: Request) -> JSONResponse:
        if request.path_params["name"] != name:
            return _error(f"no model {request.path_params['name']!r}; this server has "
                          f"{name!r}", 404)
        return JSONResponse(_metadata(run))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await batcher.close()

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        status = getattr(exc, "status_code", 500)
        return _error(getattr(exc, "detail", None) or "internal error", status)

    async def model_error(request: Request, exc: Exception) -> JSONResponse:
        return _error(f"the model failed on this request: {type(exc).__name__}: {exc}"[:1000],
                      500)

    return Starlette(routes=[
        Route("/v1/models/{name}/metadata", metadata, methods=["GET"]),
        Route("/v1/models/{target}", model, methods=["GET", "POST"]),
    ], lifespan=lifespan, exception_handlers={HTTPException: http_error,
                                              Exception: model_error})


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) past `limit` bytes before more than that is read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadRequest(f"the body is {int(declared):,} bytes; the limit is {limit:,} "
                         "(send fewer instances per request)", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"the body is over the limit of {limit:,} bytes (send fewer "
                             "instances per request)", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _metadata(run: TrainedRun) -> dict[str, Any]:
    def tensor(shape: tuple, dtype: str) -> dict[str, Any]:
        return {"dtype": dtype, "shape": [-1, *(-1 if d is None else d for d in shape)]}
    outputs = {name: run.output_tensor(name) for name in run.output_names}
    return {"model_spec": {"name": run.name, "version": "1", "signature_name": SIGNATURE},
            "metadata": {"signature_def": {SIGNATURE: {
                "inputs": {i.serving: tensor(i.shape, i.dtype) for i in run.inputs},
                "outputs": {n: tensor(tuple(t.shape[1:]), str(t.dtype))
                            for n, t in outputs.items()}}}}}


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
