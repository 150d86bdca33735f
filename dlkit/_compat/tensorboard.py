"""TensorBoard session events, which mark where a resumed run restarts.

No public API: `tf.summary` writes summaries only; a ``SessionLog.START`` event (which tells
TensorBoard to drop what a killed process wrote for the steps a resumed run repeats) needs
TensorBoard's event protos (``tensorboard.compat.proto``) and its own `EventFileWriter`.
Checked on: TensorBoard 2.16-2.21. Test: ``tests/test_compat.py::
test_session_start_events_make_tensorboard_drop_repeated_steps``.
"""

from __future__ import annotations

import time
from pathlib import Path


def write_session_starts(folder: Path, steps: list[int], *, suffix: str) -> None:
    """Writes one ``SessionLog.START`` event per step into a new event file in `folder`."""
    from tensorboard.compat.proto.event_pb2 import Event, SessionLog
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder), filename_suffix=suffix)
    for step in steps:
        writer.add_event(Event(wall_time=time.time(), step=step,
                               session_log=SessionLog(status=SessionLog.START)))
    writer.close()
