"""Every landscape file of a trained model in one folder, and its pictures in TensorBoard.

``landscape_files`` is what ``dlkit landscape RUN_DIR`` calls once it has loaded the run's model,
data and initial weights (that wiring lives elsewhere). It writes, each atomically (a temporary
file in the same folder, then ``os.replace``), so a reader never sees half a file:

- ``surface.npz``: ``alpha``, ``beta`` (1-D) and ``loss`` (``loss[i, j]`` at ``alpha[i]``,
  ``beta[j]``) over the plane of two filter-normalised random directions;
- ``line.npz``: ``t`` and ``loss`` from the initial (t=0) to the final (t=1) weights and beyond;
- ``surface.png``, ``contour.png``, ``line.png``;
- ``sharpness.json``: ``hessian_top_eigenvalue``, ``epsilon_sharpness``, ``epsilon`` and the
  power iteration's record (non-finite numbers are written as null);
- with a ``path`` (the weights after each epoch), ``path.npz`` and ``path.png``: the surface of
  the plane holding most of the path, and the path on it (see ``trajectory``).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from dlkit._analysis._checks import check_compiled, check_data, check_float, check_int
from dlkit._analysis._json import json_safe
from dlkit._analysis._stateless import split_weights
from dlkit._analysis.directions import filter_normalized_direction
from dlkit._analysis.limits import MAX_GRID, MAX_SPAN
from dlkit._analysis.pictures import contour_png, line_png, surface_png
from dlkit._analysis.sharpness import sharpness
from dlkit._analysis.surface import Progress, loss_line, loss_surface
from dlkit._analysis.trajectory import path_surface
from dlkit._core.files import write_bytes_atomic

LINE_POINTS = 36  # t = -0.25, -0.20, ..., 1.50: steps of 0.05, t = 0 and t = 1 on the line
LINE_START, LINE_STOP = -0.25, 1.5
# Samples per Hessian-vector product: about this many bytes of inputs, so that memory stays
# bounded on large data while small data (the digits) goes through in one batch, one trace.
SHARPNESS_INPUT_BYTES = 1 << 20
SHARPNESS_BATCH = (64, 4096)  # at least, at most
FILES = ("surface.npz", "line.npz", "surface.png", "contour.png", "line.png", "sharpness.json")
PATH_FILES = ("path.npz", "path.png")  # when a path is given and spans a plane


def landscape_files(out_dir: Path, model: keras.Model, x: Any, y: Any, initial_weights: list, *,
                    grid: int = 21, span: float = 1.0, seed: int = 0,
                    tensorboard_dir: Path | None = None, on_progress: Progress | None = None,
                    max_samples: int | None = None,
                    path: Sequence[list] | None = None,
                    path_epochs: Sequence[int] | None = None) -> dict:
    """Computes the loss surface, line and sharpness of ``model`` and writes them to ``out_dir``.

    Args:
        out_dir: the folder to write into (created if missing; files there are replaced).
        model: the trained, compiled Keras model; its current weights are the final ones and
            the centre of the surface (they are not changed).
        x: inputs, a NumPy array.
        y: targets, a NumPy array with as many samples.
        initial_weights: ``model.get_weights()`` as it was at initialisation.
        grid: surface points per side, 2 to 201 (odd puts the weights themselves on the grid).
        span: the surface covers ``[-span, span]`` along both directions.
        seed: seeds the directions, the subsample and the sharpness estimates.
        tensorboard_dir: where to also write the three pictures as image summaries.
        on_progress: called as ``on_progress(done, total)`` over the surface's, the line's and
            the path's points (``total = grid**2 + 36``, plus ``grid**2 + len(path)`` with a
            path); sharpness, computed last, is not counted.
        max_samples: evaluate on a random subsample of this many samples (None: all).
        path: the weights along training, oldest first (``get_weights()`` lists, e.g. the
            initial ones and each epoch's); at least two, else no path files are written.
        path_epochs: the epoch of each point of ``path`` (0 for the initial weights), written
            to ``path.npz`` as ``epoch``; by default 0, 1, 2, ...

    Returns:
        A summary: the files written, ``samples`` used, ``loss`` at the final weights, the
        surface's ``surface_min``/``surface_max``, the line's ``line_initial``/``line_final``,
        ``hessian_top_eigenvalue``, ``epsilon_sharpness``, ``epsilon``, ``seconds``, and
        ``path``: None, or ``{"points", "explained", "loss_start", "loss_end"}``.

    Raises:
        ValueError: an argument is out of range or does not fit the model (before any work).
    """
    started = time.perf_counter()
    check_compiled(model)
    x, y = _subsample(*check_data(x, y), max_samples, seed)
    grid = check_int("grid", grid, 2, MAX_GRID)
    span = check_float("span", span, 0.0, MAX_SPAN)
    seed = check_int("seed", seed, 0, 2**63 - 1)
    split_weights(model, initial_weights, "initial_weights")  # refused now, not after the grid
    path = list(path or [])
    for i, point in enumerate(path):
        split_weights(model, point, f"path[{i}]")
    traced = len(path) >= 2
    total = grid * grid + LINE_POINTS + (grid * grid + len(path) if traced else 0)
    surface = loss_surface(model, x, y, _directions(model, seed), grid=grid, span=span,
                           on_progress=_shifted(on_progress, 0, total))
    line = loss_line(model, x, y, initial_weights, model.get_weights(), points=LINE_POINTS,
                     start=LINE_START, stop=LINE_STOP,
                     on_progress=_shifted(on_progress, grid * grid, total))
    trail = path_surface(model, x, y, path, grid=grid,
                         on_progress=_shifted(on_progress, grid * grid + LINE_POINTS, total)) \
        if traced else None
    if on_progress is not None and traced and trail is None:
        on_progress(total, total)  # a path that spans no plane: its points count as done
    if trail is not None:
        trail["epoch"] = np.asarray(range(len(path)) if path_epochs is None else path_epochs)
    low, high = SHARPNESS_BATCH
    batch = int(np.clip(SHARPNESS_INPUT_BYTES // max(x[0].nbytes, 1), low, high))
    sharp = sharpness(model, x, y, seed=seed, batch_size=batch)
    out_dir = Path(out_dir)
    _write_all(out_dir, surface, line, sharp, trail, tensorboard_dir)
    return {"out_dir": str(out_dir), "files": [*FILES, *(PATH_FILES if trail else ())],
            "samples": len(x), "grid": grid, "span": span, "seed": seed,
            **_summary(surface, line, sharp, trail), "seconds": time.perf_counter() - started}


def _summary(surface: dict, line: dict, sharp: dict, trail: dict | None) -> dict:
    """The numbers a landscape is read by, JSON-ready."""
    return {
        "loss": sharp["loss"],
        "surface_min": float(np.nanmin(surface["loss"])),
        "surface_max": float(np.nanmax(surface["loss"])),
        "line_initial": float(np.interp(0.0, line["t"], line["loss"])),
        "line_final": float(np.interp(1.0, line["t"], line["loss"])),
        "hessian_top_eigenvalue": sharp["hessian_top_eigenvalue"],
        "hessian_converged": sharp["power_iteration"]["converged"],
        "epsilon_sharpness": sharp["epsilon_sharpness"], "epsilon": sharp["epsilon"],
        "path": None if trail is None else {
            "points": len(trail["path_loss"]),
            "explained": [float(v) for v in trail["explained"]],
            "loss_start": float(trail["path_loss"][0]),
            "loss_end": float(trail["path_loss"][-1])},
    }


def _shifted(on_progress: Progress | None, offset: int, total: int) -> Progress | None:
    """A progress hook for one part of the work that reports on the whole of it."""
    if on_progress is None:
        return None
    return lambda done, _: on_progress(offset + done, total)


def _directions(model: keras.Model, seed: int) -> tuple[list, list]:
    """Two filter-normalised directions for the model's trainable weights."""
    weights = [v.numpy() for v in model.trainable_variables]
    rng = np.random.default_rng(seed)
    return filter_normalized_direction(weights, rng), filter_normalized_direction(weights, rng)


def _subsample(x: np.ndarray, y: np.ndarray, max_samples: int | None,
               seed: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_samples`` samples, drawn without replacement, kept in their order."""
    if max_samples is None:
        return x, y
    max_samples = check_int("max_samples", max_samples, 1, 2**63 - 1)
    if max_samples >= len(x):
        return x, y
    keep = np.sort(np.random.default_rng(seed).choice(len(x), size=max_samples, replace=False))
    return x[keep], y[keep]


def _write_all(out_dir: Path, surface: dict, line: dict, sharp: dict, trail: dict | None,
               tensorboard_dir: Path | None) -> None:
    """Writes every file of ``FILES`` (and ``PATH_FILES``) into ``out_dir``, and the pictures
    to TensorBoard."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pictures = {
        "surface": surface_png(surface["alpha"], surface["beta"], surface["loss"]),
        "contour": contour_png(surface["alpha"], surface["beta"], surface["loss"]),
        "line": line_png(line["t"], line["loss"]),
    }
    arrays = {"surface": surface, "line": line}
    if trail is not None:
        explained = trail["explained"]
        pictures["path"] = contour_png(
            trail["alpha"], trail["beta"], trail["loss"], path=(trail["path_alpha"],
                                                                trail["path_beta"]),
            title="Training path on the loss surface",
            labels=(f"PCA direction 1 ({explained[0]:.0%} of the path)",
                    f"PCA direction 2 ({explained[1]:.0%})"))
        arrays["path"] = trail
    for name, values in arrays.items():
        write_bytes_atomic(out_dir / f"{name}.npz", _npz(values))
    for name, png in pictures.items():
        write_bytes_atomic(out_dir / f"{name}.png", png)
    text = json.dumps(json_safe(sharp), indent=2, allow_nan=False) + "\n"
    write_bytes_atomic(out_dir / "sharpness.json", text.encode())
    if tensorboard_dir is not None:
        write_images(Path(tensorboard_dir), pictures)


def write_images(log_dir: Path, pictures: dict[str, bytes], *, step: int = 0) -> None:
    """Writes PNG ``pictures`` to TensorBoard as image summaries ``landscape/<name>``."""
    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default():
        for name, png in pictures.items():
            image = tf.io.decode_png(png, channels=4)[tf.newaxis]
            tf.summary.image(f"landscape/{name}", image, step=step)
    writer.close()


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
