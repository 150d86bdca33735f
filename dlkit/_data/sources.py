"""Data sources a spec's ``data`` section names, loaded into NumPy arrays.

Built-in offline sources come first: ``digits`` (scikit-learn's bundled 8x8 digits), ``moons``,
``spirals`` and ``sine`` (generated). Files: ``npz`` (arrays ``x``, ``y``, optional ``x_val``,
``y_val``; or ``x_<input>``, ``y_<output>`` and their ``_val`` forms for graph models) and ``csv`` (a header row and a ``target`` column). Online: ``keras:<name>`` for
`keras.datasets`. Relative paths are taken from the current directory.
"""

from __future__ import annotations

import csv
import math
import zipfile
from pathlib import Path

import numpy as np

from dlkit._core.errors import DataError, Problem
from dlkit._data.arrays import Arrays, named_arrays, shaped

def load(data: dict, *, input_shape: list, seed: int | None) -> Arrays:
    """Loads the spec's data section and shapes ``x`` to `input_shape`.

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
        arrays = _npz(_existing_file(data, ".npz"))
    elif source == "csv":
        arrays = _csv(_existing_file(data, ".csv"), data)
    else:
        from dlkit._data.keras_datasets import load_keras_dataset  # imports keras

        arrays = load_keras_dataset(source)
    return shaped(arrays, input_shape)


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


def _npz(path: Path) -> Arrays:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(Problem("data.path", f"{path} is not a readable .npz file ({exc})"))
    found = named_arrays(arrays)
    if found is None:
        missing = [name for name in ("x", "y") if name not in arrays]
        raise DataError(Problem("data.path", f"{path} lacks array(s) {', '.join(missing)}; it "
                                f"holds {sorted(arrays) or 'nothing'}. Save it with "
                                "numpy.savez(path, x=..., y=...) (optionally x_val=, y_val=; "
                                "for several inputs or outputs x_<input>=..., y_<output>=...)"))
    if (found.x_val is None) != (found.y_val is None):
        raise DataError(Problem("data.path", f"{path} has only one of x_val and y_val (or of "
                                "the x_<input>_val and y_<output>_val arrays); give both"))
    return found


def _csv(path: Path, data: dict) -> Arrays:
    target = data.get("target")
    if target is None:
        raise DataError(Problem("data.target", "a csv source needs the name of its target "
                                "column, like target: label"))
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise DataError(Problem("data.path", f"{path} is empty"))
    header, body = rows[0], [row for row in rows[1:] if row]
    if target not in header:
        raise DataError(Problem("data.target", f"no column {target!r} in {path}; its columns "
                                f"are {header}"))
    column = header.index(target)
    features = [name for i, name in enumerate(header) if i != column]
    x = np.empty((len(body), len(features)), dtype="float32")
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise DataError(Problem("data.path", f"{path} line {line} has {len(row)} fields, the "
                                    f"header has {len(header)}"))
        values = [value for i, value in enumerate(row) if i != column]
        try:
            x[line - 2] = [float(value) for value in values]
        except ValueError:
            bad = next(f for f, v in zip(features, values) if not _is_float(v))
            raise DataError(Problem("data.path", f"{path} line {line}: column {bad!r} is not a "
                                    "number; feature columns must be numeric")) from None
    labels = [row[column] for row in body]
    if all(_is_float(label) for label in labels):
        y = np.asarray([float(label) for label in labels], dtype="float32")
        if np.all(y == np.round(y)):
            y = y.astype("int64")
    else:  # class names become indices in sorted order
        classes = sorted(set(labels))
        y = np.asarray([classes.index(label) for label in labels], dtype="int64")
    return Arrays(x, y)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
