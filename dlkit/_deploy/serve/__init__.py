"""``dlkit serve``: TensorFlow Serving's REST predict API for a trained run.

- ``protocol``: request bodies (``instances`` or ``inputs``) checked into arrays, and responses
  (``predictions`` or ``outputs``) made, as TensorFlow Serving does;
- ``batcher``: concurrent requests collected for a short window into one model call;
- ``app``: the Starlette application (routes, errors as ``{"error": ...}``, body limits);
- ``server``: `dlkit.serve`, Uvicorn on a socket of its own, stopped cleanly by Ctrl-C.
"""
