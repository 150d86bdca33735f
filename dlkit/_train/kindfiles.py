"""What an autoencoder's or a GAN's run directory holds besides ``model.keras``.

- An autoencoder (or VAE): ``encoder.keras`` and ``decoder.keras``, each loadable on its own
  (an encoder gives embeddings), ``anomaly.json`` (`dlkit._train.anomaly`: the threshold chosen
  on the validation samples' scores, with their distribution) and ``anomaly.png`` (that
  distribution, the threshold drawn; also a TensorBoard image and histogram).
- A GAN: ``generator.keras`` and ``discriminator.keras``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from dlkit._core.files import write_atomic, write_bytes_atomic, write_json_atomic
from dlkit._plan.plan import Plan
from dlkit._train.anomaly import ANOMALY_FILE, anomaly_report, reconstruction_errors
from dlkit._train.pictures import figure_of, png_bytes


def write_kind_files(run_dir: Path, model: keras.Model, plan: Plan, validation: Any, *,
                     tensorboard: bool) -> list[Path]:
    """Writes the kind's files (none for a stack or a graph); returns them.

    Args:
        validation: the validation data, ``(x_val, x_val)`` (None when the run had none: no
            threshold is chosen then).
    """
    if plan.model.gan is not None:
        networks = {"generator": model.generator, "discriminator": model.discriminator}
    elif plan.model.autoencoder is not None:
        networks = {"encoder": model.get_layer("encoder"), "decoder": model.get_layer("decoder")}
    else:
        return []
    written = []
    for name, network in networks.items():
        written.append(run_dir / f"{name}.keras")
        write_atomic(written[-1], network.save)
    if plan.model.autoencoder is not None and validation is not None:
        written += _anomaly_files(run_dir, model, plan, validation[0], tensorboard=tensorboard)
    return written


def _anomaly_files(run_dir: Path, model: keras.Model, plan: Plan, x_val: np.ndarray, *,
                   tensorboard: bool) -> list[Path]:
    anomaly = plan.model.autoencoder.anomaly
    scores = reconstruction_errors(model, x_val, error=anomaly.error)
    report = anomaly_report(scores, anomaly)
    write_json_atomic(run_dir / ANOMALY_FILE, report)
    png = scores_png(scores, report["threshold"], f"{plan.name}: validation anomaly scores "
                     f"({anomaly.error})")
    write_bytes_atomic(run_dir / "anomaly.png", png)
    if tensorboard:
        with tf.summary.create_file_writer(str(run_dir)).as_default() as writer:
            tf.summary.image("dlkit/anomaly", tf.image.decode_png(png)[None], step=0)
            tf.summary.histogram("dlkit/anomaly_scores", scores, step=0)
            writer.flush()
    return [run_dir / ANOMALY_FILE, run_dir / "anomaly.png"]


def scores_png(scores: np.ndarray, threshold: float, title: str) -> bytes:
    """A histogram of anomaly scores with the threshold drawn."""
    figure = figure_of(6, 3.8)
    axes = figure.subplots()
    axes.hist(scores, bins=np.linspace(0, max(float(np.max(scores)), threshold) * 1.02 or 1.0,
                                       40), alpha=0.7, label="validation")
    axes.axvline(threshold, color="red", linestyle="--", label=f"threshold {threshold:.4g}")
    axes.set(xlabel="anomaly score (reconstruction error)", ylabel="samples", title=title)
    axes.legend(fontsize=8)
    return png_bytes(figure)
