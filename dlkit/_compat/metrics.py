"""Which way a metric improves (read-only).

No public API: a Keras metric records whether higher or lower is better in its private
``_direction`` ("up" or "down"), which `keras.callbacks.EarlyStopping` and `ModelCheckpoint`
read to choose ``mode="auto"``. They look metrics up by their plain name (``accuracy``), so for
a model of several outputs, whose logs say ``label_accuracy``, Keras cannot choose and raises;
dlkit chooses the mode from the same attribute instead. Checked on: Keras 3.0-3.15.1. Test:
``tests/test_compat.py::test_metric_direction_reads_keras_own_choice`` fails when it moves.
"""

from __future__ import annotations

from typing import Any


def metric_direction(metric: Any) -> str | None:
    """``"max"`` for a metric that improves upward, ``"min"`` downward, None when unknown."""
    return {"up": "max", "down": "min"}.get(getattr(metric, "_direction", None))
