"""Data sources a spec's ``data`` section names, loaded into NumPy arrays or a `Stream`.

Built-in offline sources come first: ``digits`` (scikit-learn's bundled 8x8 digits), ``moons``,
``spirals`` and ``sine`` (generated). Files: ``npz`` (arrays ``x``, ``y``, optional ``x_val``,
``y_val``; or ``x_<input>``, ``y_<output>`` and their ``_val`` forms for graph models) and ``csv`` (a header row and a ``target`` column; `dlkit._data.table`). Folders,
streamed while training: ``images`` and ``text`` (`dlkit._data.folder_sources`). Online:
``keras:<name>`` for `keras.datasets`, ``tfds:<name>`` for TensorFlow Datasets. Relative paths
are taken from the current directory.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from dlkit._core.errors import DataError, Problem
from dlkit._data.arrays import Arrays, named_arrays, shaped
from dlkit._data.stream import Stream


def load(data: dict, *, input_shape: list, seed: int | None,
         labels: bool = True) -> Arrays | Stream:
    """Loads the spec's data section and shapes ``x`` to `input_shape`; a folder, or a table
    with text, categories or blanks, comes as a `Stream` to read while training. Without
    `labels` (an autoencoder, a GAN), an npz file needs no ``y``.

    Raises:
        DataError: naming the spec path and what to change.
    """
    source = data["source"]
    rng = np.random.default_rng(seed)
    if source == "digits":
        arrays = _digits()
    elif source == "moons":
        arrays = _moons(data, seed)
    elif source == "spirals":
        arrays = _spirals(data, rng)
    elif source == "sine":
        arrays = _sine(data, input_shape, rng)
    elif source == "npz":
        arrays = _npz(_existing_file(data, ".npz"), labels)
    elif source == "csv":
        from dlkit._data.table import load_table  # imports keras (its encoder)

        arrays = load_table(_existing_file(data, ".csv"), data)
    elif source in ("images", "text"):
        from dlkit._data.folder_sources import load_folder

        return load_folder(data, input_shape=input_shape)
    elif source.startswith("tfds:"):
        from dlkit._data.tfds_source import load_tfds

        arrays = load_tfds(source)
    else:
        from dlkit._data.keras_datasets import load_keras_dataset  # imports keras

        arrays = load_keras_dataset(source)
    return arrays if isinstance(arrays, Stream) else shaped(arrays, input_shape)


def _digits() -> Arrays:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return Arrays(digits.images.astype("float32") / 16.0, digits.target.astype("int64"))


def _moons(data: dict, seed: int | None) -> Arrays:
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=data.get("samples", 1000), noise=data.get("noise", 0.2),
                      random_state=seed)
    return Arrays(x.astype("float32"), y.astype("int64"))


def _spirals(data: dict, rng: np.random.Generator) -> Arrays:
    """Two interleaved spirals, the classic problem a linear model cannot solve."""
    half = data.get("samples", 1000) // 2
    turns = np.sqrt(rng.uniform(0, 1, half)) * 3 * math.pi
    arm = np.stack([turns * np.cos(turns), turns * np.sin(turns)], axis=1) / (3 * math.pi)
    x = np.concatenate([arm, -arm]) + rng.normal(0, data.get("noise", 0.05), (2 * half, 2))
    y = np.concatenate([np.zeros(half), np.ones(half)])
    order = rng.permutation(2 * half)
    return Arrays(x[order].astype("float32"), y[order].astype("int64"))


def _sine(data: dict, input_shape: list, rng: np.random.Generator) -> Arrays:
    """Windows of a noisy sine wave; the target is the next (clean) value."""
    steps = input_shape[0] if input_shape and isinstance(input_shape[0], int) else 20
    if len(input_shape) != 2 or input_shape[1] != 1:
        raise DataError(Problem("model.input_shape", "the sine source gives sequences of shape "
                                f"[timesteps, 1], like [{steps}, 1]; received {input_shape}"))
    count = data.get("samples", 1000)
    start = rng.uniform(0, 2 * math.pi, (count, 1))
    t = start + np.arange(steps + 1) * 0.2
    x = np.sin(t[:, :steps]) + rng.normal(0, data.get("noise", 0.1), (count, steps))
    return Arrays(x[..., None].astype("float32"), np.sin(t[:, steps:]).astype("float32"))


def _existing_file(data: dict, suffix: str) -> Path:
    if "path" not in data:
        raise DataError(Problem("data.path", f"source {data['source']} needs a path to a "
                                f"{suffix} file"))
    path = Path(data["path"])
    if not path.is_file():
        raise DataError(Problem("data.path", f"no such file: {path} (relative paths are taken "
                                f"from the current directory, {Path.cwd()})"))
    return path


def _npz(path: Path, labels: bool = True) -> Arrays:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(Problem("data.path", f"{path} is not a readable .npz file ({exc})"))
    found = named_arrays(arrays, labels=labels)
    if found is None:
        missing = [name for name in ("x", "y")[:2 if labels else 1] if name not in arrays]
        raise DataError(Problem("data.path", f"{path} lacks array(s) {', '.join(missing)}; it "
                                f"holds {sorted(arrays) or 'nothing'}. Save it with "
                                "numpy.savez(path, x=..., y=...) (optionally x_val=, y_val=; "
                                "for several inputs or outputs x_<input>=..., y_<output>=...)"))
    if labels and (found.x_val is None) != (found.y_val is None):
        raise DataError(Problem("data.path", f"{path} has only one of x_val and y_val (or of "
                                "the x_<input>_val and y_<output>_val arrays); give both"))
    return found
