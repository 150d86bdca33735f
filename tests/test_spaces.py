"""Search spaces in specs: found and checked in pass 1, validated at their extremes, refused by
`dlkit train` with a pointer to `dlkit search`. No training here."""

import copy

import pytest

import dlkit
from conftest import EXAMPLES, MLP, cli
from dlkit._core.errors import Problems
from dlkit._spec.spaces import find_spaces, flow, with_values


def space_spec(**changes):
    """The tiny MLP with its first layer's width searched (and any other changes)."""
    spec = copy.deepcopy(MLP)
    spec["model"]["layers"][0]["units"] = {"search": "int", "min": 8, "max": 64, "step": 8}
    for path, value in changes.items():
        node = spec
        steps = path.split(".")
        for step in steps[:-1]:
            node = node[int(step)] if step.isdigit() else node[step]
        node[steps[-1]] = value
    return spec


def problems_of(load, raw) -> dict[str, str]:
    with pytest.raises(dlkit.SpecError) as info:
        load(raw)
    return {p.path: p.message for p in info.value.errors}


def test_spaces_are_found_with_their_spec_paths_and_replaced_by_their_smallest_values():
    raw = space_spec(**{"compile.optimizer": {"type": "Adam", "learning_rate": {
        "search": "float", "min": 1e-4, "max": 1e-2, "log": True}},
        "model.layers.1.activation": {"search": "choice", "values": ["softmax", "sigmoid"]},
        "train.shuffle": {"search": "bool"}})
    problems = Problems()
    found = find_spaces(raw, problems)
    assert not problems.items
    assert [s.path for s in found.spaces] == [
        "model.layers[0].units", "model.layers[1].activation",
        "compile.optimizer.learning_rate", "train.shuffle"]
    assert found.stand_in["model"]["layers"][0]["units"] == 8
    assert found.stand_in["compile"]["optimizer"]["learning_rate"] == 1e-4
    assert found.stand_in["model"]["layers"][1]["activation"] == "softmax"
    assert found.stand_in["train"]["shuffle"] is False
    chosen = with_values(raw, found.spaces, {"model.layers[0].units": 48})
    assert chosen["model"]["layers"][0]["units"] == 48 and raw != chosen


@pytest.mark.parametrize("space, largest", [
    ({"search": "int", "min": 32, "max": 250, "step": 32}, 224),
    ({"search": "int", "min": 16, "max": 300, "step": 2, "log": True}, 256),
    ({"search": "float", "min": 0.1, "max": 0.5, "step": 0.15}, 0.4),
    ({"search": "float", "min": 1e-4, "max": 1e-2, "log": True}, 1e-2),
    ({"search": "choice", "values": ["relu", "tanh", "elu"]}, "elu"),
])
def test_largest_value_lies_on_the_step(space, largest):
    found = find_spaces({"train": {"x": space}}, Problems())
    assert found.spaces[0].largest() == pytest.approx(largest)


@pytest.mark.parametrize("space, path, expected", [
    ({"search": "intt", "min": 1, "max": 2}, ".search", "did you mean 'int'"),
    ({"search": "int", "min": 64, "max": 8}, "", "min must be below max"),
    ({"search": "int", "min": 8.5, "max": 64}, ".min", "expected an integer"),
    ({"search": "int", "max": 64}, ".min", "missing"),
    ({"search": "float", "min": 0, "max": 1, "log": True}, ".min", "log scale needs min > 0"),
    ({"search": "float", "min": 1, "max": 9, "log": True, "step": 1}, ".step", "multiplies"),
    ({"search": "int", "min": 8, "max": 64, "step": 100}, ".step", "no larger than max - min"),
    ({"search": "int", "min": 8, "max": 64, "stride": 8}, ".stride", "did you mean 'step'"),
    ({"search": "choice", "values": ["relu"]}, ".values", "at least two values"),
    ({"search": "choice", "values": ["relu", "relu"]}, ".values[1]", "listed twice"),
    ({"search": "choice", "values": [8, {"search": "int", "min": 1, "max": 2}]}, ".values[1]",
     "cannot hold another space"),
])
def test_malformed_spaces_are_reported_where_they_are(space, path, expected):
    found = problems_of(dlkit.load_spec, space_spec(**{"model.layers.0.units": space}))
    assert expected in found[f"model.layers[0].units{path}"]
    # The stand-in of a malformed space is a guess: nothing else is reported inside it.
    assert not [p for p in found if p.startswith("model.layers[0].units") and
                p != f"model.layers[0].units{path}"]


def test_train_refuses_spaces_pointing_to_search_and_still_reports_every_other_problem():
    found = problems_of(dlkit.load_spec, space_spec(**{"compile.loss": "msee"}))
    assert "dlkit search SPEC" in found["model.layers[0].units"]
    assert "did you mean 'mse'" in found["compile.loss"]
    assert list(found) == ["model.layers[0].units", "compile.loss"]  # spec order


def test_the_name_and_the_search_section_are_never_searched():
    raw = space_spec(name={"search": "choice", "values": ["a", "b"]},
                     search={"max_trials": {"search": "int", "min": 1, "max": 3}})
    found = problems_of(dlkit.load_spec, raw)
    assert "cannot be searched" in found["name"]
    assert "cannot be searched" in found["search.max_trials"]


def test_search_section_settings_are_checked():
    found = problems_of(dlkit.load_search, space_spec(search={
        "algorithm": "hyperbnd", "max_trial": 3, "objective": {"name": "val_loss",
                                                              "direction": "down"}}))
    assert "did you mean 'hyperband'" in found["search.algorithm"]
    assert "did you mean 'max_trials'" in found["search.max_trial"]
    assert "min or max" in found["search.objective.direction"]
    found = problems_of(dlkit.load_search, space_spec(search={
        "algorithm": "hyperband", "max_trials": 3, "factor": 1}))
    assert "hyperband decides" in found["search.max_trials"]
    assert "integer >= 2" in found["search.factor"]
    found = problems_of(dlkit.load_search, space_spec(search={"max_epochs": 3}))
    assert "setting of algorithm hyperband" in found["search.max_epochs"]


def test_a_shape_error_at_the_largest_values_shows_before_any_trial():
    raw = space_spec(**{"model.input_shape": [8, 8, 1]})
    raw["model"]["layers"][:0] = [
        {"type": "Conv2D", "filters": 2,
         "kernel_size": {"search": "int", "min": 3, "max": 9}}, {"type": "Flatten"}]
    found = problems_of(dlkit.load_search, raw)
    assert list(found) == ["model.layers[0]"]
    assert found["model.layers[0]"].startswith("at the largest values (model.layers[0]."
                                               "kernel_size=9, model.layers[2].units=64)")
    assert "Conv2D cannot take its input of shape (None, 8, 8, 1)" in found["model.layers[0]"]


def test_every_value_of_a_choice_is_resolved():
    raw = space_spec(**{"model.layers.0.activation": {
        "search": "choice", "values": ["relu", "tahn", "sigmoid", "elu"]}})
    found = problems_of(dlkit.load_search, raw)
    assert found == {"model.layers[0].activation.values[1]":
                     "unknown activation 'tahn' (did you mean 'tanh'?)"}


def test_an_objective_never_logged_is_refused_with_did_you_mean():
    found = problems_of(dlkit.load_search, space_spec(search={"objective": "val_acuracy"}))
    assert "did you mean 'val_accuracy'" in found["search.objective"]
    assert "will never be logged" in found["search.objective"]


def test_a_direction_that_cannot_be_inferred_must_be_given():
    raw = space_spec(search={"objective": "val_auc"})
    raw["compile"]["metrics"] = [{"type": "AUC", "name": "auc"}, "accuracy"]
    assert dlkit.load_search(raw).settings["objective"] == {"name": "val_auc",
                                                            "direction": "max"}
    raw["compile"]["metrics"] = [{"type": "MeanSquaredLogarithmicError", "name": "msle2"}]
    raw["search"] = {"objective": "val_msle2"}
    assert "better high or low" in problems_of(dlkit.load_search, raw)["search.objective"]
    raw["search"] = {"objective": {"name": "val_msle2", "direction": "min"}}
    assert dlkit.load_search(raw).settings["objective"]["direction"] == "min"


def test_hyperband_chooses_the_epochs_and_a_search_runs_on_one_machine():
    raw = space_spec(**{"train.epochs": {"search": "int", "min": 2, "max": 4},
                        "runtime": {"strategy": "multi_worker"}}, search={
        "algorithm": "hyperband"})
    found = problems_of(dlkit.load_search, raw)
    assert "hyperband chooses" in found["train.epochs"]
    assert "--workers" in found["runtime.strategy"]


def test_search_spec_defaults_concrete_specs_and_digest():
    search = dlkit.load_search(space_spec(search={"algorithm": "hyperband"}))
    assert search.settings["max_epochs"] == 2  # train.epochs
    assert search.settings["seed"] == 1  # the spec's seed
    assert search.settings["objective"] == {"name": "val_loss", "direction": "min"}
    concrete = search.concrete({"model.layers[0].units": 24})
    assert "search" not in concrete and concrete["model"]["layers"][0]["units"] == 24
    dlkit.load_spec(concrete)  # runs as it is
    assert dlkit.load_search(search.written()).digest() == search.digest()
    assert dlkit.load_search(search.written(), overrides=["train.epochs=3"]).digest() != \
        search.digest()
    assert search.smallest["model"]["layers"][0]["units"] == 8
    assert search.largest["model"]["layers"][0]["units"] == 64


def test_flow_text_reads_back_as_the_same_value():
    import yaml

    for value in ["relu", "1", "true", 0.001, 3, None, True, {"type": "SGD", "momentum": 0.9},
                  [8, 8, 1], "a: b"]:
        assert yaml.safe_load(flow(value)) == value


def test_commands_validate_search_specs_and_refuse_to_train_them():
    spec = str(EXAMPLES / "digits_search.yaml")
    result = cli("validate", spec)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: digits-search: 4 search space(s) "
                                    "(model.layers[0].units int 32..256 step 32; ")
    assert "smallest values (2,410 parameters) and at the largest (19,210)" in result.stdout
    result = cli("train", spec)
    assert result.returncode == 2
    assert "model.layers[0].units: a search space" in result.stderr
    assert "dlkit search SPEC" in result.stderr and "Traceback" not in result.stderr
