"""Progress over a landscape's grid points, in the look of training's display.

The modes are training's (``dlkit._callbacks.progress``): ``bar`` on a terminal, one line
redrawn in place (``landscape  1200/2637 [=========>          ] ETA 4.1s``); ``lines`` in a
pipe or file, a plain line at each quarter of the work and at its end, no escape codes;
``notebook``, an HTML progress bar updated in place.
"""

from __future__ import annotations

import html
import shutil
import sys
import time
from collections.abc import Callable
from typing import IO, Any

from dlkit._callbacks.progress import REDRAW_SECONDS, draw_bar, format_seconds

QUARTERS = 4  # lines mode: a line each time another quarter of the points is done


class GridProgress:
    """Shows ``done`` of ``total`` points; call it as ``on_progress(done, total)``.

    Args:
        mode: ``"bar"``, ``"lines"`` or ``"notebook"`` (``choose_mode`` picks one), or None
            for no display.
        label: the word the line starts with.
        stream: where ``bar`` and ``lines`` write; standard output by default.
    """

    def __init__(self, mode: str | None, *, label: str = "landscape",
                 stream: IO[str] | None = None) -> None:
        self.mode = mode
        self.label = label
        self.stream = stream
        self.clock: Callable[[], float] = time.monotonic  # tests may set their own
        self._started: float | None = None
        self._drawn = -float("inf")
        self._quarter = 0
        self._open_line = False
        self._handle: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.mode is None:
            return
        now = self.clock()
        if self._started is None:
            self._started = now
        line = self._line(done, total, now - self._started)
        if self.mode == "lines":
            quarter = QUARTERS * done // total
            if quarter > self._quarter:
                self._quarter = quarter
                self._write(line + "\n")
        elif now - self._drawn >= REDRAW_SECONDS or done == total:
            self._drawn = now
            self._show(line, done, total)
        if done == total:
            self.close()

    def _line(self, done: int, total: int, elapsed: float) -> str:
        if self.mode == "lines":
            return f"{self.label}: {done}/{total} points in {format_seconds(elapsed)}"
        timing = format_seconds(elapsed) if done == total else \
            "ETA " + format_seconds(elapsed / done * (total - done)) if done else ""
        return "  ".join(part for part in (self.label, f"{done}/{total} {draw_bar(done, total)}",
                                           timing) if part)

    def _show(self, line: str, done: int, total: int) -> None:
        if self.mode == "notebook":
            rich = {"text/plain": line,
                    "text/html": f'<progress value="{done}" max="{total}" style="width: 12em">'
                                 f'</progress> <code>{html.escape(line)}</code>'}
            if self._handle is None:
                from IPython.display import display

                self._handle = display(rich, raw=True, display_id=True)
            else:
                self._handle.update(rich, raw=True)
            return
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self._write("\r" + line[:width].ljust(width))
        self._open_line = True

    def close(self) -> None:
        """Ends a bar left open, so later output starts on a line of its own."""
        if self.mode == "bar" and self._open_line:
            self._write("\n")
        self._open_line = False
        self._handle = None

    def _write(self, text: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(text)
        stream.flush()
