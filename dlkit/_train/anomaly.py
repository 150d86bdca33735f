"""Anomaly scores of an autoencoder, and the threshold a run chooses for them.

A sample's score is its reconstruction error: the mean squared (``error: mse``) or absolute
(``mae``) difference between the sample and the autoencoder's reconstruction of it, over all its
values. A sample whose score is above the threshold is flagged as an anomaly. The threshold is
chosen once, at the end of training, on the validation samples' scores (``method: quantile``:
their `quantile`, 0.99 by default, so that about 1% of normal samples are flagged;
``method: mean_std``: their mean plus `std` standard deviations), and kept in the run's
``anomaly.json`` with the distribution it was chosen from.

`Threshold.read(run_dir)`, `scorer` and `Threshold.flags` are what scoring
(``dlkit.anomaly_scores``, ``dlkit score``) and predicting use.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from dlkit._core.errors import RunDirError
from dlkit._core.files import read_json
from dlkit._plan.kindplans import AnomalyPlan

ANOMALY_FILE = "anomaly.json"
SETTING = {"quantile": "quantile", "mean_std": "std"}  # method -> the name of its amount
QUANTILES = (0.5, 0.9, 0.95, 0.99, 0.999)
BINS = 30
# model -> {(error, sample shape): its tf.function}
_SCORERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def scorer(model: keras.Model, error: str = "mse") -> Callable[[Any], np.ndarray]:
    """``score(batch) -> scores``: one anomaly score per sample of a batch, the mean squared
    (``mse``) or absolute (``mae``) reconstruction error over all its values; the model runs
    in inference mode as one `tf.function` per model, error and sample shape, traced once for
    any batch size (and kept while the model lives)."""
    functions = _SCORERS.setdefault(model, {})

    def score(batch: Any) -> np.ndarray:
        batch = tf.convert_to_tensor(batch, tf.float32)
        key = (error, tuple(batch.shape[1:]))
        if key not in functions:
            functions[key] = _errors(model, error, key[1])
        return functions[key](batch).numpy()
    return score


def _errors(model: keras.Model, error: str, shape: tuple) -> Callable:
    @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32)])
    def errors(batch: tf.Tensor) -> tf.Tensor:
        difference = tf.cast(model(batch, training=False), tf.float32) - batch
        values = tf.square(difference) if error == "mse" else tf.abs(difference)
        return tf.reduce_mean(tf.reshape(values, (tf.shape(batch)[0], -1)), axis=1)
    return errors


def reconstruction_errors(model: keras.Model, x: Any, *, error: str = "mse",
                          batch_size: int = 256) -> np.ndarray:
    """One anomaly score per sample (`scorer`).

    Args:
        model: an autoencoder (its output has the shape of its input).
        x: samples (an array), or a `tf.data.Dataset` of batches of samples (or of
            ``(x, y)`` batches, whose ``y`` is ignored).
        error: ``mse`` or ``mae``.
    """
    score = scorer(model, error)
    if not isinstance(x, tf.data.Dataset):
        x = tf.data.Dataset.from_tensor_slices(np.asarray(x)).batch(batch_size)
    scores = [score(batch[0] if isinstance(batch, tuple) else batch) for batch in x]
    return np.concatenate(scores) if scores else np.zeros((0,), "float32")


def choose_threshold(scores: np.ndarray, anomaly: AnomalyPlan) -> float:
    """The score above which a sample is an anomaly, chosen from normal samples' scores."""
    if anomaly.method == "quantile":
        return float(np.quantile(scores, anomaly.amount))
    return float(np.mean(scores) + anomaly.amount * np.std(scores))


def anomaly_report(scores: np.ndarray, anomaly: AnomalyPlan) -> dict[str, Any]:
    """What ``anomaly.json`` holds: the setting, the threshold and the validation scores'
    distribution (summary, quantiles, a histogram) it was chosen from."""
    threshold = choose_threshold(scores, anomaly)
    counts, edges = np.histogram(scores, bins=BINS)
    return {
        "error": anomaly.error, "method": anomaly.method, SETTING[anomaly.method]: anomaly.amount,
        "threshold": threshold, "chosen_on": "validation",
        "validation": {
            "samples": int(len(scores)), "flagged": int(np.sum(scores > threshold)),
            "mean": float(np.mean(scores)), "std": float(np.std(scores)),
            "min": float(np.min(scores)), "max": float(np.max(scores)),
            "quantiles": {str(q): float(np.quantile(scores, q)) for q in QUANTILES},
            "histogram": {"edges": [float(e) for e in edges],
                          "counts": [int(c) for c in counts]}}}


@dataclass(frozen=True)
class Threshold:
    """A run's anomaly threshold, as ``anomaly.json`` records it.

    Attributes:
        error: ``mse`` or ``mae``, how scores are measured.
        method: how the threshold was chosen (``quantile`` or ``mean_std``).
        amount: the quantile, or the number of standard deviations.
        threshold: a sample scoring above it is an anomaly.
    """

    error: str
    method: str
    amount: float
    threshold: float

    @classmethod
    def read(cls, run_dir: Path) -> Threshold:
        """The threshold of an autoencoder's run directory.

        Raises:
            RunDirError: the run has no ``anomaly.json`` (not an autoencoder, or unfinished).
        """
        data = read_json(Path(run_dir) / ANOMALY_FILE)
        if not isinstance(data, dict) or "threshold" not in data:
            raise RunDirError(f"{run_dir} has no {ANOMALY_FILE}: only a finished autoencoder "
                              "run (model.kind: autoencoder or vae) scores anomalies")
        return cls(data["error"], data["method"], float(data[SETTING[data["method"]]]),
                   float(data["threshold"]))

    def flags(self, scores: np.ndarray) -> np.ndarray:
        """Whether each score is above the threshold (an anomaly)."""
        return np.asarray(scores) > self.threshold

    def describe(self) -> str:
        """``quantile 0.99 of the validation scores``, ``mean + 3 std of ...``."""
        how = f"quantile {self.amount:g}" if self.method == "quantile" else \
            f"mean + {self.amount:g} std"
        return f"{how} of the validation scores, error {self.error}"
