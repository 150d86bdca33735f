"""Nothing in a spec or a model file is imported or executed; canaries prove it."""

import json
import sys
import zipfile

import keras
import pytest

import dlkit

EVIL_MODULE = '''
import pathlib
pathlib.Path({canary!r}).write_text("imported")
def system(*args, **kwargs):
    pathlib.Path({canary!r}).write_text("called")
'''


@pytest.fixture
def evil_module(tmp_path, monkeypatch):
    """A module on sys.path that leaves a canary file when imported or called."""
    canary = tmp_path / "CANARY"
    (tmp_path / "dlkit_evil.py").write_text(EVIL_MODULE.format(canary=str(canary)))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield canary
    sys.modules.pop("dlkit_evil", None)


def rewrite_config(source, target, edit):
    with zipfile.ZipFile(source) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    edit(config)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def small_model_file(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = tmp_path / "good.keras"
    model.save(path)
    return path


def test_load_model_loads_a_good_file(tmp_path):
    assert dlkit.load_model(small_model_file(tmp_path)).count_params() == 8


def test_a_model_file_naming_an_unregistered_module_is_refused(tmp_path, evil_module):
    def point_at_evil(config):
        layer = config["config"]["layers"][1]
        layer.update(module="dlkit_evil", class_name="system", registered_name=None)

    evil = tmp_path / "evil.keras"
    rewrite_config(small_model_file(tmp_path), evil, point_at_evil)
    with pytest.raises(dlkit.ModelFileError, match="refused in safe mode"):
        dlkit.load_model(evil)
    assert not evil_module.exists()
    assert "dlkit_evil" not in sys.modules


def test_a_model_file_with_a_lambda_is_refused(tmp_path, evil_module):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2)])
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(dlkit.ModelFileError, match="refused in safe mode"):
        dlkit.load_model(path)


def test_missing_and_corrupt_model_files(tmp_path):
    with pytest.raises(dlkit.ModelFileError, match="no such model file"):
        dlkit.load_model(tmp_path / "nope.keras")
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(dlkit.ModelFileError, match="not a readable .keras file|refused"):
        dlkit.load_model(tmp_path / "bad.keras")


@pytest.mark.parametrize("where", ["layer", "activation", "initializer", "loss", "optimizer"])
def test_a_spec_naming_a_module_imports_nothing(where, evil_module):
    spec = {"model": {"input_shape": [3], "layers": [{"type": "Dense", "units": 1}]},
            "compile": {"loss": "mse"}}
    layer = spec["model"]["layers"][0]
    if where == "layer":
        layer["type"] = "dlkit_evil.system"
    elif where == "activation":
        layer["activation"] = "dlkit_evil.system"
    elif where == "initializer":
        layer["kernel_initializer"] = {"type": "dlkit_evil.system"}
    elif where == "loss":
        spec["compile"]["loss"] = "dlkit_evil.system"
    else:
        spec["compile"]["optimizer"] = {"type": "system", "module": "dlkit_evil"}
    with pytest.raises(dlkit.SpecError):
        dlkit.build(spec)
    assert not evil_module.exists()
    assert "dlkit_evil" not in sys.modules


def test_a_registered_name_that_is_not_a_layer_is_refused(evil_module):
    spec = {"model": {"input_shape": [3], "layers": [{"type": "system"}]},
            "compile": {"loss": "mse"}}
    with pytest.raises(dlkit.SpecError, match="unknown layer type 'system'"):
        dlkit.build(spec)
    assert not evil_module.exists()
