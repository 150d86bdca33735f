"""`dlkit.train`: the run directory, data inputs, batch sizes, failures and resume."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import dlkit


def read_scalars(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return {tag: [tf.make_ndarray(e.tensor_proto).item() for e in accumulator.Tensors(tag)]
            for tag in accumulator.Tags()["tensors"]}


def test_run_directory_is_complete_and_readable(mlp, log_root):
    run = dlkit.train(mlp, verbose=0)
    assert run.log_dir.parent == log_root / "tiny-mlp"
    assert len(run.log_dir.name) == len("20260101-120000")
    names = {p.name for p in run.log_dir.iterdir()}
    assert {"spec.yaml", "model.keras", "history.json", "run.json", "train", "validation",
            "learning_curve.png", "confusion_matrix.png"} <= names
    assert not any(name.startswith(".") for name in names), names  # no temporary files left

    assert dlkit.load_spec(run.log_dir / "spec.yaml") == dlkit.load_spec(mlp)
    history = json.loads((run.log_dir / "history.json").read_text())["metrics"]
    assert history == run.history
    assert len(history["loss"]) == len(history["val_accuracy"]) == 2
    status = json.loads((run.log_dir / "run.json").read_text())
    assert status["status"] == "finished" and status["epochs_run"] == 2

    loaded = keras.saving.load_model(run.log_dir / "model.keras", safe_mode=True)
    x = np.random.default_rng(0).random((4, 64)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), run.model.predict(x, verbose=0))

    train_scalars = read_scalars(run.log_dir / "train")
    val_scalars = read_scalars(run.log_dir / "validation")
    np.testing.assert_allclose(train_scalars["epoch_loss"], history["loss"], rtol=1e-6)
    np.testing.assert_allclose(val_scalars["epoch_loss"], history["val_loss"], rtol=1e-6)


def test_the_run_keeps_the_weights_before_the_first_step(mlp):
    class FirstWeights(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.weights = self.model.get_weights()

    first = FirstWeights()
    run = dlkit.train(mlp, callbacks=[first], verbose=0)
    reader = dlkit.build(mlp)
    reader.load_weights(run.log_dir / "initial.weights.h5")
    for saved, seen in zip(reader.get_weights(), first.weights, strict=True):
        np.testing.assert_array_equal(saved, seen)
    assert not np.allclose(reader.get_weights()[0], run.model.get_weights()[0])  # trained since


def test_training_learns_the_digits(mlp):
    mlp["train"]["epochs"] = 15
    run = dlkit.train(mlp, verbose=0)
    assert run.history["val_accuracy"][-1] > 0.85


def test_arrays_and_datasets_can_be_passed_in(mlp):
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 64)).astype("float32"), rng.integers(0, 10, 40)
    run = dlkit.train(mlp, data=(x, y), verbose=0)
    assert len(run.history["val_loss"]) == 2
    run = dlkit.train(mlp, data=(x, y, x[:8], y[:8]), verbose=0)
    assert len(run.history["val_loss"]) == 2
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    run = dlkit.train(mlp, data=dataset, verbose=0)
    assert "val_loss" not in run.history and len(run.history["loss"]) == 2


@pytest.mark.parametrize("batch_size, steps_per_epoch", [("full", 1), (1, 32), (10, 4)])
def test_batch_sizes_give_batch_stochastic_and_mini_batch_descent(mlp, batch_size,
                                                                   steps_per_epoch):
    mlp["train"]["batch_size"] = batch_size
    mlp["data"] = {"source": "moons", "samples": 40, "validation_split": 0.2}
    mlp["model"]["input_shape"] = [2]
    mlp["model"]["layers"][-1] = {"type": "Dense", "units": 2, "activation": "softmax"}
    run = dlkit.train(mlp, verbose=0)
    assert int(run.model.optimizer.iterations) == 2 * steps_per_epoch


def test_data_that_does_not_fit_writes_nothing(mlp, log_root):
    mlp["model"]["layers"][-1] = {"type": "Dense", "units": 1, "activation": "sigmoid"}
    mlp["compile"]["loss"] = "binary_crossentropy"
    with pytest.raises(dlkit.DataError, match="y takes 10 distinct values"):
        dlkit.train(mlp, verbose=0)
    assert not log_root.exists()


def test_a_monitor_that_is_never_logged_is_caught_before_training(mlp, log_root):
    mlp["callbacks"] = {"early_stopping": {"monitor": "val_acuracy"}}
    with pytest.raises(dlkit.SpecError, match=r"'val_acuracy' will never be logged; this run "
                       r"logs: loss, accuracy, val_loss, val_accuracy"):
        dlkit.train(mlp, verbose=0)
    mlp["callbacks"] = {"early_stopping": {"monitor": "val_loss"}}
    mlp["data"]["validation_split"] = None
    with pytest.raises(dlkit.SpecError, match="there is no validation data"):
        dlkit.train(mlp, verbose=0)
    assert not log_root.exists()


def test_early_stopping_is_recorded(mlp):
    mlp["train"]["epochs"] = 30
    mlp["compile"]["optimizer"] = {"type": "SGD", "learning_rate": 1e-9}  # nothing improves
    mlp["callbacks"] = {"early_stopping": {"monitor": "val_loss", "patience": 1,
                                           "min_delta": 1.0}}
    run = dlkit.train(mlp, verbose=0)
    status = json.loads((run.log_dir / "run.json").read_text())
    assert len(run.history["loss"]) == 2
    assert status["early_stopping"]["epoch"] == 2
    assert status["early_stopping"]["message"].startswith(
        "early stopping at epoch 2: val_loss did not improve by more than 1 for 1 epoch(s); "
        "best was epoch 1")


def test_divergence_is_a_training_error_and_the_run_is_marked_failed(log_root):
    spec = {"name": "diverge", "data": {"source": "moons", "samples": 64},
            "model": {"input_shape": [2], "layers": [{"type": "Dense", "units": 1}]},
            "compile": {"optimizer": {"type": "SGD", "learning_rate": 1e12}, "loss": "mse"},
            "train": {"epochs": 5, "batch_size": 8}}
    with pytest.raises(dlkit.TrainingError, match=r"the loss became (nan|inf) in epoch \d+, "
                       r"batch(es)? \d+"):
        dlkit.train(spec, verbose=0)
    [run_dir] = (log_root / "diverge").iterdir()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "failed"
    assert not (run_dir / "model.keras").exists()






def test_user_callbacks_see_every_epoch(mlp):
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(epoch)

    dlkit.train(mlp, callbacks=[Spy()], verbose=0)
    assert seen == [0, 1]


def test_dlkit_callbacks_work_in_a_users_own_script(mlp, log_root):
    mlp["callbacks"] = {"early_stopping": {"monitor": "loss", "patience": 2}}
    cbs = dlkit.callbacks(mlp)
    assert [type(c).__name__ for c in cbs] == [
        "NanGuard", "EpochTensorBoard", "HParamsLogger", "EarlyStopping", "OverfittingMonitor",
        "RunLog", "Backup"]
    assert isinstance(cbs[1], keras.callbacks.TensorBoard)
    assert isinstance(cbs[6], keras.callbacks.BackupAndRestore)
    assert cbs[3].restore_best_weights is True
    model = dlkit.build(mlp)
    x, y = np.random.default_rng(0).random((32, 64)), np.arange(32) % 10
    model.fit(x, y, epochs=1, verbose=0, callbacks=cbs)
    [run_dir] = (log_root / "tiny-mlp").iterdir()
    assert (run_dir / "train").is_dir()
    assert len(json.loads((run_dir / "history.json").read_text())["metrics"]["loss"]) == 1
    mlp["callbacks"] = {key: False for key in ("tensorboard", "terminate_on_nan", "backup",
                                               "overfitting")}
    assert [type(c).__name__ for c in dlkit.callbacks(mlp)] == ["RunLog"]
