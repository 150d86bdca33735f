"""`dlkit.callbacks`: early-stopping semantics, checkpoints, logs, and settings checked."""

import copy
import json

import keras
import numpy as np
import pytest

import dlkit
from conftest import MLP, drive, tiny_model
from dlkit._callbacks.runlog import RunLog


def spec_with(**callbacks):
    spec = copy.deepcopy(MLP)
    spec["callbacks"] = callbacks
    return spec


def by_type(cbs, cls):
    return next(c for c in cbs if isinstance(c, cls))


def test_early_stopping_restores_the_best_epochs_weights(tmp_path):
    cbs = dlkit.callbacks(spec_with(early_stopping={"monitor": "val_loss", "patience": 2},
                                    tensorboard=False), log_dir=tmp_path, verbose=False)
    stopping, run_log = by_type(cbs, keras.callbacks.EarlyStopping), by_type(cbs, RunLog)
    model = tiny_model()
    last = drive([stopping, run_log], model, [0.9, 0.7, 0.5, 0.6, 0.55, 0.8, 0.4])
    assert last == 4  # two epochs without improvement after the best, epoch index 2
    assert float(model.layers[0].kernel.numpy()[0, 0]) == 2.0  # the best epoch's weights
    [event] = json.loads((tmp_path / "history.json").read_text())["events"]
    assert event["kind"] == "early_stopping" and event["epoch"] == 5
    assert "best was epoch 3 (val_loss 0.5), whose weights were restored" in event["message"]


def test_early_stopping_can_keep_the_last_weights(tmp_path):
    cbs = dlkit.callbacks(spec_with(early_stopping={"patience": 1, "restore_best_weights": False},
                                    tensorboard=False), log_dir=tmp_path, verbose=False)
    model = tiny_model()
    drive([by_type(cbs, keras.callbacks.EarlyStopping)], model, [0.5, 0.4, 0.6, 0.7])
    assert float(model.layers[0].kernel.numpy()[0, 0]) == 2.0  # where it stopped


def test_checkpoints_best_and_every_epoch(mlp):
    mlp["callbacks"] = {"checkpoint": {}}
    run = dlkit.train(mlp, verbose=0)
    best = keras.saving.load_model(run.log_dir / "checkpoints" / "best.keras")
    assert best.count_params() == run.model.count_params()
    mlp["callbacks"] = {"checkpoint": {"save_best_only": False}}
    run = dlkit.train(mlp, verbose=0)
    assert sorted(p.name for p in (run.log_dir / "checkpoints").iterdir()) == [
        "epoch-001.keras", "epoch-002.keras"]


def test_reduce_lr_on_plateau_and_csv_logger(mlp):
    mlp["train"]["epochs"] = 3
    mlp["callbacks"] = {"reduce_lr_on_plateau": {"monitor": "val_loss", "patience": 0,
                                                 "factor": 0.5, "min_delta": 10.0},
                        "csv_logger": {}}
    run = dlkit.train(mlp, verbose=0)
    assert float(run.model.optimizer.learning_rate) == pytest.approx(1e-3 / 4)  # epochs 2, 3
    rows = (run.log_dir / "history.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,") and len(rows) == 4


@pytest.mark.parametrize("key, settings", [
    ("checkpoint", {"monitor": "val_accuracyy"}),
    ("reduce_lr_on_plateau", {"monitor": "val_los"}),
])
def test_monitors_of_every_callback_are_checked(mlp, key, settings):
    mlp["callbacks"] = {key: settings}
    with pytest.raises(dlkit.SpecError, match=f"callbacks.{key}.monitor: .* will never be logged"):
        dlkit.train(mlp, verbose=0)


def test_callback_settings_are_checked_against_their_classes(mlp):
    mlp["callbacks"] = {"checkpoint": {"filepath": "/tmp/x", "save_best_onl": True},
                        "overfitting": {"patience": 0},
                        "backup": {"backup_dir": "/", "min_interval": -1},
                        "reduce_lr_on_plateau": {"mode": "lowest"}}
    with pytest.raises(dlkit.SpecError) as info:
        dlkit.load_spec(mlp)
    found = {p.path: p.message for p in info.value.errors}
    assert "set by dlkit" in found["callbacks.checkpoint.filepath"]
    assert "did you mean 'save_best_only'" in found["callbacks.checkpoint.save_best_onl"]
    assert ">= 1" in found["callbacks.overfitting.patience"]
    assert "set by dlkit" in found["callbacks.backup.backup_dir"]
    assert "seconds >= 0" in found["callbacks.backup.min_interval"]
    assert "auto, min, max" in found["callbacks.reduce_lr_on_plateau.mode"]


def test_saved_model_holds_the_restored_best_weights(mlp):
    mlp["train"]["epochs"] = 12
    mlp["compile"]["optimizer"] = {"type": "Adam", "learning_rate": 0.05}  # noisy on purpose
    mlp["callbacks"] = {"early_stopping": {"monitor": "val_loss", "patience": 1},
                        "checkpoint": {"monitor": "val_loss", "save_best_only": True}}
    run = dlkit.train(mlp, verbose=0)
    saved = keras.saving.load_model(run.log_dir / "model.keras")
    best = keras.saving.load_model(run.log_dir / "checkpoints" / "best.keras")
    for a, b in zip(saved.get_weights(), best.get_weights()):
        np.testing.assert_array_equal(a, b)
    val = run.history["val_loss"]
    assert len(val) < 12 and int(np.argmin(val)) == len(val) - 2  # stopped; best 1 epoch back
    assert json.loads((run.log_dir / "run.json").read_text())["early_stopping"]["epoch"] == \
        len(val)
    for a, b in zip(run.model.get_weights(), best.get_weights()):  # restored in memory too
        np.testing.assert_array_equal(a, b)

