"""``source: keras:<name>``: Keras' downloadable datasets, with a clear message offline."""

from __future__ import annotations

import keras

from dlkit._core.errors import DataError, Problem, did_you_mean, first_line
from dlkit._data.arrays import Arrays


def keras_dataset_names() -> list[str]:
    """The datasets in `keras.datasets` that have a ``load_data`` function."""
    return [n for n in dir(keras.datasets)
            if not n.startswith("_") and hasattr(getattr(keras.datasets, n), "load_data")]


def load_keras_dataset(source: str) -> Arrays:
    """Downloads (or reads Keras' cache of) ``keras.datasets.<name>``; test split -> validation.

    Raises:
        DataError: unknown dataset name, or the download failed (offline, blocked, ...).
    """
    name = source.split(":", 1)[1]
    if name not in keras_dataset_names():
        raise DataError(Problem("data.source", f"unknown Keras dataset {name!r}"
                                f"{did_you_mean(name, keras_dataset_names())}; available: "
                                f"{', '.join(keras_dataset_names())}"))
    try:
        (x, y), (x_val, y_val) = getattr(keras.datasets, name).load_data()
    except Exception as exc:  # noqa: BLE001 - any download failure gets the same advice
        raise DataError(Problem("data.source", f"could not download Keras dataset {name!r} "
                                f"({type(exc).__name__}: {first_line(exc)[:200]}). "
                                "This machine may be offline: copy the dataset into "
                                "~/.keras/datasets, or save arrays with numpy.savez and use "
                                "source: npz")) from None
    scale = 255.0 if x.dtype == "uint8" else 1.0
    return Arrays(x.astype("float32") / scale, y.reshape(len(y), *y.shape[1:]),
                  x_val.astype("float32") / scale, y_val)
