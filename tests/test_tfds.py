"""``source: tfds:<name>``: TensorFlow Datasets, and a clear error when it cannot download."""

import socket

import pytest

import dlkit
from dlkit._data import tfds_source


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again: connecting is refused, as offline


def test_an_offline_download_fails_fast_with_advice_and_writes_nothing(tmp_path, mlp,
                                                                       log_root, monkeypatch):
    monkeypatch.setattr(tfds_source, "PROBE", ("127.0.0.1", closed_port()))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    mlp["data"] = {"source": "tfds:mnist"}
    mlp["model"]["input_shape"] = [28, 28, 1]
    with pytest.raises(dlkit.DataError, match=r"data.source: could not download TensorFlow "
                       r"Datasets 'mnist': 127.0.0.1 cannot be reached .*offline") as info:
        dlkit.train(mlp, verbose=0)
    assert info.value.errors[0].path == "data.source"
    assert not log_root.exists() and not (tmp_path / "tfds").exists()


def test_an_unknown_dataset_name_is_a_data_error(mlp):
    mlp["data"] = {"source": "tfds:no_such_dataset_here"}
    with pytest.raises(dlkit.DataError, match="unknown TensorFlow Datasets name "
                       "'no_such_dataset_here'"):
        dlkit.train(mlp, verbose=0)


def test_tfds_names_pass_validation_and_bare_prefixes_do_not():
    dlkit.load_spec({"data": {"source": "tfds:mnist"}, "model": {
        "input_shape": [4], "layers": [{"type": "Dense", "units": 1}]},
        "compile": {"optimizer": "sgd", "loss": "mse"}})
    with pytest.raises(dlkit.SpecError, match="tfds:<dataset>"):
        dlkit.load_spec({"data": {"source": "tfds:"}, "model": {
            "input_shape": [4], "layers": [{"type": "Dense", "units": 1}]},
            "compile": {"optimizer": "sgd", "loss": "mse"}})
