"""dlkit._analysis.diagnose: per-layer health at initialisation and after N steps, warnings."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from dlkit._analysis import _layer_checks as checks
from dlkit._analysis.diagnose import diagnose, diagnosis_table, write_histograms


def digits(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.data[:n] / 16.0).astype(np.float32), data.target[:n]


def relu_mlp(initializer: str) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(16, activation="relu", kernel_initializer=initializer, name="hidden1"),
        keras.layers.Dense(16, activation="relu", kernel_initializer=initializer, name="hidden2"),
        keras.layers.Dense(10, activation="softmax", kernel_initializer=initializer, name="out"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def tensorboard_tags(folder) -> set[tuple[str, int]]:
    """Every (tag, step) written to the event files in ``folder``."""
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return {(tag, event.step) for tag in accumulator.Tags()["tensors"]
            for event in accumulator.Tensors(tag)}


def kinds(result: dict, layer: str) -> set[str]:
    return {w["kind"] for w in result["warnings"] if w["layer"] == layer}


def test_zeros_are_symmetric_with_zero_gradients_and_he_normal_is_healthy():
    x, y = digits()
    zeros = diagnose(relu_mlp("zeros"), x, y, steps=10)
    he = diagnose(relu_mlp("he_normal"), x, y, steps=10)
    for layer in zeros["layers"][:2]:  # the hidden ReLU layers
        for phase in ("at_init", "after"):
            assert layer[phase]["symmetric"] is True
            assert layer[phase]["gradient_norm"] == 0.0
            assert layer[phase]["dead_fraction"] == 1.0 and layer[phase]["activation_std"] == 0.0
        assert {"symmetric", "dead", "vanishing"} <= kinds(zeros, layer["name"])
    symmetric = [w for w in zeros["warnings"] if w["kind"] == "symmetric"]
    assert symmetric[0]["phases"] == ["at_init", "after"] and "16 units" in symmetric[0]["message"]
    for layer in he["layers"]:
        for phase in ("at_init", "after"):
            assert layer[phase]["symmetric"] is False and layer[phase]["gradient_norm"] > 1e-3
        assert layer["activation"] != "relu" or layer["at_init"]["dead_fraction"] < 0.5
    assert he["warnings"] == []


def test_the_result_has_the_documented_shape_and_is_json():
    x, y = digits(50)
    result = diagnose(relu_mlp("he_normal"), x, y, steps=3, batch_size=16)
    assert json.loads(json.dumps(result))["steps"] == 3
    assert set(result) == {"layers", "warnings", "steps", "batch_size", "thresholds"}
    first = result["layers"][0]
    assert (first["name"], first["type"], first["activation"], first["units"]) == \
        ("hidden1", "Dense", "relu", 16)
    assert set(first["at_init"]) == {"dead_fraction", "saturated_fraction", "activation_std",
                                     "gradient_norm", "symmetric"}
    assert first["at_init"]["saturated_fraction"] is None  # ReLU does not saturate
    assert result["layers"][2]["at_init"]["dead_fraction"] is None  # softmax is not ReLU
    assert result["thresholds"]["dead_fraction"] == checks.DEAD_FRACTION
    # Training happened: the after-numbers differ from the initial ones.
    assert first["after"]["gradient_norm"] != first["at_init"]["gradient_norm"]


def test_every_variable_and_the_models_optimizer_are_left_as_they_were():
    x, y = digits(50)
    model = relu_mlp("he_normal")
    before = [v.numpy() for v in model.variables]
    diagnose(model, x, y, steps=5, batch_size=8)
    for variable, saved in zip(model.variables, before):
        np.testing.assert_array_equal(variable.numpy(), saved)
    assert not model.optimizer.built and int(model.optimizer.iterations.numpy()) == 0


def test_dead_saturated_and_exploding_layers_are_warned():
    x, y = digits(64)
    keras.utils.set_random_seed(0)
    big = keras.initializers.RandomNormal(stddev=10.0)
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(8, activation="relu", bias_initializer=keras.initializers.Constant(-50)),
        keras.layers.Dense(8, activation="sigmoid", kernel_initializer=big),
        keras.layers.Dense(8, activation="tanh", kernel_initializer=big),
        keras.layers.Dense(1, kernel_initializer=big),
    ])
    model.compile(optimizer="sgd", loss="mse")
    result = diagnose(model, x, (y * 1e4).astype(np.float32), steps=1)
    dead, _, tanh, out = (layer["name"] for layer in result["layers"])
    assert "dead" in kinds(result, dead) and "symmetric" not in kinds(result, dead)
    assert result["layers"][0]["at_init"]["dead_fraction"] == 1.0
    assert "saturated" in kinds(result, tanh)
    assert result["layers"][2]["at_init"]["saturated_fraction"] > 0.5
    assert "exploding" in kinds(result, out)
    assert "vanishing" in kinds(result, dead)  # nothing reaches the dead layer's kernel


def test_dead_units_are_counted_per_channel_in_a_convolution():
    outputs = np.ones((4, 5, 5, 3), np.float32)
    outputs[..., 1] = 0.0  # channel 1 never fires
    outputs[0, 0, 0, 2] = 0.0  # channel 2 fires somewhere
    stats = checks.layer_stats("relu", outputs, np.ones((3, 3, 1, 3)) * [1, 2, 3], None)
    assert stats["dead_fraction"] == pytest.approx(1 / 3)
    assert stats["symmetric"] is False and stats["gradient_norm"] is None
    assert checks.layer_stats("relu", outputs, np.ones((3, 3, 1, 3)), None)["symmetric"] is True


def test_the_table_shows_each_layer_both_phases_and_the_warnings():
    x, y = digits(50)
    table = diagnosis_table(diagnose(relu_mlp("zeros"), x, y, steps=2))
    lines = table.splitlines()
    assert lines[0].split() == ["layer", "type", "activation", "units", "phase", "dead",
                                "saturated", "act", "std", "grad", "norm", "symmetric"]
    assert lines[1].split()[:6] == ["hidden1", "Dense", "relu", "16", "at", "init"]
    assert lines[2].split()[:2] == ["after", "2"]
    assert "warnings (" in table and "hidden1 (at init and after 2 steps): all 16 units" in table
    healthy = diagnosis_table(diagnose(relu_mlp("he_normal"), x, y, steps=2))
    assert healthy.endswith("no warnings")


def test_histograms_go_to_tensorboard_and_a_json_result_is_refused(tmp_path):
    x, y = digits(50)
    result = diagnose(relu_mlp("he_normal"), x, y, steps=4)
    write_histograms(result, tmp_path)
    seen = tensorboard_tags(tmp_path)
    assert ("diagnose/hidden1/activations", 0) in seen
    assert ("diagnose/out/kernel_gradient", 4) in seen
    with pytest.raises(ValueError, match="argument result_or_data.*JSON"):
        write_histograms(json.loads(json.dumps(result)), tmp_path)


def test_bad_arguments_and_subclassed_models_are_refused():
    x, y = digits(20)
    with pytest.raises(ValueError, match="Received: steps=0"):
        diagnose(relu_mlp("he_normal"), x, y, steps=0)
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        diagnose(relu_mlp("he_normal"), x, y, batch_size=0)

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(10, activation="softmax")

        def call(self, inputs):
            return self.dense(inputs)

    model = Subclassed()
    model(x[:1])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="argument model.*Sequential or functional"):
        diagnose(model, x, y)


def test_only_layers_with_their_own_kernel_or_an_activation_are_reported():
    x, y = digits(30)
    keras.utils.set_random_seed(0)
    inner = keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, name="inner_dense")],
                             name="inner")
    model = keras.Sequential([
        keras.Input((64,)), inner, keras.layers.Dropout(0.1, name="drop"),
        keras.layers.ReLU(name="act"), keras.layers.Dense(10, activation="softmax", name="out"),
    ])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    result = diagnose(model, x, y, steps=1)
    assert [(layer["name"], layer["activation"]) for layer in result["layers"]] == \
        [("act", "relu"), ("out", "softmax")]
    assert result["layers"][0]["at_init"]["gradient_norm"] is None
    assert result["layers"][0]["at_init"]["dead_fraction"] is not None
