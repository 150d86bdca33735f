"""The progress display of ``dlkit predict``: samples done of all, a bar on a terminal, a line
at the end elsewhere (pipes and files get no escape codes)."""

from __future__ import annotations

import sys
import time
from typing import IO

from dlkit._callbacks.progress import BAR_WIDTH, REDRAW_SECONDS, choose_mode, format_seconds


class SampleProgress:
    """Counts predicted samples; ``verbose`` as Keras takes it (0 none, ``"auto"``)."""

    def __init__(self, total: int, *, verbose: int | str = "auto", stream: IO[str] | None = None,
                 label: str = "predict") -> None:
        self.total, self.label, self.stream = total, label, stream or sys.stderr
        self.mode = choose_mode(verbose, self.stream)
        self.done, self.started, self.drawn = 0, time.perf_counter(), 0.0

    def update(self, samples: int) -> None:
        self.done += samples
        now = time.perf_counter()
        if self.mode == "bar" and (now - self.drawn >= REDRAW_SECONDS or self.done >= self.total):
            self.drawn = now
            filled = BAR_WIDTH * self.done // max(self.total, 1)
            rate = self.done / max(now - self.started, 1e-9)
            eta = format_seconds((self.total - self.done) / rate) if rate else "?"
            self.stream.write(f"\r{self.label} {self.done:,}/{self.total:,} "
                              f"[{'=' * filled}{' ' * (BAR_WIDTH - filled)}] ETA {eta}  ")
            self.stream.flush()

    def close(self) -> None:
        if self.mode is None:
            return
        seconds = format_seconds(time.perf_counter() - self.started)
        end = "\r" if self.mode == "bar" else ""
        self.stream.write(f"{end}{self.label}: {self.done:,} samples in {seconds}"
                          f"{' ' * (BAR_WIDTH + 20) if self.mode == 'bar' else ''}\n")
        self.stream.flush()
