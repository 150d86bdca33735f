"""`dlkit export`: each format checked in its own runtime, recorded, refused when it cannot carry
the model, and never half written."""

import json
import shutil

import keras
import numpy as np
import pytest

import dlkit
from conftest import cli
from dlkit._deploy.export import CHECK_SAMPLES, _staged
from dlkit._deploy.float32 import float32_twin
from dlkit._deploy.runtimes import load_runner


def validation_batch(run_dir):
    """The validation samples the export was checked on, held out as training held them out."""
    from dlkit._plan.load import plan_for
    from dlkit._train.fitdata import split_arrays

    arrays = split_arrays(plan_for(run_dir / "spec.yaml"))
    return arrays.x_val[:CHECK_SAMPLES], arrays.y_val[:CHECK_SAMPLES]


def test_export_json_records_every_export_with_its_check(cnn_run, cnn_exports):
    record = json.loads((cnn_run / "export" / "export.json").read_text())
    assert {e["path"] for e in record} == {f"export/{name}" for name in cnn_exports}
    x_val, _ = validation_batch(cnn_run)
    for entry in record:
        folder = cnn_run / entry["path"]
        assert folder.is_dir()
        assert entry["bytes"] == sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        assert entry["checked_on"] == len(x_val)
        assert entry["format"] in ("saved_model", "onnx", "litert")
        if entry["quantize"] is None:
            assert entry["max_abs_diff"] <= 1e-4, entry
            assert entry["agreement"] == 1.0
    int8 = cnn_exports["litert-int8"]
    assert int8["quantize"] == "int8" and 0.5 < int8["agreement"] <= 1.0
    assert int8["max_abs_diff"] > 0  # it is quantized: not the float numbers
    assert {"accuracy_before", "accuracy_after"} <= set(int8)
    assert int8["bytes"] < cnn_exports["litert"]["bytes"] / 2
    assert not [p for p in (cnn_run / "export").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("folder,fmt,file", [("saved_model", "saved_model", None),
                                             ("onnx", "onnx", "model.onnx"),
                                             ("litert", "litert", "model.tflite")])
def test_each_export_computes_what_the_model_computes_in_its_runtime(cnn_run, cnn_exports,
                                                                      folder, fmt, file):
    model = float32_twin(keras.saving.load_model(cnn_run / "model.keras"))
    x_val, _ = validation_batch(cnn_run)
    expected = model.predict(x_val, verbose=0)
    path = cnn_run / "export" / folder
    name = model.inputs[0].name
    [got] = load_runner(fmt, path / file if file else path, [name], ["out"])({name: x_val})
    np.testing.assert_allclose(got, expected, atol=1e-4)
    # the number export.json recorded is this very comparison
    assert np.max(np.abs(got - expected)) == pytest.approx(cnn_exports[folder]["max_abs_diff"],
                                                           abs=1e-6)


def test_a_mixed_precision_run_is_exported_in_float32_and_says_so(cnn_run, cnn_exports):
    model = keras.saving.load_model(cnn_run / "model.keras")
    policies = {layer.dtype_policy.name for layer in model.layers}
    entry = cnn_exports["onnx"]
    assert entry["precision"] == "float32"
    if policies != {"float32"}:  # precision auto chose a mixed policy on this machine
        assert entry["trained_precision"] in policies
        assert entry["max_abs_diff_to_trained_precision"] > entry["max_abs_diff"]


def text_run(cnn_run, tmp_path):
    """A run whose model starts with TextVectorization (its spec is the CNN's: the refusal
    comes before the spec's data is read)."""
    vectorize = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=4,
                                               name="words")
    vectorize.adapt(["a cat sat", "a dog ran"])
    inputs = keras.Input((1,), dtype="string")
    outputs = keras.layers.Dense(2, name="head")(
        keras.layers.Embedding(20, 3)(vectorize(inputs))[:, 0])
    run_dir = tmp_path / "run"
    shutil.copytree(cnn_run, run_dir, ignore=shutil.ignore_patterns("export"))
    return dlkit.Run(model=keras.Model(inputs, outputs, name="texts"), history={},
                     log_dir=run_dir)


@pytest.mark.parametrize("fmt", ["onnx", "litert"])
def test_string_preprocessing_is_refused_before_converting(cnn_run, tmp_path, fmt):
    run = text_run(cnn_run, tmp_path)
    with pytest.raises(dlkit.ExportError) as caught:
        dlkit.export(run, fmt)
    message = str(caught.value)
    assert "texts/words (TextVectorization)" in message and f"format {fmt}" in message
    assert "Way out: export format saved_model" in message
    assert not (run.log_dir / "export").exists()


def test_quantize_is_for_litert_only():
    with pytest.raises(dlkit.ExportError, match="use --format litert --quantize int8"):
        dlkit.export("no/such/run", "onnx", quantize="int8")
    with pytest.raises(dlkit.ExportError, match="unknown export format 'tflite'; choose one of "
                                                "saved_model, onnx, litert"):
        dlkit.export("no/such/run", "tflite")


def test_a_failed_export_leaves_nothing(tmp_path):
    final = tmp_path / "export" / "onnx"
    with pytest.raises(RuntimeError), _staged(final) as staging:
        (staging / "model.onnx").write_bytes(b"half")
        raise RuntimeError("the check failed")
    assert not (tmp_path / "export").exists()
    final.mkdir(parents=True)
    (final / "old.onnx").write_bytes(b"old")
    with pytest.raises(RuntimeError), _staged(final) as staging:
        raise RuntimeError("again")
    assert [p.name for p in (tmp_path / "export").iterdir()] == ["onnx"]
    assert (final / "old.onnx").read_bytes() == b"old"  # the previous export stays whole


def test_cli_export_with_out_prints_its_check(cnn_run, cnn_exports, tmp_path):
    out = tmp_path / "shipped"
    result = cli("export", str(cnn_run), "--format", "litert", "--quantize", "float16",
                 "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"exported litert (float16): {out}" in result.stdout
    assert "validation samples: max abs diff" in result.stdout
    assert (out / "model.tflite").is_file()
    record = json.loads((cnn_run / "export" / "export.json").read_text())
    assert [e["quantize"] for e in record if e["path"] == str(out)] == ["float16"]


def test_cli_names_the_extra_to_install_when_a_runtime_is_missing(cnn_run, tmp_path):
    blocker = tmp_path / "blocked" / "onnxruntime"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('No module named onnxruntime')\n")
    import os

    path = os.pathsep.join([str(blocker.parent), os.environ.get("PYTHONPATH", "")])
    result = cli("export", str(cnn_run), "--format", "onnx", env={"PYTHONPATH": path})
    assert result.returncode == 2, result.stderr
    assert "pip install 'dlkit[export]'" in result.stderr and "Traceback" not in result.stderr
    assert "onnxruntime" in result.stderr


# --- tables, graphs, augmentation: what each format carries ------------------------------------

def test_a_table_run_exports_to_saved_model_taking_raw_rows(table_run):
    import tensorflow as tf

    from dlkit._deploy.calling import compiled_call

    run_dir = table_run["run"]
    entry = dlkit.export(run_dir, "saved_model")
    assert entry["checked_on"] == 60  # the 20 % of 300 rows training held out, raw
    assert entry["max_abs_diff"] <= 1e-4 and entry["agreement"] == 1.0
    signature = tf.saved_model.load(str(run_dir / entry["path"])).signatures["serving_default"]
    _, wanted = signature.structured_input_signature
    assert sorted(wanted) == ["age", "class_", "deck", "fare", "port", "sex", "siblings"]
    raw = {"age": [[8.0], [np.nan]], "fare": [[90.0], [8.0]], "sex": [["female"], [""]],
           "port": [["cherbourg"], ["atlantis"]], "deck": [["1"], ["4"]],
           "class": [[1.0], [3.0]], "siblings": [[1.0], [0.0]]}
    arrays = {k: np.array(v, "float32" if isinstance(v[0][0], float) else str)
              for k, v in raw.items()}
    [got] = signature(**{("class_" if k == "class" else k): tf.constant(v)
                         for k, v in arrays.items()}).values()
    [expected] = compiled_call(float32_twin(dlkit.load_model(run_dir / "model.keras")))(arrays)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)  # blanks, an unseen port


@pytest.mark.parametrize("fmt,refused", [
    ("onnx", ["own-csv/normalize_age (Normalization)", "own-csv/lookup_sex (StringLookup)",
              "mean and variance as extra inputs",
              "Way out: export format saved_model or litert", "onnx/tensorflow-onnx#1886"]),
    ("litert", ["own-csv/lookup_deck (StringLookup)", "no string operations",
                "Way out: export format saved_model instead"])])
def test_a_table_run_is_refused_where_the_format_cannot_carry_it(table_run, fmt, refused):
    with pytest.raises(dlkit.ExportError) as caught:
        dlkit.export(table_run["run"], fmt)
    message = str(caught.value)
    assert f"format {fmt} cannot carry" in message and "Nothing was written" in message
    for words in refused:
        assert words in message
    assert not (table_run["run"] / "export" / fmt).exists()


def fill_missing_run(cnn_run, tmp_path):
    """The CNN run with a model that starts with dlkit's FillMissing (NaN -> 0.5)."""
    from dlkit._data.encoding import FillMissing

    inputs = keras.Input((8, 8, 1), name="pixels")
    filled = FillMissing(fill_value=0.5, name="fill")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax", name="head")(
        keras.layers.Flatten()(filled))
    run_dir = tmp_path / "run"
    shutil.copytree(cnn_run, run_dir, ignore=shutil.ignore_patterns("export"))
    return dlkit.Run(model=keras.Model(inputs, outputs, name="filled"), history={},
                     log_dir=run_dir)


def test_fill_missing_survives_every_format(cnn_run, tmp_path):
    run = fill_missing_run(cnn_run, tmp_path)
    x = np.random.default_rng(0).uniform(size=(4, 8, 8, 1)).astype("float32")
    x[0, 0, 0, 0] = x[2, 3:5, 1, 0] = np.nan
    expected = run.model(x).numpy()
    assert not np.isnan(expected).any()
    for fmt, file in (("saved_model", None), ("onnx", "model.onnx"), ("litert", "model.tflite")):
        entry = dlkit.export(run, fmt)
        assert entry["max_abs_diff"] <= 1e-4, entry
        path = run.log_dir / entry["path"]
        [got] = load_runner(fmt, path / file if file else path, ["pixels"], ["head"])(
            {"pixels": x})
        np.testing.assert_allclose(got, expected, atol=1e-5)  # NaN filled in each runtime


@pytest.mark.slow
def test_a_graph_model_exports_with_its_named_inputs_and_outputs(heads_run):
    run_dir, data = heads_run["run"], heads_run["data"]
    model = float32_twin(dlkit.load_model(run_dir / "model.keras"))
    x = {"image": data["x_image"][:20], "meta": data["x_meta"][:20]}
    expected = model.predict(x, verbose=0)
    for fmt, file in (("saved_model", None), ("onnx", "model.onnx"), ("litert", "model.tflite")):
        entry = dlkit.export(run_dir, fmt)
        assert entry["max_abs_diff"] <= 1e-4 and entry["agreement"] == 1.0, entry
        assert set(entry["outputs"]) == {"digit"}  # ink is a value: no classes to agree on
        assert entry["outputs"]["digit"]["accuracy_before"] == \
            entry["outputs"]["digit"]["accuracy_after"]
        path = run_dir / entry["path"]
        digit, ink = load_runner(fmt, path / file if file else path, ["image", "meta"],
                                 ["digit", "ink"])(x)
        np.testing.assert_allclose(digit, expected["digit"], atol=1e-5)
        np.testing.assert_allclose(np.reshape(ink, (-1, 1)), expected["ink"], atol=1e-4)


def test_augmentation_layers_are_left_out_of_every_export(images_run):
    # Keras' exports call the model without training=False, and RandomTranslation defaults to
    # training=True: unwrapped, the SavedModel would move every image and tf2onnx would fail
    for fmt in ("saved_model", "onnx"):
        entry = dlkit.export(images_run["run"], fmt)
        assert entry["max_abs_diff"] <= 1e-4, entry
        assert entry["checked_on"] == 6  # the held-out images, decoded as training decoded them


def test_a_run_in_memory_trained_in_mixed_precision_exports(mlp, tmp_path):
    # its float32 twin is loaded afresh, and Keras may name the twin's inputs otherwise
    # (input_layer_1 where the run's model has input_layer): the export goes by position
    mlp["runtime"] = {"precision": "mixed_bfloat16"}
    run = dlkit.train(mlp, logdir=tmp_path / "logs", verbose=0)
    entry = dlkit.export(run, "saved_model")
    assert entry["max_abs_diff"] <= 1e-4 and entry["trained_precision"] == "mixed_bfloat16"
