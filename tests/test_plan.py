"""One pass: a spec is read, validated and resolved once into an immutable plan, and building,
callbacks and training consume that plan without parsing or resolving anything again."""

import dataclasses
import pickle

import pytest
import yaml

import dlkit
from dlkit._spec.spec import plan_of


def test_train_reads_validates_and_resolves_once(mlp, tmp_path, counted):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(mlp))
    run = dlkit.train(path, verbose=0)
    assert counted["read"] == 1 and counted["plans"] == 1
    assert counted["layers"] == len(mlp["model"]["layers"])
    assert counted["components"] == 2  # the optimizer and the loss ("accuracy" is compile's)
    assert len(run.history["loss"]) == 2


def test_build_and_callbacks_of_a_loaded_spec_resolve_nothing(mlp, counted):
    spec = dlkit.load_spec(mlp)
    before = dict(counted)
    dlkit.build(spec)
    dlkit.build(spec)  # every build makes new Keras objects from the same plan
    dlkit.callbacks(spec)
    assert counted == before


def test_each_build_makes_new_keras_objects(mlp):
    spec = dlkit.load_spec(mlp)
    first, second = dlkit.build(spec), dlkit.build(spec)
    assert first.layers[0] is not second.layers[0] and first.optimizer is not second.optimizer


def test_the_plan_is_typed_and_immutable(mlp):
    plan = plan_of(dlkit.load_spec(mlp))
    assert plan.model.parameters == 64 * 16 + 16 + 16 * 10 + 10
    assert plan.compile.loss_name == "sparse_categorical_crossentropy" and plan.compile.classifier
    assert plan.compile.metric_names == ("accuracy",)
    assert plan.runtime.precision in ("float32", "mixed_bfloat16", "mixed_float16")
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.fit = None
    with pytest.raises(TypeError):
        plan.model.layers[0].args["units"] = 3
    with pytest.raises(TypeError):
        plan.settings["train"]["epochs"] = 3


def test_a_pickled_spec_is_planned_again_where_it_lands(mlp):
    spec = dlkit.load_spec(mlp)
    copy = pickle.loads(pickle.dumps(spec))
    assert copy == spec and plan_of(copy) is None
    again = dlkit.load_spec(copy)
    assert plan_of(again) is not None and dlkit.build(again).count_params() == \
        plan_of(spec).model.parameters
