"""Values Keras would reject late or never are caught before anything trains."""

import pytest

import dlkit


def base(layers, **extra):
    return {"model": {"input_shape": [8], "layers": layers}, "compile": {"loss": "mse"}, **extra}


def problems_of(raw) -> dict[str, str]:
    with pytest.raises(dlkit.SpecError) as info:
        dlkit.load_spec(raw)
    return {p.path: p.message for p in info.value.errors}


@pytest.mark.parametrize("rate", [1.0, 1.5, -0.1, "half"])
def test_dropout_rate_outside_zero_one(rate):
    found = problems_of(base([{"type": "Dropout", "rate": rate}, {"type": "Dense", "units": 1}]))
    assert "[0, 1)" in found["model.layers[0].rate"]


def test_recurrent_dropout_inside_a_wrapper():
    raw = {"model": {"input_shape": [5, 2], "layers": [
        {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 2, "recurrent_dropout": 1}}]},
        "compile": {"loss": "mse"}}
    assert "[0, 1)" in problems_of(raw)["model.layers[0].layer.recurrent_dropout"]


@pytest.mark.parametrize("momentum", [1.5, -0.2])
def test_batch_norm_momentum(momentum):
    found = problems_of(base([{"type": "BatchNormalization", "momentum": momentum}]))
    assert "[0, 1]" in found["model.layers[0].momentum"]


def test_early_stopping_mode_and_patience():
    found = problems_of(base([{"type": "Dense", "units": 1}], callbacks={
        "early_stopping": {"mode": "minimum", "patience": -1}}))
    assert "auto, min, max" in found["callbacks.early_stopping.mode"]
    assert ">= 0" in found["callbacks.early_stopping.patience"]


def test_valid_edge_values_pass():
    dlkit.load_spec(base([{"type": "Dropout", "rate": 0.0},
                          {"type": "BatchNormalization", "momentum": 1.0},
                          {"type": "Dense", "units": 1}],
                         callbacks={"early_stopping": {"mode": "max", "patience": 0,
                                                       "monitor": "val_loss"}}))
