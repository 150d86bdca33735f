"""keras-team/keras#20585: Keras 3's `model.fit` under `MultiWorkerMirroredStrategy`.

Upstream issue: keras-team/keras#20585 (open as of Keras 3.15). Checked on: Keras 3.0-3.15.1
with TensorFlow 2.16-2.21. Tests: ``tests/test_multi_worker.py`` runs plain Keras on two
processes without the fixes and asserts it still fails (so the day upstream fixes it, a test
says to set `FIXED_IN`), with only the first fix (still fails), and with both (both workers log
identical losses).

Keras 3's TensorFlow trainer fails with more than one worker at two points in
``keras/src/backend/tensorflow/trainer.py``:

1. ``_maybe_symbolic_build`` reduces the first distributed batch, a tuple of `PerReplica`
   values, with ``strategy.reduce("MEAN", ...)``: "Attempt to convert a value
   (PerReplica...) to a Tensor". It only needs the batch's shapes and dtypes, which one
   local replica's values give.
2. ``reduce_per_replica`` reduces the step's logs across workers with
   ``strategy.reduce("MEAN", v, axis=0)``, and the logs are scalars, which have no axis 0.
   A scalar is reduced with ``axis=None``.

(Keras' third gap, `BackupAndRestore` writing every worker into one directory, is dlkit's
`Backup` on the chief only: the other workers write into temporary directories.)
`multi_worker_fixes` applies both while one model trains, and only when the strategy really
spans several workers and the installed Keras is one that needs them; nothing is changed for
any other strategy, model or Keras. Nothing else in dlkit patches Keras.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

import keras
import tensorflow as tf

# --- keras-team/keras#20585 -----------------------------------------------------------------

UPSTREAM_ISSUE = "keras-team/keras#20585"
# The first Keras release that fixes the issue upstream; None while it is open. Set it when
# upstream ships the fix, and the patches stop applying from that release on.
FIXED_IN: tuple[int, int] | None = None
TRAINER_MODULE = "keras.src.backend.tensorflow.trainer"


def keras_needs_fixes(version: str = keras.__version__) -> bool:
    """Keras 3 releases before `FIXED_IN` (all of them so far)."""
    major_minor = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    return major_minor >= (3, 0) and (FIXED_IN is None or major_minor < FIXED_IN)


def spans_workers(strategy: tf.distribute.Strategy) -> bool:
    """A `MultiWorkerMirroredStrategy` with more than one worker in its cluster."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    return bool(strategy.extended._in_multi_worker_mode())  # noqa: SLF001 - as Keras asks


@contextlib.contextmanager
def multi_worker_fixes(model: keras.Model, strategy: tf.distribute.Strategy) -> Iterator[None]:
    """Applies the fixes for `UPSTREAM_ISSUE` to `model` while the block runs, if needed."""
    if not (spans_workers(strategy) and keras_needs_fixes()):
        yield
        return
    trainer = importlib.import_module(TRAINER_MODULE)
    original_reduce = trainer.reduce_per_replica
    trainer.reduce_per_replica = _reduce_scalars_without_axis(original_reduce)
    model._maybe_symbolic_build = _symbolic_build_from_one_replica(model)  # noqa: SLF001
    try:
        yield
    finally:
        trainer.reduce_per_replica = original_reduce
        del model._maybe_symbolic_build  # noqa: SLF001 - the class's method again


def _symbolic_build_from_one_replica(model: keras.Model) -> Any:
    """Fix 1 of keras-team/keras#20585: build from one local replica's batch."""

    def _maybe_symbolic_build(iterator: Any = None, data_batch: Any = None) -> None:
        strategy = model.distribute_strategy
        if iterator is not None:
            for _, _, distributed in iterator:
                data_batch = keras.tree.map_structure(
                    lambda value: strategy.experimental_local_results(value)[0]
                    if isinstance(value, tf.distribute.DistributedValues) else value,
                    next(distributed))
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)  # noqa: SLF001 - Keras' own step

    return _maybe_symbolic_build


def _reduce_scalars_without_axis(original: Any) -> Any:
    """Fix 2 of keras-team/keras#20585: a mean across workers of scalars uses axis=None."""

    def reduce_per_replica(values: Any, strategy: tf.distribute.Strategy,
                           reduction: str) -> Any:
        if reduction not in ("auto", "mean") or not spans_workers(strategy):
            return original(values, strategy, reduction)

        def mean(value: Any) -> Any:
            local = strategy.experimental_local_results(value)[0] \
                if isinstance(value, tf.distribute.DistributedValues) else value
            return strategy.reduce("MEAN", value, axis=None if local.shape.rank == 0 else 0)

        return keras.tree.map_structure(mean, values)

    return reduce_per_replica
