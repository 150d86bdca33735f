"""Names resolve through Keras' own registries; every documented name resolves here."""

import warnings

import keras
import pytest
import yaml

import dlkit
from conftest import EXAMPLES, MLP


def spec_with(layers=None, **compile_):
    spec = {"model": {"input_shape": [8], "layers": layers or [{"type": "Dense", "units": 1}]},
            "compile": {"loss": "mse", **compile_}}
    return spec


def problems_of(raw) -> dict[str, str]:
    with pytest.raises(dlkit.SpecError) as info:
        dlkit.load_spec(raw)
    return {p.path: p.message for p in info.value.errors}


# Every name the docs, README and examples teach. If Keras renames one, this fails.
DOCUMENTED_ACTIVATIONS = ["relu", "sigmoid", "tanh", "leaky_relu", "softmax", "elu", "selu",
                          "gelu", "linear", {"type": "LeakyReLU", "negative_slope": 0.1},
                          {"type": "ReLU", "max_value": 6.0}, {"type": "PReLU"}]
DOCUMENTED_INITIALIZERS = ["glorot_uniform", "glorot_normal", "he_normal", "he_uniform",
                           "lecun_normal", "zeros", "ones", {"type": "GlorotNormal", "seed": 1},
                           {"type": "HeUniform"}, {"type": "Constant", "value": 0.5},
                           {"type": "RandomNormal", "stddev": 0.05}]
DOCUMENTED_LOSSES = ["mse", "mae", "huber", "binary_crossentropy", "categorical_crossentropy",
                     "sparse_categorical_crossentropy", "hinge", "kl_divergence", "kld",
                     "mean_squared_error", {"type": "Huber", "delta": 1.0},
                     {"type": "BinaryCrossentropy", "from_logits": True},
                     {"type": "CategoricalCrossentropy", "label_smoothing": 0.1},
                     {"type": "KLDivergence"}, {"type": "Hinge"}, {"type": "MeanAbsoluteError"}]
DOCUMENTED_OPTIMIZERS = ["sgd", "adam", "rmsprop", "adagrad", "adamw", "nadam",
                         {"type": "SGD", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
                         {"type": "Adam", "learning_rate": 1e-3}, {"type": "RMSprop", "rho": 0.9},
                         {"type": "Adagrad", "learning_rate": 0.01}]
DOCUMENTED_SCHEDULES = [
    {"type": "ExponentialDecay", "initial_learning_rate": 0.1, "decay_steps": 100,
     "decay_rate": 0.9},
    {"type": "PiecewiseConstantDecay", "boundaries": [100, 200], "values": [0.1, 0.01, 0.001]},
    {"type": "CosineDecay", "initial_learning_rate": 0.1, "decay_steps": 100},
    {"type": "InverseTimeDecay", "initial_learning_rate": 0.1, "decay_steps": 10,
     "decay_rate": 0.5},
    {"type": "PolynomialDecay", "initial_learning_rate": 0.1, "decay_steps": 10},
]
DOCUMENTED_REGULARIZERS = [{"type": "L1", "l1": 1e-4}, {"type": "L2", "l2": 1e-4},
                           {"type": "L1L2", "l1": 1e-5, "l2": 1e-4}]
DOCUMENTED_METRICS = ["accuracy", "mae", "mse", {"type": "AUC"}, {"type": "Precision"},
                      "sparse_categorical_accuracy"]


@pytest.mark.parametrize("activation", DOCUMENTED_ACTIVATIONS, ids=str)
def test_documented_activations_resolve(activation):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = dlkit.build(spec_with([{"type": "Dense", "units": 2, "activation": activation}]))
    assert model.layers[0].activation is not None


@pytest.mark.parametrize("initializer", DOCUMENTED_INITIALIZERS, ids=str)
def test_documented_initializers_resolve(initializer):
    model = dlkit.build(spec_with([{"type": "Dense", "units": 1,
                                    "kernel_initializer": initializer}]))
    assert isinstance(model.layers[0].kernel_initializer, keras.initializers.Initializer)


@pytest.mark.parametrize("loss", DOCUMENTED_LOSSES, ids=str)
def test_documented_losses_resolve(loss):
    assert dlkit.build(spec_with(loss=loss)).loss is not None


@pytest.mark.parametrize("optimizer", DOCUMENTED_OPTIMIZERS, ids=str)
def test_documented_optimizers_resolve(optimizer):
    model = dlkit.build(spec_with(optimizer=optimizer))
    assert isinstance(model.optimizer, keras.optimizers.Optimizer)


@pytest.mark.parametrize("schedule", DOCUMENTED_SCHEDULES, ids=lambda s: s["type"])
def test_documented_schedules_resolve(schedule):
    model = dlkit.build(spec_with(optimizer={"type": "SGD", "learning_rate": schedule}))
    assert type(model.optimizer._learning_rate).__name__ == schedule["type"]


@pytest.mark.parametrize("regularizer", DOCUMENTED_REGULARIZERS, ids=str)
def test_documented_regularizers_resolve(regularizer):
    model = dlkit.build(spec_with([{"type": "Dense", "units": 1,
                                    "kernel_regularizer": regularizer}]))
    config = model.layers[0].kernel_regularizer.get_config()
    for key in ("l1", "l2"):
        if key in regularizer:
            assert config[key] == pytest.approx(regularizer[key])


@pytest.mark.parametrize("metric", DOCUMENTED_METRICS, ids=str)
def test_documented_metrics_resolve(metric):
    dlkit.build(spec_with(metrics=[metric]))


DOCUMENTED_LAYERS = [
    ([8], [{"type": "Dense", "units": 4}, {"type": "Dropout", "rate": 0.5},
           {"type": "BatchNormalization"}, {"type": "LayerNormalization"}]),
    ([16, 3], [{"type": "Conv1D", "filters": 4, "kernel_size": 3},
               {"type": "MaxPooling1D", "pool_size": 2}, {"type": "GlobalAveragePooling1D"}]),
    ([8, 8, 1], [{"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same"},
                 {"type": "MaxPooling2D"}, {"type": "AveragePooling2D", "pool_size": 2},
                 {"type": "Flatten"}]),
    ([10, 3], [{"type": "SimpleRNN", "units": 4, "return_sequences": True},
               {"type": "GRU", "units": 4, "return_sequences": True},
               {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 4}}]),
    ([12], [{"type": "Embedding", "input_dim": 50, "output_dim": 4},
            {"type": "LSTM", "units": 3, "dropout": 0.1, "recurrent_dropout": 0.1},
            {"type": "Dense", "units": 1, "activation": "sigmoid"}]),
]


@pytest.mark.parametrize("input_shape, layers", DOCUMENTED_LAYERS,
                         ids=lambda v: "-".join(x["type"] for x in v) if isinstance(v[0], dict)
                         else str(v))
def test_documented_layers_build(input_shape, layers):
    model = dlkit.build({"model": {"input_shape": input_shape, "layers": layers},
                         "compile": {"loss": "mse"}})
    assert [type(layer).__name__ for layer in model.layers] == [x["type"] for x in layers]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_spec_validates_and_builds(path, tmp_path):
    base = yaml.safe_load(path.read_text())["model"].get("base", {}).get("path")
    if base is not None:  # a model an example trains first: its network, untrained, will do
        saved = tmp_path / base
        dlkit.build(EXAMPLES / base.replace(".keras", ".yaml")).save(saved)
        assert dlkit.build(dlkit.load_spec(
            path, overrides=[f"model.base.path={saved}"])).count_params() > 0
    elif "search:" in path.read_text():  # a search spec builds at both ends of its spaces
        search = dlkit.load_search(path)
        assert 0 < dlkit.build(search.smallest).count_params() \
            < dlkit.build(search.largest).count_params()
    else:
        assert dlkit.build(path).count_params() > 0


def test_registered_custom_layer_works_by_name():
    @keras.saving.register_keras_serializable(package="dlkit_tests")
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    for name in ("Scale", "dlkit_tests>Scale"):
        model = dlkit.build(spec_with([{"type": name, "factor": 3.0},
                                       {"type": "Dense", "units": 1}]))
        assert isinstance(model.layers[0], Scale) and model.layers[0].factor == 3.0
    assert "did you mean 'factor'" in problems_of(spec_with([{"type": "Scale", "factr": 1}]))[
        "model.layers[0].factr"]


# -- bad names ------------------------------------------------------------------------------

@pytest.mark.parametrize("layer, path, words", [
    ({"type": "Dnse", "units": 2}, "model.layers[0].type", "did you mean 'Dense'"),
    ({"type": "Dense", "unitz": 2}, "model.layers[0].unitz", "did you mean 'units'"),
    ({"type": "Dense", "units": 2, "activation": "rleu"}, "model.layers[0].activation",
     "did you mean 'relu'"),
    ({"type": "Dense", "units": 2, "kernel_initializer": "xavier_uniform"},
     "model.layers[0].kernel_initializer", "did you mean 'glorot_uniform'"),
    ({"type": "Dense", "units": 2, "kernel_initializer": "he_normall"},
     "model.layers[0].kernel_initializer", "did you mean 'he_normal'"),
    ({"type": "Dense", "units": 2, "activation": {"type": "LeakyReLU", "alpha_": 0.1}},
     "model.layers[0].activation.alpha_", "unknown argument"),
    ({"type": "Dense", "units": 2, "activation": {"type": "relu", "max_value": 1}},
     "model.layers[0].activation", "takes no settings"),
    ({"type": "Dense", "units": -2}, "model.layers[0]", "expected a positive integer"),
    ({"type": "Dense", "units": 2, "input_shape": [8]}, "model.layers[0].input_shape",
     "set model.input_shape instead"),
    ({"type": "Lambda", "function": "x"}, "model.layers[0].type", "arbitrary Python code"),
    ({"type": "os.system"}, "model.layers[0].type", "module path"),
    ({"type": "Dense", "units": 1, "activation": "os.system"}, "model.layers[0].activation",
     "module path"),
    ({"type": "Bidirectional", "layer": {"units": 3}}, "model.layers[0].layer", "'type' key"),
])
def test_bad_layer_names_and_arguments(layer, path, words):
    found = problems_of(spec_with([layer]))
    assert path in found, found
    assert words in found[path]


@pytest.mark.parametrize("value", ["l1", "l2", "L1L2", "l1l2", {"type": "L2"},
                                   {"type": "L1L2"}, {"type": "L1", "l2": 0.1}])
def test_bare_penalties_are_refused(value):
    found = problems_of(spec_with([{"type": "Dense", "units": 1, "kernel_regularizer": value}]))
    assert "states its strength" in found["model.layers[0].kernel_regularizer"]


@pytest.mark.parametrize("compile_, path, words", [
    ({"optimizer": "adamm"}, "compile.optimizer", "did you mean 'adam'"),
    ({"optimizer": {"type": "SGD", "momentun": 0.9}}, "compile.optimizer.momentun",
     "did you mean 'momentum'"),
    ({"optimizer": {"type": "SGD", "learning_rate": {"type": "ExponentialDeca"}}},
     "compile.optimizer.learning_rate", "did you mean 'ExponentialDecay'"),
    ({"loss": "msee"}, "compile.loss", "did you mean 'mse'"),
    ({"loss": "categorical_crossentropyy"}, "compile.loss",
     "did you mean 'categorical_crossentropy'"),
    ({"loss": {"type": "Huber", "delt": 1}}, "compile.loss.delt", "did you mean 'delta'"),
    ({"loss": "huber", "metrics": ["acuracy"]}, "compile.metrics[0]", "did you mean 'accuracy'"),
    ({"loss": "os.path.join"}, "compile.loss", "module path"),
])
def test_bad_compile_names(compile_, path, words):
    raw = spec_with()
    raw["compile"].update(compile_)
    found = problems_of(raw)
    assert path in found, found
    assert words in found[path]


def test_bad_callback_settings():
    raw = {**MLP, "callbacks": {"early_stopping": {"monitr": "val_loss"},
                                "tensorboard": {"log_dir": "/tmp/x"}}}
    found = problems_of(raw)
    assert "did you mean 'monitor'" in found["callbacks.early_stopping.monitr"]
    assert "set by dlkit" in found["callbacks.tensorboard.log_dir"]
