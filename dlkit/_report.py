"""What a run shows in TensorBoard beyond Keras' scalars: hparams and pictures.

- The resolved spec, flattened (``model.layers[0].units``), as TensorBoard hparams, through
  `tensorboard.plugins.hparams.api`. No experiment config is written: TensorBoard then infers
  the experiment from all runs' sessions, marks the settings that differ between runs, and
  takes the runs' metrics (``epoch_loss`` of ``train`` and ``validation``, ...) from their
  scalars.
- A learning curve (train vs validation loss) for every run, and a confusion matrix on the
  validation data for classifiers: PNG files in the run directory and TensorBoard images.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from dlkit import _rundir


def flatten(value: Any, prefix: str = "") -> dict[str, bool | int | float | str]:
    """``{"a": {"b": [1, {"c": 2}]}}`` -> ``{"a.b[0]": 1, "a.b[1].c": 2}``.

    Lists of plain values stay whole, as text (``model.input_shape: "[8, 8, 1]"``).
    """
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list):
        if all(not isinstance(item, (dict, list)) for item in value):
            return {prefix: "[" + ", ".join(_text(item) for item in value) + "]"}
        flat = {}
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}[{index}]"))
        return flat
    if value is None:
        return {prefix: "null"}
    return {prefix: value}


def _text(value: Any) -> str:
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def write_hparams(log_dir: Path, spec: dict, *, trial_id: str) -> None:
    """Logs the resolved spec as this run's hparams session."""
    from tensorboard.plugins.hparams import api as hp

    with tf.summary.create_file_writer(str(log_dir)).as_default() as writer:
        hp.hparams(flatten(spec), trial_id=trial_id)
        writer.flush()


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """Keras' `TensorBoard` callback, without per-batch work when it logs once an epoch.

    Keras' callback runs Python at every train and test batch (counting batches, calling
    `tf.summary.scalar` for each metric with no writer to record it): about 5% of a small
    model's fit time here. With ``update_freq="epoch"``, no profiling and no steps-per-second
    logging, that work records nothing, so those hooks are Keras' no-op defaults here, and the
    train graph (if Keras can write one) is written at the first epoch's end instead of after
    the first batch. Any other setting keeps Keras' behaviour.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epoch_only = (self.update_freq == "epoch" and not self._should_trace
                           and not self.write_steps_per_second)
        if self.epoch_only:
            default = keras.callbacks.Callback
            for hook in ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
                         "on_test_batch_end"):
                setattr(self, hook, getattr(default, hook).__get__(self))

    def on_test_end(self, logs: dict | None = None) -> None:
        """Writes nothing: Keras' ``evaluation_*_vs_iterations`` repeat the epoch's validation
        scalars with iteration counts as steps, which would break the epoch steps that a
        resumed run's restart marker (`mark_restart`) relies on."""
        self._pop_writer()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.epoch_only and self._should_write_train_graph:
            self._write_keras_model_train_graph()
            self._should_write_train_graph = False
        super().on_epoch_end(epoch, logs)


def mark_restart(log_dir: Path, *, epoch: int) -> None:
    """Tells TensorBoard that a resumed run restarts at 0-based `epoch`.

    Writes a `SessionLog.START` event at that step into ``train/`` and ``validation/`` (and at
    ``epoch + 1`` in the run directory, whose text events count epochs from 1): TensorBoard then
    drops what the killed process wrote for epochs the resumed run repeats, so every curve has
    each step once. Uses TensorBoard's own event writer. TensorBoard reads a folder's event
    files in name order, and names begin with the second they were made: the marker is made in
    a second of its own, after the old files and before the resumed run's.
    """
    import time

    from tensorboard.compat.proto.event_pb2 import Event, SessionLog
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    time.sleep(1.0 - time.time() % 1.0 + 0.01)
    for folder, step in ((log_dir / "train", epoch), (log_dir / "validation", epoch),
                         (log_dir, epoch + 1)):
        if not folder.is_dir():
            continue
        first_restart = not any(folder.glob("*.restart"))
        writer = EventFileWriter(str(folder), filename_suffix=".restart")
        # TensorBoard takes a folder's first START as the session's start, not a restart.
        for start in ([0, step] if first_restart else [step]):
            writer.add_event(Event(wall_time=time.time(), step=start,
                                   session_log=SessionLog(status=SessionLog.START)))
        writer.close()
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


class HParamsLogger(keras.callbacks.Callback):
    """Writes the hparams session when training begins."""

    def __init__(self, log_dir: Path, spec: dict, trial_id: str) -> None:
        super().__init__()
        self.log_dir, self.spec, self.trial_id = Path(log_dir), spec, trial_id

    def on_train_begin(self, logs: dict | None = None) -> None:
        write_hparams(self.log_dir, self.spec, trial_id=self.trial_id)


def learning_curve_png(metrics: dict[str, list[float]], title: str) -> bytes:
    """Train and validation loss per epoch, as PNG bytes."""
    figure = _figure(6, 4)
    axes = figure.subplots()
    epochs = np.arange(1, len(metrics.get("loss", [])) + 1)
    for key, label in (("loss", "train"), ("val_loss", "validation")):
        if metrics.get(key):
            axes.plot(epochs[: len(metrics[key])], metrics[key], marker="o", label=label)
    axes.set(xlabel="epoch", ylabel="loss", title=title)
    axes.grid(alpha=0.3)
    axes.legend()
    return _png(figure)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, classes: int) -> np.ndarray:
    """Counts[true, predicted]."""
    counts = np.zeros((classes, classes), dtype="int64")
    np.add.at(counts, (y_true.astype("int64"), y_pred.astype("int64")), 1)
    return counts


def confusion_matrix_png(counts: np.ndarray, title: str) -> bytes:
    size = max(4.0, 0.45 * len(counts) + 2)
    figure = _figure(size, size)
    axes = figure.subplots()
    axes.imshow(counts, cmap="Blues")
    for (row, column), count in np.ndenumerate(counts):
        shade = "white" if count > counts.max() / 2 else "black"
        axes.text(column, row, str(count), ha="center", va="center", color=shade, fontsize=8)
    axes.set(xlabel="predicted", ylabel="true", title=title, xticks=range(len(counts)),
             yticks=range(len(counts)))
    return _png(figure)


def class_indices(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """True and predicted class indices from labels (integer or one-hot) and model outputs."""
    if scores.shape[-1] == 1:  # binary: one sigmoid (or hinge) output
        cut = 0.0 if scores.min() < 0 else 0.5
        truth = (np.asarray(y).reshape(-1) > (0 if np.asarray(y).min() < 0 else 0.5))
        return truth.astype("int64"), (scores.reshape(-1) > cut).astype("int64"), 2
    truth = np.argmax(y, axis=-1) if np.asarray(y).ndim == 2 and y.shape[-1] > 1 else \
        np.asarray(y).reshape(-1)
    return truth.astype("int64"), np.argmax(scores, axis=-1), scores.shape[-1]


def write_pictures(log_dir: Path, *, metrics: dict[str, list[float]], name: str,
                   model: keras.Model | None = None, validation: tuple | None = None,
                   classifier: bool = False, tensorboard: bool = True) -> list[Path]:
    """Writes learning_curve.png (and confusion_matrix.png for classifiers); returns the files."""
    pictures = {"learning_curve": learning_curve_png(metrics, f"{name}: learning curve")}
    if classifier and model is not None and validation is not None:
        scores = model.predict(validation[0], verbose=0, batch_size=1024)
        truth, predicted, classes = class_indices(validation[1], scores)
        counts = confusion_matrix(truth, predicted, classes)
        pictures["confusion_matrix"] = confusion_matrix_png(
            counts, f"{name}: validation confusion matrix")
    written = []
    for key, png in pictures.items():
        path = log_dir / f"{key}.png"
        _rundir.write_atomic(path, lambda tmp, data=png: tmp.write_bytes(data))
        written.append(path)
    if tensorboard:
        step = len(metrics.get("loss", []))
        with tf.summary.create_file_writer(str(log_dir)).as_default() as writer:
            for key, png in pictures.items():
                tf.summary.image(f"dlkit/{key}", tf.image.decode_png(png)[None], step=step)
            writer.flush()
    return written


def _figure(width: float, height: float):
    """A matplotlib figure outside pyplot: no global backend or state is touched."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
