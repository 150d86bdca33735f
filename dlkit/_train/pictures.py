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
    return png_bytes(learning_curve_figure(metrics, title, best=best))


def learning_curve_figure(metrics: dict[str, list[float]], title: str, *,
                          best: dict | None = None) -> Any:
    """One panel per compiled metric (loss first), train and validation per epoch, with the
    best epoch marked."""
    names = [k for k in metrics if not k.startswith("val_") and k != "learning_rate"]
    names = sorted(names, key=lambda k: k != "loss") or ["loss"]
    figure = figure_of(5 * len(names), 3.8)
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


def confusion_matrix_png(counts: np.ndarray, title: str,
                         classes: tuple[str, ...] | None = None) -> bytes:
    """The matrix as a picture; its axes name the classes when `classes` gives their names."""
    size = max(4.0, 0.45 * len(counts) + 2)
    figure = figure_of(size, size)
    axes = figure.subplots()
    axes.imshow(counts, cmap="Blues")
    for (row, column), count in np.ndenumerate(counts):
        shade = "white" if count > counts.max() / 2 else "black"
        axes.text(column, row, str(count), ha="center", va="center", color=shade, fontsize=8)
    axes.set(xlabel="predicted", ylabel="true", title=title, xticks=range(len(counts)),
             yticks=range(len(counts)))
    if classes is not None and len(classes) == len(counts):
        axes.set_xticklabels(classes, rotation=45, ha="right")
        axes.set_yticklabels(classes)
    return png_bytes(figure)


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
                   validation: tuple | tf.data.Dataset | None = None,
                   classifier: bool | tuple[str, ...] = False, tensorboard: bool = True,
                   classes: tuple[str, ...] | None = None) -> list[Path]:
    """Writes learning_curve.png (and confusion_matrix.png for classifiers); returns the files.

    Args:
        best: the best epoch (`best_epoch`), marked on the learning curve.
        validation: ``(x, y)`` arrays, or a dataset of ``(x, y)`` batches.
        classifier: whether the model's one output predicts classes; for a model of named
            outputs, the names of those that do (several: ``confusion_matrix_<output>.png``).
        classes: the class names, shown on the confusion matrix's axes.
    """
    pictures = {"learning_curve": learning_curve_png(metrics, f"{name}: learning curve",
                                                     best=best)}
    if classifier and model is not None and validation is not None:
        pictures.update(_confusion_matrices(model, validation, classifier, name, classes))
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


def _confusion_matrices(model: keras.Model, validation: tuple | tf.data.Dataset,
                        classifier: bool | tuple[str, ...], name: str,
                        classes: tuple[str, ...] | None) -> dict[str, bytes]:
    """One matrix for a classifier, or one per classifier output of several."""
    truth, scores = _labels_and_scores(model, validation)
    named = classifier if isinstance(classifier, tuple) else ()
    pictures = {}
    for output in named or (None,):
        y, predicted = (truth, scores) if output is None else \
            (truth[output] if isinstance(truth, dict) else truth, scores[output])
        counts = confusion_matrix(*class_indices(y, predicted))
        several = len(named) > 1
        pictures["confusion_matrix" + (f"_{output}" if several else "")] = confusion_matrix_png(
            counts, f"{name}: validation confusion matrix" + (f" of {output}" if several else ""),
            None if named else classes)
    return pictures


def _labels_and_scores(model: keras.Model, validation: tuple | tf.data.Dataset
                       ) -> tuple[Any, Any]:
    """The validation labels and the model's outputs on them (arrays, or dicts of arrays by
    output name), batch by batch."""
    if not isinstance(validation, tf.data.Dataset):
        # Plain batches: Keras slices arrays with a parallel map, which TensorFlow turns
        # sequential under op determinism with a C++ error line on the terminal.
        validation = tf.data.Dataset.from_tensor_slices(validation).batch(1024)
    labels, scores = [], []
    for x, y in validation:
        labels.append(tf.nest.map_structure(np.asarray, y))
        scores.append(tf.nest.map_structure(lambda s: np.asarray(s, dtype="float32"),
                                            model(x, training=False)))
    return (tf.nest.map_structure(lambda *parts: np.concatenate(parts), *labels),
            tf.nest.map_structure(lambda *parts: np.concatenate(parts), *scores))


def figure_of(width: float, height: float):
    """A matplotlib figure outside pyplot: no global backend or state is touched."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def png_bytes(figure) -> bytes:
    """A figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
