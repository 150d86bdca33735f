"""The data of a model that learns from samples alone (an autoencoder, a VAE, a GAN): the
samples ``x`` are the target (``fit(x, x)``), and labels, where the data has them, are unused.

Validation samples are held out as for a stack of layers (the same seeded split). An autoencoder
needs them: its anomaly threshold is chosen on their scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from dlkit._core.errors import DataError, Problem
from dlkit._data.arrays import Arrays, as_targets
from dlkit._data.stream import Stream
from dlkit._plan.callbacks import check_monitors
from dlkit._plan.plan import Plan
from dlkit._train.fitdata import load_data

WHO = {"autoencoder": "an autoencoder", "vae": "a VAE", "gan": "a GAN"}


def labels_note(plan: Plan, loaded: Any) -> str | None:
    """The note a run prints when it leaves the data's labels unused; None for a model that
    learns from labels, or data without any.

    Raises:
        DataError: a source streamed from files, which these models do not read yet.
    """
    if plan.model.supervised:
        return None
    if isinstance(loaded, Stream):
        raise DataError(Problem("data.source", f"{WHO[plan.model.kind]} trains on samples held "
                                f"in memory; source {plan.data['source']} streams from files. "
                                "Load them into an npz file (array x) and use source: npz"))
    if isinstance(loaded, Arrays) and loaded.y is not None:
        return (f"the data's labels (y) are not used: {WHO[plan.model.kind]} learns from the "
                "samples (x) alone")
    return None


def unlabeled_fit_arguments(plan: Plan, data: Any) -> dict[str, Any]:
    """`model.fit`'s data arguments: the samples as input and target, validation held out.

    Args:
        data: as `load_data` takes it, or what it returned (not a `Stream`).

    Raises:
        DataError: an autoencoder left without validation samples (``validation_split: 0``
            and no ``x_val``).
        SpecError: a monitor the run will never log.
    """
    arrays = data if isinstance(data, Arrays) else load_data(plan, data)
    if isinstance(arrays, tf.data.Dataset):  # the user's batches: x, or (x, y)
        return {"x": arrays.map(lambda *batch: (batch[0], batch[0])), "shuffle": False}
    arrays = as_targets(arrays, (plan.data or {}).get("validation_split", 0.2), plan.seed)
    x, x_val = arrays.x, arrays.x_val
    if x_val is None and plan.model.autoencoder is not None:
        raise DataError(Problem("data.validation_split", "an autoencoder chooses its anomaly "
                                "threshold on validation samples: hold some out "
                                "(validation_split: 0.2) or give x_val"))
    check_monitors(plan.compile.metric_names, plan.callbacks, losses=plan.compile.losses,
                   has_validation=x_val is not None)
    x = np.asarray(x)
    batch = plan.fit.batch_size
    return {"x": x, "y": x, "shuffle": plan.fit.shuffle,
            "batch_size": len(x) if batch == "full" else batch,
            "validation_data": None if x_val is None else (np.asarray(x_val),) * 2}
