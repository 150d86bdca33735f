"""Spec structure, defaults, immutability, round trips, overrides, and every-problem-at-once."""

import copy

import pytest

import dlkit
from dlkit._spec.overrides import apply_overrides, parse_key


def problems_of(raw) -> dict[str, str]:
    with pytest.raises(dlkit.SpecError) as info:
        dlkit.load_spec(raw)
    return {p.path: p.message for p in info.value.errors}


def test_defaults_are_filled_in(mlp):
    del mlp["train"]
    spec = dlkit.load_spec(mlp).to_dict()
    assert spec["train"] == {"epochs": 10, "batch_size": 32, "shuffle": True}
    assert spec["callbacks"] == {
        "early_stopping": False, "tensorboard": {}, "checkpoint": False,
        "reduce_lr_on_plateau": False, "csv_logger": False, "terminate_on_nan": {},
        "backup": {}, "overfitting": {}}
    assert spec["runtime"] == {"strategy": "auto", "precision": "auto",
                               "steps_per_execution": "auto", "peer_timeout": 120}
    assert spec["deterministic"] is False
    assert spec["model"]["regularization"] is None


def test_round_trip_gives_an_equal_spec(mlp):
    spec = dlkit.load_spec(mlp)
    again = dlkit.load_spec(spec.to_dict())
    assert again == spec
    assert again.to_dict() == spec.to_dict()
    assert hash(again) == hash(spec)


def test_spec_is_read_only_and_to_dict_is_independent(mlp):
    spec = dlkit.load_spec(mlp)
    with pytest.raises(TypeError):
        spec["train"]["epochs"] = 5
    with pytest.raises(TypeError):
        spec["model"]["layers"][0]["units"] = 5  # layers come back as a tuple of read-only maps
    copy_ = spec.to_dict()
    copy_["train"]["epochs"] = 99
    assert spec["train"]["epochs"] == 2
    with pytest.raises(TypeError, match="load_spec"):
        dlkit.Spec({})


def test_loading_a_spec_returns_it_and_the_input_dict_is_not_changed(mlp):
    before = copy.deepcopy(mlp)
    spec = dlkit.load_spec(mlp)
    assert dlkit.load_spec(spec) is spec
    assert mlp == before


def test_every_problem_is_reported_at_once_in_spec_order(mlp):
    mlp["callback"] = {}
    mlp["model"]["layers"][0]["unitz"] = 3
    mlp["model"]["layers"][1]["activation"] = "rleu"
    mlp["compile"]["optimizer"] = "adamm"
    mlp["compile"]["loss"] = "msee"
    mlp["train"]["epochs"] = 0
    with pytest.raises(dlkit.SpecError) as info:
        dlkit.load_spec(mlp)
    paths = [p.path for p in info.value.errors]
    assert paths == ["callback", "model.layers[0].unitz", "model.layers[1].activation",
                     "compile.optimizer", "compile.loss", "train.epochs"]
    text = str(info.value)
    assert text.startswith("6 problems in the spec:")
    for hint in ("'callbacks'", "'units'", "'relu'", "'adam'", "'mse'"):
        assert f"did you mean {hint}?" in text


@pytest.mark.parametrize("section, value, path, words", [
    ("train", {"epochs": -1}, "train.epochs", "positive integer"),
    ("train", {"batch_size": 0}, "train.batch_size", "positive integer"),
    ("train", {"batch_size": "fulll"}, "train.batch_size", '"full"'),
    ("train", {"shuffle": "yes"}, "train.shuffle", "true or false"),
    ("data", {"source": "digits", "validation_split": 1.0}, "data.validation_split",
     "strictly between 0 and 1"),
    ("data", {"source": "digitz"}, "data.source", "did you mean 'digits'"),
    ("data", {"source": "npz"}, "data.path", "needs a path"),
    ("data", {"source": "csv", "path": "a.csv"}, "data.target", "target column"),
    ("runtime", {"strategy": "mirored"}, "runtime.strategy", "did you mean 'mirrored'"),
    ("runtime", {"precision": "fp16"}, "runtime.precision", "expected one of"),
    ("runtime", {"steps_per_execution": 0}, "runtime.steps_per_execution", "positive integer"),
    ("runtime", {"steps_per_execution": "many"}, "runtime.steps_per_execution", "auto or"),
    ("runtime", {"peer_timeout": -1}, "runtime.peer_timeout", "seconds"),
    ("runtime", {"peer_timeout": float("nan")}, "runtime.peer_timeout", "seconds"),
    ("runtime", {"stepsperexecution": 4}, "runtime.stepsperexecution",
     "did you mean 'steps_per_execution'"),
    ("callbacks", {"early_stopping": 3}, "callbacks.early_stopping", "a mapping"),
    ("seed", -4, "seed", "integer"),
    ("deterministic", "yes", "deterministic", "true or false"),
    ("name", "../escape", "name", "run name"),
    ("name", ".hidden", "name", "run name"),
])
def test_structure_errors(mlp, section, value, path, words):
    mlp[section] = value
    found = problems_of(mlp)
    assert path in found, found
    assert words in found[path]


def test_missing_sections_and_wrong_types():
    found = problems_of({"model": {"input_shape": "64", "layers": []}})
    assert "compile" in found
    assert "list of positive integers" in found["model.input_shape"]
    assert "non-empty list" in found["model.layers"]
    found = problems_of({"model": {"input_shape": [4], "layers": ["Dense"]}, "compile": {}})
    assert "a layer is a mapping like {type: Dense" in found["model.layers[0]"]
    assert "missing: name a loss" in found["compile.loss"]


def test_keras_serialization_keys_are_refused(mlp):
    mlp["model"]["layers"][0]["kernel_initializer"] = {
        "class_name": "GlorotUniform", "module": "os", "config": {}}
    found = problems_of(mlp)
    assert "Keras' serialization format" in found["model.layers[0].kernel_initializer.module"]


def test_non_finite_numbers_are_refused(mlp):
    mlp["compile"]["optimizer"] = {"type": "SGD", "learning_rate": float("nan")}
    assert "finite number" in problems_of(mlp)["compile.optimizer.learning_rate"]


# -- overrides (dlkit train --set) --------------------------------------------------------------

def test_parse_key_with_indices():
    assert parse_key("model.layers[1].units") == ["model", "layers", 1, "units"]
    assert parse_key("a[0][2]") == ["a", 0, 2]
    for bad in ("", ".a", "a..b", "a[x]", "a[1"):
        with pytest.raises(dlkit.SpecError):
            parse_key(bad)


def test_overrides_set_values_as_yaml_scalars(mlp):
    spec = dlkit.load_spec(mlp, overrides=[
        "train.epochs=3", "model.layers[0].units=128", "train.batch_size=full",
        "compile.optimizer={type: SGD, learning_rate: 1e-2}", "callbacks.early_stopping.patience=2",
        "data.validation_split=0.25"])
    settings = spec.to_dict()
    assert settings["train"]["epochs"] == 3
    assert settings["model"]["layers"][0]["units"] == 128
    assert settings["train"]["batch_size"] == "full"
    assert settings["compile"]["optimizer"] == {"type": "SGD", "learning_rate": 0.01}
    assert settings["callbacks"]["early_stopping"] == {"patience": 2}
    assert settings["data"]["validation_split"] == 0.25


def test_overrides_report_bad_paths_and_values_together(mlp):
    with pytest.raises(dlkit.SpecError) as info:
        apply_overrides(mlp, ["model.layers[5].units=3", "epochs", "train.epochs.x=1"])
    paths = [p.path for p in info.value.errors]
    assert paths == ["model.layers[5]", "epochs", "train.epochs.x"]
    assert "a list of 2" in info.value.errors[0].message
    with pytest.raises(dlkit.SpecError, match="train.epochs: expected a positive integer"):
        dlkit.load_spec(mlp, overrides=["train.epochs=-2"])
