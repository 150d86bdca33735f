"""KerasTuner's chief oracle served over gRPC (with every call reported to the caller), and
KerasTuner's tracebacks of failed trials turned off.

`serve_oracle`. No public API: KerasTuner serves its oracle only from inside `Tuner.search()` on the chief
(``keras_tuner.src.distribute.oracle_chief.start_server``), which checks once a second whether
to stop, then waits in 20-second steps for running trials, and waits forever for a worker that
died mid-trial (keras-team/keras-tuner#254, #990). dlkit serves the same `OracleServicer`
(``keras_tuner.src.distribute.oracle_chief``) through the same generated gRPC service
(``keras_tuner.src.protos``), so workers are KerasTuner's own `OracleClient`, and reports each
call so the chief can tell live workers from lost ones.

`failed_trial_tracebacks_off`. No public API: KerasTuner prints the full traceback of every
trial that fails (``keras_tuner.src.config.DEBUG`` is True in 1.4.8, with no switch); dlkit
reports a failed trial in one line and keeps the reason in ``search.json``.

Checked on KerasTuner 1.4.8 (grpcio 1.85, protobuf 7). Tests: ``tests/test_compat.py::
test_keras_tuner_oracle_server_answers_a_worker_and_reports_its_calls`` and
``test_keras_tuner_failed_trial_tracebacks_can_be_turned_off``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any


@contextlib.contextmanager
def failed_trial_tracebacks_off() -> Iterator[None]:
    """Within the block, KerasTuner does not print the traceback of a failed trial."""
    from keras_tuner.src import config

    saved, config.DEBUG = config.DEBUG, False
    try:
        yield
    finally:
        config.DEBUG = saved


def serve_oracle(oracle: Any, address: str,
                 heard: Callable[[str, str], None]) -> tuple[Any, Any, int]:
    """Serves `oracle` at `address` (``host:port``; port 0 picks a free one).

    `heard` is called with ``("tuner", tuner_id)`` when a worker asks for a trial and with
    ``("trial", trial_id)`` when one reports on or asks about a trial.

    Returns:
        ``(server, servicer, port)``: the running `grpc.Server` (stop it), the servicer (its
        ``stop_triggered`` says the oracle told a worker the search is over), the bound port.
    """
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    class Servicer(OracleServicer):
        def CreateTrial(self, request: Any, context: Any) -> Any:
            heard("tuner", request.tuner_id)
            return super().CreateTrial(request, context)

        def UpdateTrial(self, request: Any, context: Any) -> Any:
            heard("trial", request.trial_id)
            return super().UpdateTrial(request, context)

        def EndTrial(self, request: Any, context: Any) -> Any:
            heard("trial", request.trial.trial_id)
            return super().EndTrial(request, context)

        def GetTrial(self, request: Any, context: Any) -> Any:
            heard("trial", request.trial_id)
            return super().GetTrial(request, context)

    servicer = Servicer(oracle)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    port = server.add_insecure_port(address)
    if not port:
        raise OSError(f"cannot listen at {address}")
    server.start()
    return server, servicer, port
