"""The progress display: an honest bar on a terminal, plain lines in a pipe, an in-place bar in
a notebook, nothing with --quiet. Real pseudo-terminal, real pipe, real kernel."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys

import nbformat
import pytest
import yaml

from conftest import MLP, tiny_model
from dlkit._callbacks.progress import Progress, choose_mode, format_metrics, format_seconds

ANSI = re.compile(r"\x1b\[")
COUNT = re.compile(r"(\d+)/(\d+) \[")
EPOCH_LINE = re.compile(r"^epoch (\d+)/(\d+): (\d+) steps in [\d.:]+s?  loss [\d.e-]+  "
                        r"accuracy [\d.e-]+  val_loss [\d.e-]+  val_accuracy [\d.e-]+$")


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def drive(progress, *, epochs=2, steps=23, per_call=7):
    """Calls the hooks as Keras' fit does with `per_call` batches per call: the last call of an
    epoch reports a batch index beyond the epoch (Keras counts 28/23 here)."""
    progress.set_model(tiny_model())
    progress.set_params({"epochs": epochs, "steps": steps, "verbose": 0})
    progress.clock = clock = Clock()
    progress.on_train_begin()
    for epoch in range(epochs):
        progress.on_epoch_begin(epoch)
        for begin in range(0, steps, per_call):
            clock.now += 1.0
            progress.on_train_batch_end(begin + per_call - 1, {"loss": 0.5, "accuracy": 0.75})
        progress.on_epoch_end(epoch, {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.6,
                                      "val_accuracy": 0.7})
    progress.on_train_end()


def test_a_bar_counts_to_the_epochs_steps_and_never_beyond():
    stream = io.StringIO()
    drive(Progress("bar", stream=stream))
    text = stream.getvalue()
    counts = [(int(a), int(b)) for a, b in COUNT.findall(text)]
    assert [a for a, _ in counts] == [7, 14, 21, 23, 23] * 2  # each epoch: calls, then the end
    assert all(b == 23 for _, b in counts)
    assert "ETA 2.3s" in text  # 1 s for 7 of 23 steps: 16 more take 2.3 s
    assert not ANSI.search(text)
    finished = [line.strip() for line in text.split("\r") if "val_loss" in line]
    assert finished[0].startswith("epoch 1/2  23/23 [====================]  4.0s  loss 0.5  "
                                  "accuracy 0.75  val_loss 0.6  val_accuracy 0.7")
    assert text.count("\n") == 2  # one finished line per epoch


def test_lines_are_one_plain_line_per_epoch():
    stream = io.StringIO()
    drive(Progress("lines", stream=stream))
    lines = stream.getvalue().splitlines()
    assert lines == [f"epoch {e}/2: 23 steps in 4.0s  loss 0.5  accuracy 0.75  val_loss 0.6  "
                     f"val_accuracy 0.7" for e in (1, 2)]


def test_a_bar_left_open_by_an_error_is_closed():
    stream = io.StringIO()
    progress = Progress("bar", stream=stream)
    progress.set_params({"epochs": 1, "steps": 10})
    progress.on_epoch_begin(0)
    progress.on_train_batch_end(3, {"loss": float("nan")})
    progress.close()
    assert stream.getvalue().endswith("\n") and "4/10" in stream.getvalue()


def test_modes_follow_verbose_and_where_output_goes():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert choose_mode(0) is None
    assert choose_mode(2, Tty()) == "lines"
    assert choose_mode("auto", Tty()) == "bar" and choose_mode(1, Tty()) == "bar"
    assert choose_mode("auto", io.StringIO()) == "lines"
    with pytest.raises(ValueError, match="mode is one of bar, lines, notebook"):
        Progress("fancy")


def test_formatting():
    assert format_metrics({"val_loss": 1, "accuracy": 0.5, "loss": 2, "val_accuracy": 0.25}) \
        == "loss 2  accuracy 0.5  val_loss 1  val_accuracy 0.25"
    assert [format_seconds(s) for s in (0.84, 42, 185, 3723)] == ["0.8s", "42s", "3:05",
                                                                   "1:02:03"]


# --- the real command ---------------------------------------------------------------------------

def spec_file(tmp_path, steps_per_execution=4):
    spec = {**MLP, "train": {"epochs": 2, "batch_size": 8},
            "runtime": {"steps_per_execution": steps_per_execution}}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def command(tmp_path, *extra):
    return [sys.executable, "-m", "dlkit", "train", str(spec_file(tmp_path)), "--logdir",
            str(tmp_path / "logs"), *extra]


def run_in_pty(args, timeout=180) -> str:
    """Runs `args` with a pseudo-terminal as its stdout and stderr; returns what it wrote."""
    main, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=secondary,
                               stderr=secondary, env={**env, "COLUMNS": "200"}, close_fds=True)
    os.close(secondary)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([main], [], [], timeout)
            if not ready:
                raise TimeoutError("no output from the command")
            try:
                data = os.read(main, 65536)
            except OSError:  # the other side closed
                break
            if not data:
                break
            chunks.append(data)
    finally:
        process.wait(timeout=30)
        os.close(main)
    assert process.returncode == 0, b"".join(chunks).decode(errors="replace")[-3000:]
    return b"".join(chunks).decode(errors="replace")


def test_on_a_terminal_the_bar_counts_every_epoch_honestly(tmp_path):
    text = run_in_pty(command(tmp_path))
    counts = [(int(a), int(b)) for a, b in COUNT.findall(text)]
    steps = 180  # 1437 training samples in batches of 8
    assert counts and all(total == steps and 1 <= done <= steps for done, total in counts)
    assert [done for done, _ in counts].count(steps) >= 2  # both epochs reach N/N
    for epoch in (1, 2):
        seen = [done for line in text.split("\r") if line.startswith(f"epoch {epoch}/2")
                for done, _ in [map(int, COUNT.search(line).groups())]]
        assert seen == sorted(seen), seen  # the counter only goes up within an epoch
    assert "ETA" in text and re.search(r"epoch 2/2  180/180 \[=+\]  [\d.]+s  loss .* "
                                       r"val_loss [\d.]+  val_accuracy", text)
    assert not ANSI.search(text)


def test_through_a_pipe_each_epoch_is_one_plain_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(command(tmp_path), capture_output=True, text=True, env=env,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert [bool(EPOCH_LINE.match(line)) for line in lines[:2]] == [True, True], lines
    assert lines[2].startswith("best epoch ") and lines[3].startswith("run directory: ")
    assert "\r" not in result.stdout and not ANSI.search(result.stdout + result.stderr)


def test_quiet_prints_only_the_summary(tmp_path):
    result = subprocess.run(command(tmp_path, "--quiet"), capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["best", "run"]


NOTEBOOK_CELL = """
import dlkit
spec = {"name": "nb", "seed": 1, "data": {"source": "digits"},
        "model": {"input_shape": [64], "layers": [{"type": "Dense", "units": 10,
                                                   "activation": "softmax"}]},
        "compile": {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        "train": {"epochs": 2, "batch_size": 8}, "runtime": {"steps_per_execution": 4}}
run = dlkit.train(spec, logdir="logs")
"""


def test_in_a_notebook_the_bar_updates_in_place(tmp_path):
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(NOTEBOOK_CELL)])
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = notebook.cells[0]["outputs"]
    bars = [o for o in outputs if o["output_type"] == "display_data"]
    assert len(bars) == 2, outputs  # one per epoch, each updated in place to its end
    for epoch, bar in enumerate(bars, start=1):
        text = bar["data"]["text/plain"]
        assert text.startswith(f"epoch {epoch}/2  180/180 [") and "val_accuracy" in text
        assert '<progress value="180" max="180"' in bar["data"]["text/html"]
    streams = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert "\r" not in streams and not ANSI.search(streams) and "180/180" not in streams
