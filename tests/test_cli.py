"""The real `dlkit` command in a new process: exit codes, messages, no tracebacks."""

import json

import numpy as np
import yaml

from conftest import EXAMPLES, MLP, cli, python


def write_spec(tmp_path, spec, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec))
    return path


def test_help_and_argument_parsing_import_no_tensorflow():
    code = ("import sys\nfrom dlkit._cli import main\n"
            "for argv in (['--help'], ['train', '--help'], ['validate'], ['bogus'],\n"
            "             ['predict', '--help'], ['export', '--help'], ['serve', '--help'],\n"
            "             ['export', 'RUN', '--format', 'tflite'], ['search', '--help'],\n"
            "             ['search', 'x.yaml', '--workers', '0'], ['score', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit as exc:\n"
            "        assert exc.code in (0, 2), exc.code\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n")
    result = python(code)
    assert result.returncode == 0, result.stderr
    assert "usage: dlkit" in result.stdout


def test_help_lists_the_verbs():
    result = cli("--help")
    assert result.returncode == 0
    assert "train" in result.stdout and "validate" in result.stdout and "search" in result.stdout
    for verb in ("predict", "score", "export", "serve", "landscape", "diagnose"):
        assert verb in result.stdout


def test_validate_ok_prints_one_summary_line():
    result = cli("validate", str(EXAMPLES / "digits_cnn.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [
        "ok: digits-cnn: 7 layers, 17,322 parameters, loss sparse_categorical_crossentropy, "
        "optimizer Adam"]
    assert "I0000" not in result.stderr and "cuda" not in result.stderr.lower()


def test_validate_summarises_a_graph_and_takes_overrides_of_its_nodes():
    result = cli("validate", str(EXAMPLES / "digits_two_heads.yaml"), "--set",
                 "model.graph[5].units=32")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [
        "ok: digits-two-heads: 10 layers (2 inputs, 2 outputs), 11,579 parameters, losses "
        "digit sparse_categorical_crossentropy, ink mse, optimizer Adam"]


def test_validate_lists_every_error_without_a_traceback(tmp_path):
    spec = json.loads(json.dumps(MLP))
    spec["model"]["layers"][0]["activation"] = "rleu"
    spec["compile"]["loss"] = "msee"
    spec["trian"] = {}
    result = cli("validate", str(write_spec(tmp_path, spec)))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "3 problems in the spec" in result.stderr
    for words in ("trian: unknown key 'trian' (did you mean 'train'?)",
                  "model.layers[0].activation: unknown activation 'rleu' (did you mean 'relu'?)",
                  "compile.loss: unknown loss 'msee' (did you mean 'mse'?)"):
        assert words in result.stderr


def test_validate_catches_shape_mistakes_and_bad_overrides(tmp_path):
    spec = json.loads(json.dumps(MLP))
    path = write_spec(tmp_path, spec)
    result = cli("validate", str(path), "--set",
                 "model.layers[0]={type: Conv2D, filters: 2, kernel_size: 3}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "model.layers[0]: Conv2D cannot take its input of shape (None, 64)" in result.stderr
    result = cli("validate", str(path), "--set", "model.layers[7].units=3")
    assert result.returncode == 2 and "no item [7] to set" in result.stderr


def test_train_with_overrides_writes_a_run(tmp_path):
    path = write_spec(tmp_path, MLP)
    logs = tmp_path / "runs"
    result = cli("train", str(path), "--set", "train.epochs=1", "--set",
                 "model.layers[0].units=8", "--logdir", str(logs), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "I0000" not in result.stderr
    [run_dir] = (logs / "tiny-mlp").iterdir()
    assert f"run directory: {run_dir}" in result.stdout
    assert "best epoch 1 of 1 by val_loss" in result.stdout
    saved = yaml.safe_load((run_dir / "spec.yaml").read_text())
    assert saved["train"]["epochs"] == 1 and saved["model"]["layers"][0]["units"] == 8


def test_missing_spec_missing_data_and_bad_arrays_exit_2(tmp_path):
    logs = tmp_path / "runs"
    result = cli("train", str(tmp_path / "nope.yaml"), "--logdir", str(logs))
    assert result.returncode == 2 and "no such spec file" in result.stderr

    spec = {**MLP, "data": {"source": "npz", "path": str(tmp_path / "gone.npz")}}
    result = cli("train", str(write_spec(tmp_path, spec)), "--logdir", str(logs))
    assert result.returncode == 2
    assert "data.path: no such file" in result.stderr and "Traceback" not in result.stderr

    np.savez(tmp_path / "wrong.npz", x=np.ones((20, 5)), y=np.zeros(20))
    spec["data"]["path"] = str(tmp_path / "wrong.npz")
    result = cli("train", str(write_spec(tmp_path, spec)), "--logdir", str(logs))
    assert result.returncode == 2
    assert "model.input_shape: the data's x samples have shape [5]" in result.stderr
    assert not logs.exists()  # nothing half-written


def test_unreachable_keras_dataset_gives_a_clear_message(tmp_path):
    spec = {**MLP, "data": {"source": "keras:mnist"}, "model": {
        "input_shape": [784], "layers": MLP["model"]["layers"]}}
    closed = "http://127.0.0.1:9"  # nothing listens: the download fails at once, on any machine
    result = cli("train", str(write_spec(tmp_path, spec)), "--logdir", str(tmp_path / "runs"),
                 env={"HOME": str(tmp_path), "KERAS_HOME": str(tmp_path / ".keras"),
                      "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "https_proxy": closed,
                      "http_proxy": closed})
    assert result.returncode == 2, result.stderr
    assert "could not download Keras dataset 'mnist'" in result.stderr
    assert "source: npz" in result.stderr and "Traceback" not in result.stderr


def test_diverging_training_exits_1(tmp_path):
    spec = {"name": "diverge", "data": {"source": "moons", "samples": 64},
            "model": {"input_shape": [2], "layers": [{"type": "Dense", "units": 1}]},
            "compile": {"optimizer": {"type": "SGD", "learning_rate": 1e12}, "loss": "mse"},
            "train": {"epochs": 3}}
    result = cli("train", str(write_spec(tmp_path, spec)), "--logdir", str(tmp_path / "runs"),
                 "--quiet")
    assert result.returncode == 1
    assert "training failed: the loss became" in result.stderr and "in epoch" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_directory_problems_exit_2_without_a_traceback(tmp_path):
    path = write_spec(tmp_path, MLP)
    result = cli("train", str(path), "--logdir", str(tmp_path / "runs"), "--resume")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: --resume: no unfinished run of 'tiny-mlp'" in result.stderr
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = cli("train", str(path), "--logdir", str(blocker / "runs"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "cannot create a run directory under" in result.stderr
