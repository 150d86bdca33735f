"""The pictures a finished run leaves: its learning curves and, for classifiers, the
validation confusion matrix; PNG files in the run directory and TensorBoard images."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from dlkit._core.files import write_bytes_atomic


def best_epoch(metrics: dict[str, list[float]], recorded: dict | None = None) -> dict | None:
    """The run's best epoch: the one early stopping recorded (`RunLog`), else the lowest
    validation loss, else the lowest training loss; ``{"monitor", "goal", "epoch", "value"}``
    with a 1-based epoch, or None before any epoch."""
    if recorded:
        return recorded
    monitor = "val_loss" if metrics.get("val_loss") else "loss"
    values = metrics.get(monitor) or []
    if not values or all(np.isnan(values)):
        return None
    index = int(np.nanargmin(values))
    return {"monitor": monitor, "goal": "min", "epoch": index + 1, "value": values[index]}


def learning_curve_png(metrics: dict[str, list[float]], title: str, *,
                       best: dict | None = None) -> bytes:
    """`learning_curve_figure` as PNG bytes."""
    return _png(learning_curve_figure(metrics, title, best=best))


def learning_curve_figure(metrics: dict[str, list[float]], title: str, *,
                          best: dict | None = None) -> Any:
    """One panel per compiled metric (loss first), train and validation per epoch, with the
    best epoch marked."""
    names = [k for k in metrics if not k.startswith("val_") and k != "learning_rate"]
    names = sorted(names, key=lambda k: k != "loss") or ["loss"]
    figure = _figure(5 * len(names), 3.8)
    for axes, name in zip(np.atleast_1d(figure.subplots(1, len(names))), names):
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            if metrics.get(key):
                epochs = np.arange(1, len(metrics[key]) + 1)
                axes.plot(epochs, metrics[key], marker="o", markersize=3, label=label)
        if best is not None:
            axes.axvline(best["epoch"], color="gray", linestyle="--", linewidth=1,
                         label=f"best: epoch {best['epoch']} ({best['monitor']})")
        axes.set(xlabel="epoch", ylabel=name, title=name)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    figure.suptitle(title)
    return figure


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
                   best: dict | None = None, model: keras.Model | None = None,
                   validation: tuple | None = None, classifier: bool | tuple[str, ...] = False,
                   tensorboard: bool = True) -> list[Path]:
    """Writes learning_curve.png (and confusion_matrix.png for classifiers); returns the files.

    Args:
        best: the best epoch (`best_epoch`), marked on the learning curve.
        classifier: whether the model's one output predicts classes; for a model of named
            outputs, the names of those that do (several: ``confusion_matrix_<output>.png``).
    """
    pictures = {"learning_curve": learning_curve_png(metrics, f"{name}: learning curve",
                                                     best=best)}
    if classifier and model is not None and validation is not None:
        # Plain batches: Keras slices arrays with a parallel map, which TensorFlow turns
        # sequential under op determinism with a C++ error line on the terminal.
        batches = tf.data.Dataset.from_tensor_slices(validation[0]).batch(1024)
        scores = model.predict(batches, verbose=0)
        named = classifier if isinstance(classifier, tuple) else ()
        for output in named or (None,):  # several outputs: one matrix per classifier output
            y, predicted = (validation[1], scores) if output is None else \
                (validation[1][output] if isinstance(validation[1], dict) else validation[1],
                 scores[output])
            counts = confusion_matrix(*class_indices(y, predicted))
            pictures["confusion_matrix" + (f"_{output}" if len(named) > 1 else "")] = \
                confusion_matrix_png(counts, f"{name}: validation confusion matrix" +
                                     (f" of {output}" if len(named) > 1 else ""))
    written = []
    for key, png in pictures.items():
        path = log_dir / f"{key}.png"
        write_bytes_atomic(path, png)
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
