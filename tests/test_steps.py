"""`runtime.steps_per_execution`: several small batches per call into TensorFlow."""

import warnings

import tensorflow as tf

import dlkit
from dlkit._runtime import steps as _runtime


def dense_spec(inputs, hidden, batch, steps="auto"):
    return {"model": {"input_shape": [inputs], "layers": [
                *[{"type": "Dense", "units": u, "activation": "relu"} for u in hidden],
                {"type": "Dense", "units": 10, "activation": "softmax"}]},
            "compile": {"loss": "sparse_categorical_crossentropy"},
            "train": {"batch_size": batch}, "runtime": {"steps_per_execution": steps}}


def test_small_models_run_several_steps_per_call_and_large_ones_one():
    small = dlkit.build(dense_spec(784, [256, 128], 128)).steps_per_execution
    wide = dlkit.build(dense_spec(2048, [2048, 2048], 512)).steps_per_execution
    tiny = dlkit.build(dense_spec(64, [16], 64)).steps_per_execution
    assert 8 <= small <= 64 and wide == 1 and tiny == _runtime.MAX_STEPS
    assert dlkit.build(dense_spec(784, [256, 128], "full")).steps_per_execution == 1
    assert dlkit.build(dense_spec(784, [256, 128], 128, steps=3)).steps_per_execution == 3


def test_convolutions_count_their_work_at_every_position():
    def conv(size):
        return dlkit.build({"model": {"input_shape": [size, size, 3], "layers": [
            {"type": "Conv2D", "filters": 64, "kernel_size": 3, "padding": "same"},
            {"type": "GlobalAveragePooling2D"}, {"type": "Dense", "units": 10}]},
            "compile": {"loss": "mse"}, "train": {"batch_size": 64}}).steps_per_execution

    assert conv(8) > conv(32) > conv(128) == 1  # same weights, more positions


def test_several_steps_per_call_train_the_same_weights_as_one(mlp):
    """23 batches an epoch, 7 a call: each epoch must still end at its own last batch (Keras
    runs a call on into the next epoch's batches when one stream holds every epoch)."""
    weights = []
    for steps in (1, 7):
        mlp["runtime"] = {"steps_per_execution": steps, "precision": "float32"}
        mlp["callbacks"] = {"tensorboard": False, "backup": False}
        mlp["deterministic"] = True
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = dlkit.train(mlp, verbose=0)
        assert not [w for w in caught if "ran out of data" in str(w.message)]
        assert len(run.history["loss"]) == 2
        weights.append(run.model.get_weights())
    for a, b in zip(*weights):
        tf.debugging.assert_equal(a, b)
