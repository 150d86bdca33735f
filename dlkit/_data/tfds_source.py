"""``source: tfds:<name>``: TensorFlow Datasets, downloaded once into TFDS' cache.

Its ``train`` split trains; its ``validation`` (else ``test``) split validates when there is
one, else ``validation_split`` holds out part of ``train``. The dataset is loaded into memory,
as ``keras:<name>`` is (images scaled to [0, 1]), so determinism, resume and every strategy
work as for arrays. Without a network connection, and with the dataset not yet in the cache,
the download is not even tried: one quick probe of TFDS' storage host fails with a clear
message, and nothing is written (TFDS itself would retry for minutes and leave a partial
folder behind).
"""

from __future__ import annotations

import os
import socket

import numpy as np

from dlkit._core.errors import DataError, Problem, first_line
from dlkit._data.arrays import Arrays

PROBE = ("storage.googleapis.com", 443)  # where TFDS fetches prepared datasets from
PROBE_SECONDS = 5.0


def load_tfds(source: str) -> Arrays:
    """Downloads (or reads TFDS' cache of) the dataset, as arrays with class names.

    Raises:
        DataError: tensorflow-datasets is not installed, the name is unknown, the download
            failed (offline, blocked), or the dataset has no ``(input, label)`` form.
    """
    name = source.split(":", 1)[1]
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise DataError(Problem("data.source", "source tfds:... needs TensorFlow Datasets: pip "
                                "install tensorflow-datasets")) from None
    try:
        builder = tfds.builder(name, data_dir=os.environ.get("TFDS_DATA_DIR"))
    except Exception as exc:  # noqa: BLE001 - tfds raises its own kinds for unknown names
        raise DataError(Problem("data.source", f"unknown TensorFlow Datasets name {name!r}: "
                                f"{first_line(exc)[:200]}")) from None
    if not builder.is_prepared():
        _probe(name)
    splits = list(builder.info.splits.keys())
    held = next((s for s in ("validation", "test") if s in splits), None)
    try:
        builder.download_and_prepare()
        train = tfds.as_numpy(builder.as_dataset(split="train", as_supervised=True,
                                                 batch_size=-1))
        val = None if held is None else tfds.as_numpy(builder.as_dataset(
            split=held, as_supervised=True, batch_size=-1))
    except Exception as exc:  # noqa: BLE001 - any download failure gets the same advice
        raise DataError(Problem("data.source", f"could not download TensorFlow Datasets "
                                f"{name!r} ({type(exc).__name__}: {first_line(exc)[:200]}); "
                                "check the network, or save arrays with numpy.savez and use "
                                "source: npz")) from None
    label = builder.info.features.get("label") if hasattr(builder.info.features, "get") else None
    classes = tuple(label.names) if hasattr(label, "names") else None
    x, y = _scaled(train[0]), train[1]
    if val is None:
        return Arrays(x, y, classes=classes)
    return Arrays(x, y, _scaled(val[0]), val[1], classes=classes)


def _probe(name: str) -> None:
    """Fails fast, naming the download that cannot happen, when the network is unreachable."""
    try:
        socket.create_connection(PROBE, timeout=PROBE_SECONDS).close()
    except OSError as exc:
        raise DataError(Problem("data.source", f"could not download TensorFlow Datasets {name!r}: "
                                f"{PROBE[0]} cannot be reached ({exc.strerror or exc}). This "
                                "machine may be offline: download it elsewhere into TFDS' data "
                                "folder (~/tensorflow_datasets, or $TFDS_DATA_DIR) and copy that "
                                "here, or save arrays with numpy.savez and use source: npz"
                                )) from None


def _scaled(x: np.ndarray) -> np.ndarray:
    return x.astype("float32") / 255.0 if x.dtype == np.uint8 else x
