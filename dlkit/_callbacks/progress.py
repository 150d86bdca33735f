"""The progress display of `dlkit.train`: honest step counts, and no escape codes in files.

Keras' own progress bar counts the last step of each call into TensorFlow, so with several
batches per call it shows ``64/23`` (keras-team/keras#20861), and it writes ANSI colours,
backspaces and carriage returns into pipes and log files. `Progress` replaces it:

- ``bar`` (a terminal): one line per epoch, redrawn in place with a carriage return: the
  epoch, steps done of the epoch's N (never more than N, however many batches a call runs),
  a bar, the ETA and the running metrics; at the epoch's end the line shows the time it took
  and the validation metrics. No colour codes.
- ``lines`` (a pipe or a file): one plain line per epoch, written when the epoch ends.
- ``notebook`` (Jupyter, Colab): a bar per epoch in the output cell, updated in place through
  IPython's display updates.

Steps run in calls of several batches (``steps_per_execution``) are counted when the call
returns: the count jumps by that many, and an epoch run in one call shows ``N/N`` at once.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import IO, Any

import keras

MODES = ("bar", "lines", "notebook")
BAR_WIDTH = 20
REDRAW_SECONDS = 0.1  # a terminal bar is redrawn at most this often (the last step always)


def choose_mode(verbose: int | str, stream: IO[str] | None = None) -> str | None:
    """The display for Keras-style `verbose`: 0 none, 2 a line per epoch, 1 or ``"auto"`` a bar
    where one can update in place (a notebook or a terminal), else a line per epoch."""
    if verbose == 0:
        return None
    if verbose == 2:
        return "lines"
    if in_notebook():
        return "notebook"
    stream = stream or sys.stdout
    return "bar" if getattr(stream, "isatty", lambda: False)() else "lines"


def in_notebook() -> bool:
    """Whether this process is a Jupyter (or Colab) kernel, whose output cells update in place."""
    if "ipykernel" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def format_metrics(logs: dict[str, Any] | None) -> str:
    """``loss 0.3412  accuracy 0.91  val_loss ...``: the logs' numbers, training before
    validation and the loss before other metrics."""
    def order(key: str) -> tuple[bool, bool, str]:
        base = key.removeprefix("val_")
        return key.startswith("val_"), base != "loss", base

    parts = []
    for key in sorted(logs or {}, key=order):
        value = logs[key]
        try:
            parts.append(f"{key} {float(value):.4g}")
        except (TypeError, ValueError):
            continue
    return "  ".join(parts)


def format_seconds(seconds: float) -> str:
    """``0.8s``, ``42s``, ``3:05``, ``1:02:03``."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes == 0:
        return f"{secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def draw_bar(done: int, total: int) -> str:
    """``[=======>            ]``: `done` of `total` as a bar of `BAR_WIDTH` characters."""
    filled = int(BAR_WIDTH * done / total)
    return "[" + "=" * filled + (">" if filled < BAR_WIDTH else "") + \
        " " * (BAR_WIDTH - filled - (filled < BAR_WIDTH)) + "]"


class Progress(keras.callbacks.Callback):
    """Shows training progress; `model.fit` must run with ``verbose=0`` beside it.

    Args:
        mode: ``"bar"``, ``"lines"`` or ``"notebook"`` (see `choose_mode`).
        stream: where ``bar`` and ``lines`` write; standard output by default.
    """

    def __init__(self, mode: str, *, stream: IO[str] | None = None) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode is one of {', '.join(MODES)}, received {mode!r}")
        self.mode = mode
        self.stream = stream
        self.clock: Callable[[], float] = time.monotonic  # tests may set their own
        self._epoch = 0
        self._done = 0
        self._started = 0.0
        self._drawn = -float("inf")
        self._open_line = False
        self._handle: Any = None

    # -- Keras hooks ----------------------------------------------------------------------------

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch, self._done, self._started = epoch, 0, self.clock()
        self._drawn = -float("inf")
        if self.mode == "notebook":
            from IPython.display import display

            self._handle = display(self._rich(""), raw=True, display_id=True)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        steps = self._steps()
        self._done = min(batch + 1, steps) if steps else batch + 1
        if self.mode == "lines":
            return
        now = self.clock()
        if now - self._drawn >= REDRAW_SECONDS or self._done == steps:
            self._drawn = now
            self._show(self._line(format_metrics(logs), final=False), final=False)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._done = self._steps() or self._done
        line = self._line(format_metrics(logs), final=True)
        if self.mode == "lines":
            self._write(line + "\n")
        else:
            self._show(line, final=True)
            self.close()

    def on_train_end(self, logs: dict | None = None) -> None:
        self.close()

    def close(self) -> None:
        """Ends a bar left open (training stopped mid-epoch), so later output starts afresh."""
        if self.mode == "bar" and self._open_line:
            self._write("\n")
        self._open_line = False
        self._handle = None

    # -- drawing --------------------------------------------------------------------------------

    def _steps(self) -> int | None:
        steps = self.params.get("steps") if isinstance(self.params, dict) else None
        return int(steps) if steps else None

    def _line(self, metrics: str, *, final: bool) -> str:
        epochs = self.params.get("epochs") if isinstance(self.params, dict) else None
        head = f"epoch {self._epoch + 1}/{epochs}" if epochs else f"epoch {self._epoch + 1}"
        steps = self._steps()
        elapsed = self.clock() - self._started
        if self.mode == "lines":
            count = f"{self._done} steps" if self._done != 1 else "1 step"
            return f"{head}: {count} in {format_seconds(elapsed)}" + \
                (f"  {metrics}" if metrics else "")
        if steps:
            count = f"{self._done}/{steps} {draw_bar(self._done, steps)}"
        else:
            count = f"{self._done} steps"
        if final:
            timing = format_seconds(elapsed)
        elif steps and self._done:
            timing = "ETA " + format_seconds(elapsed / self._done * (steps - self._done))
        else:
            timing = ""
        return "  ".join(part for part in (head, count, timing, metrics) if part)

    def _show(self, line: str, *, final: bool) -> None:
        """Redraws the epoch's line; cut to the terminal's width (a wrapped line could not be
        redrawn in place) except the final one, which keeps every metric."""
        if self.mode == "notebook":
            if self._handle is not None:
                self._handle.update(self._rich(line), raw=True)
            return
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self._write("\r" + (line if final else line[:width]).ljust(width))
        self._open_line = True

    def _rich(self, line: str) -> dict[str, str]:
        """A notebook bar: an HTML progress element, with the text for plain frontends."""
        import html

        steps = self._steps() or max(self._done, 1)
        return {"text/plain": line,
                "text/html": f'<progress value="{self._done}" max="{steps}" '
                             f'style="width: 12em"></progress> <code>{html.escape(line)}</code>'}

    def _write(self, text: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(text)
        stream.flush()
