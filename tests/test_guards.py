"""Guards that watch training: the NaN guard and the overfitting monitor."""

import copy
import json

import keras
import numpy as np
import pytest

import dlkit
from conftest import MLP, drive, tiny_model
from dlkit._callbacks.guards import OverfittingMonitor


def test_overfitting_monitor_reports_once_with_the_epoch_it_began():
    reports = []
    monitor = OverfittingMonitor(patience=3, report=lambda epoch, text: reports.append((epoch,
                                                                                       text)))
    drive([monitor], tiny_model(), val_losses=[1.0, 0.8, 0.7, 0.75, 0.8, 0.9, 1.0, 1.1],
          losses=[1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    assert reports == [(6, "overfitting: since epoch 4, validation loss has risen for 3 epochs "
                           "while training loss kept falling; consider early stopping, dropout "
                           "or a penalty")]


def test_overfitting_monitor_is_quiet_when_both_losses_rise():
    reports = []
    monitor = OverfittingMonitor(patience=2, report=lambda *args: reports.append(args))
    drive([monitor], tiny_model(), val_losses=[1.0, 1.1, 1.2, 1.3], losses=[1.0, 1.1, 1.2, 1.3])
    assert reports == []


class PoisonAt(keras.callbacks.Callback):
    """Sets every weight to NaN when the given epoch begins."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.set_weights([np.full_like(w, np.nan) for w in self.model.get_weights()])


@pytest.mark.parametrize("steps, where", [(1, "batch 1"), (4, "batches 1-4 (run in one call)"),
                                          ("auto", "batches 1-")])
def test_nan_loss_stops_at_once_naming_epoch_and_batch_and_keeps_the_backup(log_root, steps,
                                                                             where):
    spec = copy.deepcopy(MLP)
    spec["train"]["epochs"] = 4
    spec["runtime"] = {"steps_per_execution": steps}
    spec["callbacks"] = {"backup": {"min_interval": 0}}  # a backup at every epoch's end
    with pytest.raises(dlkit.TrainingError) as info:
        dlkit.train(spec, callbacks=[PoisonAt(2)], verbose=0)
    [run_dir] = (log_root / "tiny-mlp").iterdir()
    assert f"the loss became nan in epoch 3, {where}" in str(info.value)
    assert f"The last good backup is from epoch 2, kept in {run_dir / 'backup'}" in str(info.value)
    status = json.loads((run_dir / "run.json").read_text())
    assert status["status"] == "failed" and f"epoch 3, {where}" in status["error"]
    assert not (run_dir / "model.keras").exists()
    model = dlkit.build(spec)
    model.load_weights(run_dir / "backup" / "epoch-000002.weights.h5")
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert len(json.loads((run_dir / "history.json").read_text())["metrics"]["loss"]) == 2

