"""`dlkit.build`: the same model a careful person writes by hand in Keras, or a clear error."""

import keras
import numpy as np
import pytest

import dlkit


def strip_names(value):
    """Layer configs without auto-generated names, which differ between any two models."""
    if isinstance(value, dict):
        return {k: strip_names(v) for k, v in value.items() if k != "name"}
    if isinstance(value, list):
        return [strip_names(v) for v in value]
    return value


def mlp_by_hand():
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(32, activation="relu", kernel_initializer="he_normal",
                           kernel_regularizer=keras.regularizers.L2(1e-3)),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(16, activation=keras.layers.LeakyReLU(negative_slope=0.1),
                           kernel_regularizer=keras.regularizers.L1L2(l1=1e-5, l2=1e-4)),
        keras.layers.Dense(10, activation="softmax", kernel_regularizer=keras.regularizers.L2(1e-3)),
    ])
    optimizer = keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


MLP_SPEC = {
    "model": {"input_shape": [64], "regularization": {"l2": 1e-3}, "layers": [
        {"type": "Dense", "units": 32, "activation": "relu", "kernel_initializer": "he_normal"},
        {"type": "Dropout", "rate": 0.2},
        {"type": "Dense", "units": 16, "activation": {"type": "LeakyReLU", "negative_slope": 0.1},
         "kernel_regularizer": {"type": "L1L2", "l1": 1e-5, "l2": 1e-4}},
        {"type": "Dense", "units": 10, "activation": "softmax"}]},
    "compile": {"optimizer": {"type": "SGD", "learning_rate": 0.05, "momentum": 0.9,
                              "nesterov": True},
                "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
}


def cnn_by_hand():
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu",
                            kernel_initializer="glorot_normal"),
        keras.layers.BatchNormalization(momentum=0.9),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1))
    return model


CNN_SPEC = {
    "model": {"input_shape": [8, 8, 1], "layers": [
        {"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same",
         "activation": "relu", "kernel_initializer": "glorot_normal"},
        {"type": "BatchNormalization", "momentum": 0.9},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 10, "activation": "softmax"}]},
    "compile": {"optimizer": {"type": "Adam", "learning_rate": 3e-3},
                "loss": {"type": "CategoricalCrossentropy", "label_smoothing": 0.1}},
}


def rnn_by_hand():
    model = keras.Sequential([
        keras.Input(shape=(6, 3)),
        keras.layers.GRU(5, return_sequences=True),
        keras.layers.Bidirectional(keras.layers.LSTM(4)),
        keras.layers.Dense(1),
    ])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=5, decay_rate=0.5)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=schedule), loss="huber")
    return model


RNN_SPEC = {
    "model": {"input_shape": [6, 3], "layers": [
        {"type": "GRU", "units": 5, "return_sequences": True},
        {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 4}},
        {"type": "Dense", "units": 1}]},
    "compile": {"optimizer": {"type": "RMSprop", "learning_rate": {
        "type": "ExponentialDecay", "initial_learning_rate": 0.01, "decay_steps": 5,
        "decay_rate": 0.5}}, "loss": "huber"},
}


def sigmoid_by_hand():
    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(8, activation="tanh", kernel_initializer="glorot_uniform"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adagrad(learning_rate=0.1),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


SIGMOID_SPEC = {
    "model": {"input_shape": [2], "layers": [
        {"type": "Dense", "units": 8, "activation": "tanh", "kernel_initializer": "glorot_uniform"},
        {"type": "Dense", "units": 1, "activation": "sigmoid"}]},
    "compile": {"optimizer": {"type": "Adagrad", "learning_rate": 0.1},
                "loss": "binary_crossentropy", "metrics": ["accuracy"]},
}


def data_for(model, count=96):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(count, *model.input_shape[1:])).astype("float32")
    units = model.output_shape[-1]
    if units == 1:
        return x, (rng.uniform(size=(count, 1)) > 0.5).astype("float32")
    labels = rng.integers(0, units, count)
    if isinstance(model.loss, keras.losses.CategoricalCrossentropy):
        return x, np.eye(units, dtype="float32")[labels]
    return x, labels


PAIRS = [(MLP_SPEC, mlp_by_hand), (CNN_SPEC, cnn_by_hand), (RNN_SPEC, rnn_by_hand),
         (SIGMOID_SPEC, sigmoid_by_hand)]


@pytest.mark.parametrize("raw, by_hand", PAIRS, ids=["mlp", "cnn", "rnn", "sigmoid"])
def test_build_is_identical_to_the_hand_written_model(raw, by_hand):
    # float32 as by hand: `precision: auto` may choose bfloat16 on this machine (tested below).
    # steps_per_execution stays auto: running several steps per call changes no number.
    spec = dlkit.load_spec({**raw, "runtime": {"precision": "float32"}})
    keras.utils.set_random_seed(7)
    ours = dlkit.build(spec)
    keras.utils.set_random_seed(7)
    theirs = by_hand()

    assert type(ours) is type(theirs)
    assert [strip_names(layer.get_config()) for layer in ours.layers] == \
        [strip_names(layer.get_config()) for layer in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    assert strip_names(ours.optimizer.get_config()) == strip_names(theirs.optimizer.get_config())
    if isinstance(theirs.loss, str):
        assert ours.loss == theirs.loss
    else:
        assert type(ours.loss) is type(theirs.loss)
        assert ours.loss.get_config() == theirs.loss.get_config()
    for a, b in zip(ours.get_weights(), theirs.get_weights()):  # same seed, same draws
        np.testing.assert_array_equal(a, b)

    x, y = data_for(theirs)
    keras.utils.set_random_seed(3)
    ours.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    keras.utils.set_random_seed(3)
    theirs.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    moved = False
    for a, b, start in zip(ours.get_weights(), theirs.get_weights(),
                           by_hand().get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        moved = moved or not np.allclose(a, start)
    assert moved, "training changed no weight: the comparison proves nothing"


def test_penalties_are_in_the_model_losses():
    model = dlkit.build(MLP_SPEC)
    model(np.zeros((1, 64), "float32"))
    assert len(model.losses) == 3  # two from model.regularization, one of the layer's own
    assert model.layers[0].kernel_regularizer.get_config() == {"l2": pytest.approx(1e-3)}
    assert model.layers[2].kernel_regularizer.get_config() == {"l1": pytest.approx(1e-5),
                                                               "l2": pytest.approx(1e-4)}


@pytest.mark.parametrize("setting, expected", [
    ({"l1": 1e-4}, keras.regularizers.L1), ({"l1": 1e-4, "l2": 1e-3}, keras.regularizers.L1L2),
    ({"type": "L2", "l2": 1e-2}, keras.regularizers.L2)])
def test_model_wide_regularization_forms(setting, expected):
    raw = {"model": {"input_shape": [4], "regularization": setting,
                     "layers": [{"type": "Dense", "units": 2}, {"type": "Dense", "units": 1}]},
           "compile": {"loss": "mse"}}
    model = dlkit.build(raw)
    regularizers = [layer.kernel_regularizer for layer in model.layers]
    assert all(type(r) is expected for r in regularizers)
    assert regularizers[0] is not regularizers[1]


def test_accuracy_means_what_compile_means():
    """`accuracy` with a sparse loss is sparse categorical accuracy, not keras.metrics.Accuracy."""
    model = dlkit.build(MLP_SPEC)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(64, 64)).astype("float32"), rng.integers(0, 10, 64)
    reported = model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"]
    expected = np.mean(np.argmax(model.predict(x, verbose=0), axis=1) == y)
    assert reported == pytest.approx(expected)


def test_stochastic_and_batch_sizes_are_valid_specs():
    for batch in (1, "full", 32):
        spec = dlkit.load_spec({**SIGMOID_SPEC, "train": {"batch_size": batch}})
        assert spec["train"]["batch_size"] == batch


def test_symmetric_initializer_warns_on_several_units_only():
    raw = {"model": {"input_shape": [4], "layers": [
        {"type": "Dense", "units": 8, "kernel_initializer": "zeros"},
        {"type": "Dense", "units": 1, "kernel_initializer": "zeros"}]}, "compile": {"loss": "mse"}}
    with pytest.warns(dlkit.InitializationWarning, match=r"model.layers\[0\].kernel_initializer: "
                      r"'zeros' gives all 8 units the same starting weights") as record:
        dlkit.load_spec(raw)
    assert len(record) == 1
    raw["model"]["layers"][0]["kernel_initializer"] = {"type": "Constant", "value": 0.3}
    with pytest.warns(dlkit.InitializationWarning, match="symmetric neurons"):
        dlkit.load_spec(raw)


@pytest.mark.parametrize("input_shape, layers, path, words", [
    ([64], [{"type": "Conv2D", "filters": 4, "kernel_size": 3}], "model.layers[0]",
     "Conv2D cannot take its input of shape (None, 64): "),
    ([10, 3], [{"type": "LSTM", "units": 4}, {"type": "LSTM", "units": 4}], "model.layers[1]",
     "expected ndim=3, found ndim=2"),
    ([8, 8, 1], [{"type": "Flatten"}, {"type": "Dense", "units": 3},
                 {"type": "MaxPooling2D", "pool_size": 2}], "model.layers[2]", "MaxPooling2D"),
])
def test_shape_mistakes_name_the_layer(input_shape, layers, path, words):
    with pytest.raises(dlkit.SpecError) as info:
        dlkit.build({"model": {"input_shape": input_shape, "layers": layers},
                     "compile": {"loss": "mse"}})
    [problem] = info.value.errors
    assert problem.path == path
    assert words in problem.message


def test_mixed_precision_keeps_the_output_layer_in_float32():
    raw = {**SIGMOID_SPEC, "runtime": {"precision": "mixed_bfloat16"}}
    model = dlkit.build(raw)
    assert [layer.dtype_policy.name for layer in model.layers] == ["mixed_bfloat16", "float32"]
    model16 = dlkit.build({**SIGMOID_SPEC, "runtime": {"precision": "mixed_float16"}})
    assert isinstance(model16.optimizer, keras.optimizers.LossScaleOptimizer)


def test_built_model_saves_and_loads_in_safe_mode(tmp_path):
    model = dlkit.build(CNN_SPEC)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert loaded.count_params() == model.count_params()


def test_validation_does_not_shift_random_draws():
    import random

    keras.utils.set_random_seed(5)
    expected = (random.random(), np.random.random())
    keras.utils.set_random_seed(5)
    dlkit.load_spec(MLP_SPEC)  # builds initializers and dropout layers to check them
    assert (random.random(), np.random.random()) == expected
