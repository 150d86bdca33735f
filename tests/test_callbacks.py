"""Callbacks: early-stopping semantics, guards, checkpoints, logs, and bad paths."""

import copy
import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import dlkit
from conftest import MLP
from dlkit._guards import OverfittingMonitor
from dlkit._runlog import RunLog


def spec_with(**callbacks):
    spec = copy.deepcopy(MLP)
    spec["callbacks"] = callbacks
    return spec


def by_type(cbs, cls):
    return next(c for c in cbs if isinstance(c, cls))


def tiny_model():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def drive(cbs, model, val_losses, losses=None):
    """Runs epoch callbacks over a synthetic loss sequence; the kernel holds the epoch number."""
    losses = losses or val_losses
    for callback in cbs:
        callback.set_model(model)
        callback.on_train_begin()
    last = None
    for epoch, (loss, val_loss) in enumerate(zip(losses, val_losses)):
        last = epoch
        model.layers[0].kernel.assign([[float(epoch)]])
        for callback in cbs:
            callback.on_epoch_end(epoch, {"loss": loss, "val_loss": val_loss})
        if model.stop_training:
            break
    for callback in cbs:
        callback.on_train_end()
    return last


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


def test_tensorboard_gets_events_text_and_pictures(mlp):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    mlp["train"]["epochs"] = 4
    mlp["compile"]["optimizer"] = {"type": "SGD", "learning_rate": 1e-9}
    mlp["callbacks"] = {"early_stopping": {"patience": 1, "min_delta": 1.0}}
    run = dlkit.train(mlp, verbose=0)
    accumulator = EventAccumulator(str(run.log_dir), size_guidance={"tensors": 0})
    accumulator.Reload()
    tags = accumulator.Tags()["tensors"]
    assert {"dlkit/early_stopping", "dlkit/learning_curve", "dlkit/confusion_matrix"} <= set(tags)
    [text] = accumulator.Tensors("dlkit/early_stopping")
    assert b"early stopping at epoch 2" in tf.make_ndarray(text.tensor_proto).item()
    [image] = accumulator.Tensors("dlkit/confusion_matrix")
    width, height = (int(v) for v in tf.make_ndarray(image.tensor_proto)[:2])
    assert width > 100 and height > 100
    assert (run.log_dir / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"


def test_no_confusion_matrix_for_regression(log_root):
    spec = {"name": "reg", "data": {"source": "sine", "samples": 64},
            "model": {"input_shape": [5, 1], "layers": [{"type": "SimpleRNN", "units": 4},
                                                         {"type": "Dense", "units": 1}]},
            "compile": {"loss": "mse"}, "train": {"epochs": 1}}
    run = dlkit.train(spec, verbose=0)
    assert (run.log_dir / "learning_curve.png").exists()
    assert not (run.log_dir / "confusion_matrix.png").exists()


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


def test_an_unwritable_log_root_is_a_clear_error(mlp, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(dlkit.SpecError, match="cannot create a run directory under .*a-file"):
        dlkit.train(mlp, logdir=blocker / "logs", verbose=0)
    assert blocker.read_text() == "not a folder"


class Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise KeyboardInterrupt


def test_a_corrupt_backup_on_resume_is_refused_and_nothing_is_deleted(mlp, log_root):
    mlp["callbacks"] = {"backup": {"min_interval": 0}}  # a backup at every epoch's end
    with pytest.raises(KeyboardInterrupt):
        dlkit.train(mlp, callbacks=[Interrupt()], verbose=0)
    [run_dir] = (log_root / "tiny-mlp").iterdir()
    weights = run_dir / "backup" / "epoch-000001.weights.h5"
    weights.write_bytes(b"garbage")
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    with pytest.raises(dlkit.SpecError, match=r"--resume: the backup .*epoch-000001.weights.h5 "
                       r"cannot be read .*nothing was changed or deleted"):
        dlkit.train(mlp, resume=True, verbose=0)
    after = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    assert after == before


def test_backup_saves_at_most_once_per_interval(tmp_path):
    from dlkit._backup import Backup

    model = tiny_model()
    saves = []
    for interval, expected in ((0, [1, 2, 3]), (3600, [])):
        backup = Backup(str(tmp_path / f"b{interval}"), min_interval=interval)
        backup.set_model(model)
        backup.on_train_begin()  # the interval counts from here: a crash loses less than it
        backup._save_model = lambda b=backup: saves.append(b._current_epoch)
        for epoch in range(3):
            backup.on_epoch_end(epoch)
        assert saves == expected
        saves.clear()


def test_backup_spends_at_most_a_twentieth_of_the_time_saving(tmp_path):
    import time

    from dlkit._backup import Backup

    backup = Backup(str(tmp_path / "b"), min_interval=0.01)
    backup.set_model(tiny_model())
    saves = []

    def slow_save():
        saves.append(backup._current_epoch)
        time.sleep(0.05)  # a save this slow may come at most once a second

    backup._save_model = slow_save
    for epoch in range(4):
        time.sleep(0.02)
        backup.on_epoch_end(epoch)
    assert saves == [1]
    time.sleep(1.0)
    backup.on_epoch_end(4)
    assert saves == [1, 5]


def test_epoch_tensorboard_does_no_batch_work_only_when_logging_per_epoch(tmp_path):
    from dlkit._report import EpochTensorBoard

    noop = keras.callbacks.Callback.on_train_batch_end
    assert EpochTensorBoard(log_dir=str(tmp_path)).on_train_batch_end.__func__ is noop
    assert EpochTensorBoard(log_dir=str(tmp_path), update_freq=10).on_train_batch_end.__func__ \
        is keras.callbacks.TensorBoard.on_train_batch_end
    assert EpochTensorBoard(log_dir=str(tmp_path), profile_batch=2).on_train_batch_end.__func__ \
        is not noop


def test_epoch_tensorboard_writes_what_keras_writes(mlp, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from dlkit._report import EpochTensorBoard

    model = dlkit.build(mlp)
    x, y = np.random.default_rng(0).random((64, 64)), np.arange(64) % 10
    tags = {}
    for name, cls in (("ours", EpochTensorBoard), ("keras", keras.callbacks.TensorBoard)):
        model.fit(x, y, epochs=2, validation_split=0.25, verbose=0,
                  callbacks=[cls(log_dir=str(tmp_path / name))])
        for folder in ("train", "validation"):
            accumulator = EventAccumulator(str(tmp_path / name / folder))
            accumulator.Reload()
            tags[name, folder] = sorted(accumulator.Tags()["tensors"])
    assert tags["ours", "train"] == tags["keras", "train"]
    assert "epoch_loss" in tags["ours", "train"] and "keras" in tags["ours", "train"]
    keras_epoch_tags = [t for t in tags["keras", "validation"] if "_vs_iterations" not in t]
    assert tags["ours", "validation"] == keras_epoch_tags == ["epoch_accuracy", "epoch_loss"]


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


def test_restart_marker_drops_the_epochs_a_resumed_run_repeats(tmp_path):
    # The accumulator the TensorBoard server uses (the older event_accumulator never purges
    # tensor summaries, which is what tf.summary.scalar writes in TF2).
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

    from dlkit._report import mark_restart

    (tmp_path / "train").mkdir()

    def write(steps, value):
        with tf.summary.create_file_writer(str(tmp_path / "train")).as_default() as writer:
            for step in steps:
                tf.summary.scalar("epoch_loss", value, step=step)
            writer.flush()

    write(range(6), 1.0)  # the killed process got to epoch 5; its backup holds 3 epochs
    mark_restart(tmp_path, epoch=3)
    write(range(3, 7), 2.0)  # the resumed process repeats epochs 3, 4, 5, then dies again
    mark_restart(tmp_path, epoch=5)
    write(range(5, 8), 3.0)  # a second resume
    accumulator = EventAccumulator(str(tmp_path / "train"), size_guidance={"tensors": 0})
    accumulator.Reload()
    events = accumulator.Tensors("epoch_loss")
    assert [e.step for e in events] == list(range(8))
    assert [tf.make_ndarray(e.tensor_proto).item() for e in events] == \
        [1.0] * 3 + [2.0] * 2 + [3.0] * 3


def test_deterministic_runs_are_bitwise_identical(mlp, log_root):
    mlp.update(deterministic=True, seed=3)
    mlp["model"]["layers"].insert(1, {"type": "Dropout", "rate": 0.3})
    first = dlkit.train(mlp, verbose=0).model.get_weights()
    second = dlkit.train(mlp, verbose=0).model.get_weights()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    mlp["seed"] = 4
    third = dlkit.train(mlp, verbose=0).model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(first, third))


def test_a_backup_killed_mid_save_still_restores_a_matching_epoch(tmp_path):
    """The save commits by renaming the metadata: weights and epoch always belong together."""
    from dlkit._backup import Backup, backup_epoch, backup_weights

    model = tiny_model()
    backup = Backup(str(tmp_path), min_interval=0)
    backup.set_model(model)
    model.layers[0].kernel.assign([[1.0]])
    backup.on_epoch_end(0)
    original_save_weights = model.save_weights

    def die_halfway(path, overwrite=True):
        Path(path).write_bytes(b"\x89HDF half")
        raise KeyboardInterrupt

    model.save_weights = die_halfway
    model.layers[0].kernel.assign([[2.0]])
    with pytest.raises(KeyboardInterrupt):
        backup.on_epoch_end(1)
    model.save_weights = original_save_weights
    assert backup_epoch(tmp_path) == 1
    assert [p.name for p in tmp_path.glob("*.weights.h5")] == ["epoch-000001.weights.h5"]
    restored = tiny_model()
    restored.load_weights(backup_weights(tmp_path))
    assert float(restored.layers[0].kernel.numpy()[0, 0]) == 1.0
