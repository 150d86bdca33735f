"""Each entry of `dlkit._compat` does what it names on the installed TensorFlow, Keras,
TensorBoard and KerasTuner: a test here fails the day an upstream release moves what an entry reaches into.
(The keras-team/keras#20585 fixes are tested in ``test_multi_worker.py``.)"""

import keras
import numpy as np
import tensorflow as tf

from conftest import python, tiny_model
from dlkit._compat import callbacks as hooks
from dlkit._compat.registry import registry_names
from dlkit._compat.tensorboard import write_session_starts


def test_registry_names_include_the_aliases():
    # Aliases that Keras' `get` accepts but its public namespaces do not export.
    assert not hasattr(keras.losses, "mse") and not hasattr(keras.optimizers, "adam")
    assert {"mse", "kld", "mae"} <= set(registry_names(keras.losses))
    assert "adam" in registry_names(keras.optimizers)
    assert "glorot_uniform" in registry_names(keras.initializers)


def test_tensorflow_started_turns_true_with_the_first_op():
    result = python("import tensorflow as tf\n"
                    "from dlkit._compat.context import tensorflow_started\n"
                    "before = tensorflow_started()\n"
                    "tf.constant(1.0) + 1.0\n"
                    "print(before, tensorflow_started())\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "True"]


class Recorder(hooks.BackupAndRestoreHooks):
    """Records when Keras saves and loads through the hooks' public names."""

    def __init__(self, backup_dir, start_at=None):
        super().__init__(backup_dir)
        self.saved, self.loaded, self.start_at = [], 0, start_at

    def save_backup(self):
        self.saved.append(self.epochs_done)

    def load_backup(self):
        self.loaded += 1
        if self.start_at is not None:
            hooks.set_initial_epoch(self.model, self.start_at)


def test_backup_hooks_are_called_by_fit_and_set_its_first_epoch(tmp_path):
    x, y = np.ones((8, 1)), np.ones((8, 1))
    seen = []
    spy = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(epoch))
    recorder = Recorder(str(tmp_path), start_at=2)
    tiny_model().fit(x, y, epochs=4, verbose=0, callbacks=[recorder, spy])
    assert recorder.loaded == 1 and recorder.saved == [3, 4]  # epochs 3 and 4 ran
    assert seen == [2, 3]
    assert hooks.initial_epoch_of(recorder.model) == 2
    assert hooks.initial_epoch_of(tiny_model()) is None
    recorder.finish_epoch(6)
    assert recorder.epochs_done == 7 and recorder.batches_done == 0


def test_tensorboard_hooks_read_and_act_on_keras_state(tmp_path):
    assert hooks.TensorBoardHooks(log_dir=str(tmp_path / "a"), profile_batch=2).traces_batches
    board = hooks.TensorBoardHooks(log_dir=str(tmp_path / "b"), write_graph=True)
    assert not board.traces_batches
    model = tiny_model()
    model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=1, verbose=0)
    board.set_model(model)
    board.on_train_begin()
    written = []
    board._write_keras_model_train_graph = lambda: written.append(1)  # Keras' own, counted
    assert board._should_write_train_graph
    board.write_train_graph_once()
    board.write_train_graph_once()  # at most once
    assert written == [1] and not board._should_write_train_graph
    board.on_train_end()
    per_batch = hooks.TensorBoardHooks(log_dir=str(tmp_path / "c"), update_freq=10)
    per_batch.set_model(model)
    per_batch.on_train_begin()
    depth = len(per_batch._prev_summary_state)
    per_batch.on_test_begin()  # Keras pushes the validation writer ...
    assert len(per_batch._prev_summary_state) == depth + 1
    per_batch.close_test_writer()  # ... and this pops it, writing nothing
    assert len(per_batch._prev_summary_state) == depth
    per_batch.on_train_end()


def test_session_start_events_make_tensorboard_drop_repeated_steps(tmp_path):
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

    def write(steps, value):
        with tf.summary.create_file_writer(str(tmp_path)).as_default() as writer:
            for step in steps:
                tf.summary.scalar("epoch_loss", value, step=step)
            writer.flush()

    write(range(4), 1.0)
    import time

    time.sleep(1.1)  # event files are read in name order, and names carry the second
    write_session_starts(tmp_path, [0, 2], suffix=".restart")
    time.sleep(1.1)
    write(range(2, 5), 2.0)
    accumulator = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    accumulator.Reload()
    events = accumulator.Tensors("epoch_loss")
    assert [e.step for e in events] == [0, 1, 2, 3, 4]
    assert [tf.make_ndarray(e.tensor_proto).item() for e in events] == [1.0, 1.0, 2.0, 2.0, 2.0]


def test_metric_direction_reads_keras_own_choice():
    from dlkit._compat.metrics import metric_direction

    assert metric_direction(keras.metrics.SparseCategoricalAccuracy()) == "max"
    assert metric_direction(keras.metrics.AUC()) == "max"
    assert metric_direction(keras.metrics.MeanAbsoluteError()) == "min"
    assert metric_direction(keras.metrics.MeanMetricWrapper(keras.losses.mean_squared_error)) \
        == "min"
    assert metric_direction(object()) is None


def one_value_oracle(max_trials=2):
    """A KerasTuner random-search oracle over one integer."""
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    hp.Int("units", 8, 64, step=8)
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("score", "max"), max_trials=max_trials,
        hyperparameters=hp, seed=1)
    return oracle


def test_keras_tuner_oracle_server_answers_a_worker_and_reports_its_calls(tmp_path,
                                                                          monkeypatch):
    from keras_tuner.engine.base_tuner import BaseTuner
    from keras_tuner.src.distribute.oracle_client import OracleClient

    from dlkit._compat.keras_tuner import serve_oracle

    oracle = one_value_oracle()
    BaseTuner(oracle, directory=str(tmp_path), project_name="chief")  # sets its folder
    heard = []
    server, servicer, port = serve_oracle(oracle, "127.0.0.1:0",
                                          lambda kind, key: heard.append((kind, key)))
    try:
        monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
        monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
        monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
        client = OracleClient(one_value_oracle())  # KerasTuner's own worker side
        trial = client.create_trial("tuner0")
        client.get_trial(trial.trial_id)
        client.update_trial(trial.trial_id, {"score": 0.5})
        trial.status = "COMPLETED"
        client.end_trial(trial)
        assert heard == [("tuner", "tuner0"), ("trial", trial.trial_id),
                         ("trial", trial.trial_id), ("trial", trial.trial_id)]
        assert oracle.get_trial(trial.trial_id).score == 0.5
        assert not servicer.stop_triggered
    finally:
        server.stop(0)


def test_keras_tuner_failed_trial_tracebacks_can_be_turned_off(tmp_path, capsys):
    from keras_tuner.engine.base_tuner import BaseTuner
    from keras_tuner.errors import FailedTrialError

    from dlkit._compat.keras_tuner import failed_trial_tracebacks_off

    class Failing(BaseTuner):
        def run_trial(self, trial, *args, **kwargs):
            raise FailedTrialError("no good")

    def search(folder):
        oracle = one_value_oracle(max_trials=1)
        oracle.verbose = 0
        Failing(oracle, directory=str(tmp_path), project_name=folder).search()
        return capsys.readouterr().err

    assert "Traceback" in search("loud")  # what KerasTuner does by itself
    with failed_trial_tracebacks_off():
        assert "Traceback" not in search("quiet")
    assert "Traceback" in search("loud-again")


def test_custom_gradients_registered_while_training_are_released():
    import gc

    from tensorflow.python.framework import ops

    from dlkit._compat.gradients import PREFIX, custom_gradients_released

    def registered():
        return {name for name in ops._gradient_registry._registry if name.startswith(PREFIX)}

    def graphs_alive():
        gc.collect()
        return sum(type(o).__name__.endswith("FuncGraph") for o in gc.get_objects())

    def fit_one():
        keras.backend.clear_session()
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(np.ones((8, 4)), np.zeros(8), epochs=1, verbose=0)
        del model
        keras.backend.clear_session()

    fit_one()  # Keras' own first-use state
    names, graphs = registered(), graphs_alive()
    fit_one()  # TensorFlow by itself: the model is gone, its graphs stay, held by the registry
    assert registered() > names and graphs_alive() > graphs, \
        "TensorFlow no longer keeps a trained model's graphs: drop this entry"
    names, graphs = registered(), graphs_alive()
    with custom_gradients_released():
        fit_one()
    assert registered() == names  # what the block registered is gone, nothing else
    assert graphs_alive() <= graphs  # and its graphs with it
