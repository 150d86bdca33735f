"""Public names for the private hooks of two Keras callbacks that dlkit builds on.

No public API for either. Checked on: Keras 3.0-3.15.1. Tests: ``tests/test_compat.py``
(a subclass's hooks are called by `fit`, and a restored backup makes `fit` start at its epoch;
the TensorBoard hooks exist and act as named).

`BackupAndRestoreHooks`: Keras' `BackupAndRestore` saves through ``_save_model``, restores
through ``_load_model``, counts in ``_current_epoch`` and ``_last_batch_seen``, and makes
`fit` start at a later epoch by setting the model's ``_initial_epoch`` (read by `fit` after
``on_train_begin``; never reset by `fit`). dlkit's `Backup` overrides the saving and loading under public names.

`TensorBoardHooks`: Keras' `TensorBoard` keeps whether it traces batches in ``_should_trace``,
writes the train graph through ``_write_keras_model_train_graph`` once
``_should_write_train_graph`` says so, and closes its test-time writer with ``_pop_writer``.
"""

from __future__ import annotations

import keras


class BackupAndRestoreHooks(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` with its private hooks under public names."""

    def save_backup(self) -> None:
        """Writes the backup; Keras calls it (as ``_save_model``) when it is time to save."""
        super()._save_model()

    def load_backup(self) -> None:
        """Restores the backup; Keras calls it (as ``_load_model``) when training begins."""
        super()._load_model()

    def _save_model(self) -> None:
        self.save_backup()

    def _load_model(self) -> None:
        self.load_backup()

    @property
    def epochs_done(self) -> int:
        """How many epochs the next save records as finished."""
        return self._current_epoch

    @property
    def batches_done(self) -> int:
        """How many batches of the current epoch the next save records."""
        return self._last_batch_seen

    def finish_epoch(self, epoch: int) -> None:
        """Counts 0-based `epoch` as finished, as Keras' ``on_epoch_end`` does."""
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0


def set_initial_epoch(model: keras.Model, epoch: int) -> None:
    """Makes the `fit` that is starting begin at 0-based `epoch`, as `BackupAndRestore` does."""
    model._initial_epoch = epoch


def initial_epoch_of(model: keras.Model) -> int | None:
    """The first epoch a restored backup set for `model`'s `fit` (`set_initial_epoch`), or
    None: what a callback that restores into one model must pass on to another it trains."""
    return model._initial_epoch


class TensorBoardHooks(keras.callbacks.TensorBoard):
    """`keras.callbacks.TensorBoard` with its private state and steps under public names."""

    @property
    def traces_batches(self) -> bool:
        """Whether it profiles batches (``profile_batch``)."""
        return bool(self._should_trace)

    def write_train_graph_once(self) -> None:
        """Writes the model's train graph, if Keras still owes it (at most once)."""
        if self._should_write_train_graph:
            self._write_keras_model_train_graph()
            self._should_write_train_graph = False

    def close_test_writer(self) -> None:
        """Leaves evaluation as Keras' ``on_test_end`` does, writing nothing."""
        self._pop_writer()
