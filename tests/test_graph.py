"""Graph models: named inputs, skip connections, several outputs, blocks; the same model as
the functional code written by hand, and every problem with its path at once."""

import copy

import keras
import numpy as np
import pytest
from keras import layers

import dlkit
from conftest import EXAMPLES
from dlkit._plan.callbacks import logged_metrics
from dlkit._spec.spec import plan_of
from test_build import strip_names


def toy_resnet_by_hand():
    """The toy ResNet of the Keras functional-API guide, as the guide writes it."""
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])
    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs, outputs, name="toy_resnet")
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True), metrics=["acc"])
    return model


def two_heads_by_hand():
    """examples/digits_two_heads.yaml written with the functional API."""
    image, meta = keras.Input((8, 8, 1), name="image"), keras.Input((4,), name="meta")
    conv = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv")(image)
    flat = layers.Flatten(name="flat")(layers.MaxPooling2D(2, name="pool")(conv))
    meta_dense = layers.Dense(16, activation="relu", name="meta_dense")(meta)
    joined = layers.Concatenate(name="joined")([flat, meta_dense])
    hidden = layers.Dense(64, activation="relu", name="hidden")(joined)
    digit = layers.Dense(10, activation="softmax", name="digit_head")(flat)
    ink = layers.Dense(1, name="ink_head")(hidden)
    model = keras.Model({"image": image, "meta": meta}, {"digit": digit, "ink": ink})
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3),
                  loss={"digit": "sparse_categorical_crossentropy", "ink": "mse"},
                  loss_weights={"digit": 1.0, "ink": 0.5},
                  metrics={"digit": ["accuracy"], "ink": ["mae"]})
    return model


def float32(path):
    return dlkit.load_spec(path, overrides=["runtime.precision=float32"])


def assert_same_model(ours, theirs, *, names=False):
    clean = (lambda config: config) if names else strip_names
    assert type(ours) is type(theirs) and isinstance(ours, keras.Model)
    assert [clean(layer.get_config()) for layer in ours.layers] == \
        [clean(layer.get_config()) for layer in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    assert strip_names(ours.optimizer.get_config()) == strip_names(theirs.optimizer.get_config())
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):  # same seed, draws
        np.testing.assert_array_equal(a, b)


def built(spec, by_hand, seed):
    """The spec's model and the hand-written one, each made after the same seed."""
    keras.utils.set_random_seed(seed)
    ours = dlkit.build(spec)
    keras.utils.set_random_seed(seed)
    return ours, by_hand()


def test_the_toy_resnet_spec_is_the_keras_guides_model():
    ours, theirs = built(float32(EXAMPLES / "toy_resnet.yaml"), toy_resnet_by_hand, 7)
    assert theirs.count_params() == 223_242  # the guide's own count
    assert_same_model(ours, theirs)
    assert ours.get_layer("block_2_output").__class__ is layers.Add  # the block's output node
    assert ours.get_layer("block_2_output.conv_a").filters == 64

    rng = np.random.default_rng(0)
    x, y = rng.random((16, 32, 32, 3), "float32"), np.eye(10)[rng.integers(0, 10, 16)]
    for model in (ours, theirs):
        keras.utils.set_random_seed(3)
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_two_inputs_two_outputs_are_the_hand_written_model_and_log_what_keras_logs():
    spec = float32(EXAMPLES / "digits_two_heads.yaml")
    ours, theirs = built(spec, two_heads_by_hand, 5)
    assert_same_model(ours, theirs, names=True)  # a node's name is its Keras layer name

    rng = np.random.default_rng(1)
    x = {"image": rng.random((48, 8, 8, 1), "float32"), "meta": rng.normal(size=(48, 4))}
    y = {"digit": rng.integers(0, 10, 48), "ink": rng.normal(size=(48, 1))}
    histories = []
    for model in (ours, theirs):
        keras.utils.set_random_seed(3)
        histories.append(model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0,
                                   validation_split=0.25).history)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    plan = plan_of(spec)
    assert set(histories[0]) == set(histories[1]) == set(
        logged_metrics(plan.compile.metric_names, {}, has_validation=True))
    assert {"digit_loss", "val_ink_mae", "val_digit_accuracy"} <= set(histories[0])
    assert plan.compile.monitor_modes["digit_accuracy"] == "max"
    assert plan.compile.monitor_modes["ink_mae"] == "min"


GRAPH = {
    "name": "graph", "seed": 0,
    "model": {"inputs": {"image": [8, 8, 1], "meta": [4]},
              "blocks": {"res": {"inputs": ["x"], "params": {"units": 8}, "graph": [
                  {"name": "a", "type": "Dense", "units": "$units", "inputs": "x"},
                  {"name": "sum", "type": "Add", "inputs": ["a", "x"]}]}},
              "graph": [
                  {"name": "flat", "type": "Flatten", "inputs": "image"},
                  {"name": "d1", "type": "Dense", "units": 16, "activation": "relu",
                   "inputs": "flat"},
                  {"name": "m1", "type": "Dense", "units": 16, "inputs": "meta"},
                  {"name": "join", "type": "Concatenate", "inputs": ["d1", "m1"]},
                  {"name": "r1", "block": "res", "inputs": "join", "with": {"units": 32}},
                  {"name": "head", "type": "Dense", "units": 10, "activation": "softmax",
                   "inputs": "r1"},
                  {"name": "reg", "type": "Dense", "units": 1, "inputs": "r1"}],
              "outputs": {"label": "head", "score": "reg"}},
    "compile": {"loss": {"label": "sparse_categorical_crossentropy", "score": "mse"},
                "metrics": {"label": ["accuracy"]}},
    "train": {"epochs": 2, "batch_size": 32},
}


@pytest.fixture
def graph():
    return copy.deepcopy(GRAPH)


def problems(raw):
    with pytest.raises(dlkit.SpecError) as info:
        dlkit.build(dlkit.load_spec(raw))
    return {p.path: p.message for p in info.value.errors}


def test_every_wiring_problem_at_once_with_paths_and_did_you_mean(graph):
    nodes = graph["model"]["graph"]
    nodes[1]["inputs"] = "flatt"
    nodes[2]["inputs"] = "join"  # join takes m1: a cycle
    nodes[4]["inputs"] = "head"  # head takes r1
    nodes.append({"name": "late", "type": "Dense", "units": 2, "inputs": "later"})
    nodes.append({"name": "later", "type": "Dense", "units": 2, "inputs": "meta"})
    nodes.append({"name": "d1", "type": "Dense", "units": 2, "inputs": "meta"})
    graph["model"]["outputs"] = {"label": "haed", "score": "reg"}
    graph["compile"]["loss"] = {"label": "mse", "scroe": "mse"}
    found = problems(graph)
    assert list(found) == [
        "model.graph[1].inputs", "model.graph[2].inputs", "model.graph[4].inputs",
        "model.graph[7].inputs", "model.graph[9].name", "model.outputs.label",
        "compile.loss.scroe", "compile.loss"]
    assert found["model.graph[1].inputs"] == "unknown node or input 'flatt' (did you mean " \
        "'flat'?); 'd1' can take: image, meta, flat"
    assert found["model.graph[2].inputs"].startswith("'join' makes a cycle: m1 -> join -> m1")
    assert found["model.graph[4].inputs"].startswith("'head' makes a cycle: r1 -> head -> r1")
    assert found["model.graph[7].inputs"].startswith(
        "'later' is used before it is defined (at model.graph[8])")
    assert found["model.graph[9].name"].startswith(
        "duplicate name 'd1': model.graph[1] has it already")
    assert "unknown node 'haed' (did you mean 'head'?)" in found["model.outputs.label"]
    assert "output 'score' has no loss" in found["compile.loss"]
    assert "unknown output 'scroe' (did you mean 'score'?)" in found["compile.loss.scroe"]


def test_shapes_that_do_not_fit_at_a_merge_name_both_nodes_and_shapes(graph):
    nodes = graph["model"]["graph"]
    nodes[3]["type"] = "Add"
    nodes[3]["inputs"] = ["d1", "flat"]  # (None, 16) + (None, 64)
    nodes.insert(3, {"name": "bad", "type": "Conv2D", "filters": 2, "kernel_size": 3,
                     "inputs": "m1"})  # a second, independent shape problem
    nodes.insert(4, {"name": "side", "type": "Flatten", "inputs": "bad"})
    graph["model"]["outputs"]["side"] = "side"
    graph["compile"]["loss"]["side"] = "mse"
    found = problems(graph)
    assert found["model.graph[5]"].startswith(
        "Add cannot take 'd1' of shape (None, 16) and 'flat' of shape (None, 64) together: ")
    assert found["model.graph[3]"].startswith("Conv2D cannot take its input 'm1' of shape "
                                              "(None, 16): ")
    assert len(found) == 2  # nodes after a failed one are not reported again


def test_a_node_or_input_that_reaches_no_output_is_a_warning(graph):
    graph["model"]["inputs"]["unused"] = [3]
    graph["model"]["graph"].insert(3, {"name": "extra", "type": "Dense", "units": 3,
                                       "inputs": "m1"})
    with pytest.warns(dlkit.SpecWarning) as record:
        dlkit.load_spec(graph)
    messages = sorted(str(w.message) for w in record)
    assert messages == [
        "model.graph[3]: node 'extra' reaches no output: it is computed but never used; "
        "connect it to an output or remove it",
        "model.inputs.unused: input 'unused' reaches no output: no node takes it, or none "
        "that leads to an output"]


def test_blocks_expand_with_their_parameters_and_one_mistake_is_reported_once(graph):
    nodes = graph["model"]["graph"]
    nodes.insert(5, {"name": "r2", "block": "res", "inputs": "r1"})  # units: its default, 8
    nodes[6]["inputs"] = "r2"
    found = problems(graph)  # 8 units cannot be added to 32
    assert list(found) == ["model.blocks.res.graph[1]"]
    assert found["model.blocks.res.graph[1]"].startswith(
        "Add cannot take 'r2.a' of shape (None, 8) and 'r1' of shape (None, 32) together")
    assert found["model.blocks.res.graph[1]"].endswith("(in block instance r2)")

    nodes[5]["with"] = {"units": 32}
    graph["model"]["blocks"]["res"]["graph"][0]["type"] = "Dnse"
    found = problems(graph)
    assert found == {"model.blocks.res.graph[0].type": "unknown layer type 'Dnse' (did you "
                     "mean 'Dense'?); a layer is a class in keras.layers or one registered "
                     "with keras.saving.register_keras_serializable (in block instances r1, r2)"}

    graph["model"]["blocks"]["res"]["graph"][0]["type"] = "Dense"
    model = dlkit.build(graph)
    assert [layer.name for layer in model.layers if layer.name[:2] in ("r1", "r2")] == \
        ["r1.a", "r1", "r2.a", "r2"]
    assert model.get_layer("r2.a").units == 32 and isinstance(model.get_layer("r2"), layers.Add)


def test_block_mistakes_have_paths(graph):
    blocks = graph["model"]["blocks"]
    blocks["res"]["graph"][0]["units"] = "$unit"
    blocks["res"]["graph"].append({"name": "inner", "block": "loop", "inputs": "sum"})
    blocks["loop"] = {"inputs": ["x"], "graph": [{"name": "again", "block": "res",
                                                  "inputs": "x"}]}
    nodes = graph["model"]["graph"]
    nodes[4]["with"] = {"unit": 3}
    nodes[5]["units"] = "$units"
    nodes.insert(5, {"name": "r0", "block": "rse", "inputs": ["join", "d1"]})
    found = problems(graph)
    assert "unknown parameter '$unit' (did you mean '$units'?)" in \
        found["model.blocks.res.graph[0].units"]
    assert "block 'res' uses itself: res -> loop -> res" in \
        found["model.blocks.loop.graph[0].block"]
    assert "unknown parameter 'unit' of block 'res' (did you mean 'units'?)" in \
        found["model.graph[4].with.unit"]
    assert "unknown block 'rse' (did you mean 'res'?)" in found["model.graph[5].block"]
    assert "'$units' is a block parameter" in found["model.graph[6].units"]


def test_nested_blocks_expand_into_scoped_names(graph):
    graph["model"]["blocks"]["pair"] = {
        "inputs": ["x"], "params": {"width": 4},
        "graph": [{"name": "first", "block": "res", "inputs": "x", "with": {"units": "$width"}},
                  {"name": "second", "block": "res", "inputs": "first",
                   "with": {"units": "$width"}}]}
    graph["model"]["graph"][4] = {"name": "p", "block": "pair", "inputs": "join",
                                  "with": {"width": 32}}
    graph["model"]["graph"][5]["inputs"] = graph["model"]["graph"][6]["inputs"] = "p"
    model = dlkit.build(graph)
    assert [layer.name for layer in model.layers if layer.name.startswith("p")] == \
        ["p.first.a", "p.first", "p.second.a", "p"]
    assert model.get_layer("p.second.a").units == 32


def test_a_graph_is_resolved_once_and_built_from_its_plan(graph, counted):
    spec = dlkit.load_spec(graph)
    assert counted["layers"] == 8  # 6 layer nodes, and the block's 2 layers in r1
    before = dict(counted)
    first, second = dlkit.build(spec), dlkit.build(spec)
    dlkit.callbacks(spec)
    assert counted == before and first.get_layer("r1") is not second.get_layer("r1")
    graph_plan = plan_of(spec).model.graph
    assert [node.name for node in graph_plan.nodes] == \
        ["flat", "d1", "m1", "join", "r1.a", "r1", "head", "reg"]
    assert graph_plan.nodes[5].inputs == ("r1.a", "join") and graph_plan.nodes[5].instance == "r1"
    assert plan_of(spec).model.layers == () and plan_of(spec).model.input_shape is None


def test_a_graph_spec_round_trips_and_keeps_its_blocks(graph):
    spec = dlkit.load_spec(graph)
    again = dlkit.load_spec(spec.to_dict())
    assert again == spec and "blocks" in again.to_dict()["model"]
    assert repr(spec) == "Spec(name='graph', nodes=7)"


def test_overrides_reach_graph_nodes():
    spec = dlkit.load_spec(EXAMPLES / "toy_resnet.yaml",
                           overrides=["model.graph[5].filters=16",
                                      "model.blocks.residual.graph[1].kernel_size=5"])
    model = dlkit.build(spec)
    assert model.get_layer("conv3").filters == 16
    assert model.get_layer("block_3_output.conv_b").kernel_size == (5, 5)


def test_mixed_precision_keeps_every_output_node_in_float32(graph):
    graph["runtime"] = {"precision": "mixed_bfloat16"}
    model = dlkit.build(graph)
    policies = {layer.name: layer.dtype_policy.name for layer in model.layers
                if not isinstance(layer, layers.InputLayer)}
    assert policies.pop("head") == policies.pop("reg") == "float32"
    assert set(policies.values()) == {"mixed_bfloat16"}


def test_monitors_name_per_output_metrics(graph):
    graph["callbacks"] = {"early_stopping": {"monitor": "val_label_acc"}}
    with pytest.raises(dlkit.SpecError, match="'val_label_acc' will never be logged; this run "
                       "logs: loss, label_loss, score_loss, label_accuracy, val_loss"):
        dlkit.train(graph, data=two_input_data(), verbose=0)
    graph["callbacks"] = {"early_stopping": {"monitor": "val_label_accuracy", "patience": 5}}
    stopping = [c for c in dlkit.callbacks(graph) if isinstance(c, keras.callbacks.EarlyStopping)]
    assert stopping[0].mode == "max"  # Keras alone cannot tell for label_accuracy


def two_input_data(count=120, seed=0):
    rng = np.random.default_rng(seed)
    x = {"image": rng.random((count, 8, 8, 1), "float32"), "meta": rng.normal(size=(count, 4))}
    y = {"label": rng.integers(0, 10, count), "score": x["meta"][:, :1] * 2}
    return x, y


def test_npz_arrays_by_input_and_output_name_train_a_run(graph, tmp_path, log_root):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (x, y), (x_val, y_val) = two_input_data(), two_input_data(40, seed=1)
    np.savez(tmp_path / "d.npz", x_image=x["image"], x_meta=x["meta"], y_label=y["label"],
             y_score=y["score"], x_image_val=x_val["image"], x_meta_val=x_val["meta"],
             y_label_val=y_val["label"], y_score_val=y_val["score"])
    graph["data"] = {"source": "npz", "path": str(tmp_path / "d.npz")}
    graph["callbacks"] = {"early_stopping": {"monitor": "val_label_accuracy", "patience": 5}}
    run = dlkit.train(graph, verbose=0)
    assert set(run.history) >= {"label_loss", "val_score_loss", "val_label_accuracy"}
    assert run.best["monitor"] == "val_label_accuracy" and run.best["goal"] == "max"
    accumulator = EventAccumulator(str(run.log_dir / "validation"))
    accumulator.Reload()
    assert {"epoch_label_loss", "epoch_score_loss", "epoch_label_accuracy"} <= \
        set(accumulator.Tags()["tensors"])
    assert (run.log_dir / "confusion_matrix.png").is_file()  # of the one classifier output

    np.savez(tmp_path / "d.npz", x_image=x["image"], x_meta=x["meta"], y_label=y["label"])
    with pytest.raises(dlkit.DataError, match="y lacks y_score; the model's outputs are "
                       "label, score"):
        dlkit.train(graph, verbose=0)
    graph["data"] = {"source": "digits"}
    with pytest.raises(dlkit.DataError, match="source digits gives one x and one y, but the "
                       "model has several inputs and outputs"):
        dlkit.train(graph, verbose=0)


@pytest.mark.slow
def test_a_deterministic_graph_run_resumed_ends_as_an_uninterrupted_one(graph, log_root):
    from test_resume import Interrupt

    graph.update(deterministic=True, seed=3, name="det-graph")
    graph["callbacks"] = {"backup": {"min_interval": 0}, "tensorboard": False}
    graph["model"]["graph"].insert(4, {"name": "drop", "type": "Dropout", "rate": 0.3,
                                       "inputs": "join"})
    graph["model"]["graph"][5]["inputs"] = "drop"
    data = two_input_data()
    whole = dlkit.train(graph, data=data, verbose=0).model.get_weights()
    with pytest.raises(KeyboardInterrupt):
        dlkit.train(graph, data=data, callbacks=[Interrupt(at_epoch=0)], verbose=0)
    resumed = dlkit.train(graph, data=data, resume=True, verbose=0)
    assert len(resumed.history["label_loss"]) == 2
    for a, b in zip(whole, resumed.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_one_input_one_output_graphs_take_every_source(tmp_path):
    rows = ["a,b,c,label"] + [f"{i % 7},{i % 3},{i % 5},{i % 2}" for i in range(60)]
    (tmp_path / "t.csv").write_text("\n".join(rows))
    spec = {"name": "csv-graph", "data": {"source": "csv", "path": str(tmp_path / "t.csv"),
                                          "target": "label"},
            "model": {"inputs": {"features": [3]}, "graph": [
                {"name": "hidden", "type": "Dense", "units": 4, "inputs": "features"},
                {"name": "out", "type": "Dense", "units": 1, "activation": "sigmoid",
                 "inputs": "hidden"}], "outputs": {"spam": "out"}},
            "compile": {"loss": "binary_crossentropy", "metrics": ["accuracy"]},
            "train": {"epochs": 1}}
    run = dlkit.train(spec, verbose=0)
    assert set(run.history) >= {"loss", "accuracy", "val_accuracy"}  # one output: plain names


MIRRORED = """
import sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import dlkit
graph = {"name": "mirror-graph", "seed": 0, "runtime": {"strategy": "mirrored"},
         "model": {"inputs": {"a": [3], "b": [2]}, "graph": [
             {"name": "ha", "type": "Dense", "units": 4, "inputs": "a"},
             {"name": "j", "type": "Concatenate", "inputs": ["ha", "b"]},
             {"name": "cls", "type": "Dense", "units": 2, "activation": "softmax", "inputs": "j"},
             {"name": "reg", "type": "Dense", "units": 1, "inputs": "j"}],
             "outputs": {"label": "cls", "score": "reg"}},
         "compile": {"loss": {"label": "sparse_categorical_crossentropy", "score": "mse"}},
         "train": {"epochs": 1, "batch_size": 16}}
x = {"a": np.ones((80, 3), "float32"), "b": np.ones((80, 2), "float32")}
y = {"label": np.arange(80) % 2, "score": np.ones(80, "float32")}  # 64 + 16: even batches
run = dlkit.train(graph, data=(x, y), logdir=sys.argv[1], verbose=0)
print(sorted(run.history), (run.log_dir / "run.json").read_text())
"""


@pytest.mark.slow
def test_a_graph_of_two_inputs_and_outputs_trains_under_a_mirrored_strategy(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", MIRRORED, str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "['label_loss', 'loss', 'score_loss', 'val_label_loss', 'val_loss', " \
        "'val_score_loss']" in result.stdout
    assert '"replicas": 2' in result.stdout and '"status": "finished"' in result.stdout
