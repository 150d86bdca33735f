"""Every example script and notebook runs as it is (on fewer epochs) and shows what it claims."""

import importlib.util
import json
import os
import signal
import subprocess
import sys

import nbformat
import numpy as np
import pytest

from conftest import EXAMPLES, REPO

NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
SCRIPTS = sorted(EXAMPLES.glob("*.py"))


def load_example(name, epochs, monkeypatch):
    """Imports examples/<name>.py afresh with DLKIT_EXAMPLE_EPOCHS set."""
    monkeypatch.setenv("DLKIT_EXAMPLE_EPOCHS", str(epochs))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_activations_relu_and_tanh_beat_saturating_sigmoid(tmp_path, monkeypatch):
    result = load_example("compare_activations", 4, monkeypatch).run(logdir=tmp_path)
    assert result["relu"] > 0.8 and result["tanh"] > 0.8
    assert result["sigmoid"] < result["relu"] - 0.3
    assert len(list(tmp_path.iterdir())) == 3  # one run each, one TensorBoard root


def test_initializers_zeros_leave_symmetric_dead_units(tmp_path, monkeypatch):
    result = load_example("compare_initializers", 4, monkeypatch).run(logdir=tmp_path)
    zeros, he = result["zeros"], result["he_normal"]
    assert zeros["unit_spread"] == 0.0  # every hidden unit identical: symmetric neurons
    assert zeros["dead_relus"] == 1.0 and zeros["warned"] is True
    assert he["val_accuracy"] > zeros["val_accuracy"] + 0.5
    assert result["glorot_uniform"]["unit_spread"] > 0.05 and not he["warned"]


def test_losses_mae_and_huber_resist_outliers(tmp_path, monkeypatch):
    result = load_example("compare_losses", 20, monkeypatch).run(logdir=tmp_path)
    assert abs(result["offset mse"]) > 2 * abs(result["offset mae"])
    assert abs(result["offset mse"]) > abs(result["offset huber"])
    assert abs(result["slope mae"] - 2.0) < 0.2
    assert result["accuracy binary_crossentropy"] > 0.8 and result["accuracy hinge"] > 0.8


def test_optimizers_and_batch_sizes(tmp_path, monkeypatch):
    result = load_example("compare_optimizers", 2, monkeypatch).run(logdir=tmp_path)
    for better in ("momentum", "rmsprop", "adam", "adagrad"):
        assert result[better] < result["sgd"], (better, result)
    assert result["stochastic"] < result["mini-batch"] < result["batch"]


def test_regularization_narrows_the_gap(tmp_path, monkeypatch):
    result = load_example("regularization", 12, monkeypatch).run(logdir=tmp_path)
    assert result["overfitting"]["accuracy_gap"] > 0.04
    assert result["regularized"]["accuracy_gap"] < result["overfitting"]["accuracy_gap"] - 0.02


def test_lstm_beats_the_zero_baseline(tmp_path, monkeypatch):
    result = load_example("lstm_sine", 3, monkeypatch).run(logdir=tmp_path)
    assert result["val_mse"] < 0.1 * result["baseline_mse"]


def test_landscapes_large_batches_sharper_schedules_settle_and_he_keeps_the_spread(
        tmp_path, monkeypatch):
    result = load_example("loss_landscapes", 3, monkeypatch).run(logdir=str(tmp_path))
    small, large = result["batch_sizes"]["small"], result["batch_sizes"]["large"]
    assert large["hessian_top_eigenvalue"] > 1.5 * small["hessian_top_eigenvalue"]
    assert (tmp_path / "batch_sizes.png").is_file()
    steady, halving = result["schedule_path"]["constant"], result["schedule_path"]["schedule"]
    assert halving["last_step"] / halving["first_step"] < \
        0.5 * steady["last_step"] / steady["first_step"]
    assert halving["loss_end"] < halving["loss_start"] - 1.0
    zeros, glorot, he = (result["initializers"][name]
                         for name in ("zeros", "glorot_uniform", "he_normal"))
    assert zeros["dead"] == [1.0] * 6 and zeros["gradient"] == [0.0] * 6
    assert {"dead", "symmetric", "vanishing"} <= set(zeros["warnings"])
    assert glorot["spread"][-1] < 0.5 * glorot["spread"][0]  # fades with depth
    assert he["spread"][-1] > 0.6 * he["spread"][0] and he["warnings"] == []


@pytest.mark.slow
def test_own_images_train_from_a_folder_with_its_class_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = load_example("own_images", 4, monkeypatch).run(logdir="logs")
    assert result["val_accuracy"] > 0.8
    status = json.loads((tmp_path / result["log_dir"] / "run.json").read_text())
    assert status["classes"] == sorted(["zero", "one", "two", "three", "four", "five", "six",
                                        "seven", "eight", "nine"])
    assert len(list((tmp_path / "digit_images").rglob("*.png"))) == 1797


@pytest.mark.slow
def test_own_text_classifies_new_notes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = load_example("own_text", 5, monkeypatch).run(logdir="logs")
    assert result["val_accuracy"] > 0.9
    assert result["answers"] == ["football", "cooking"]
    status = json.loads((tmp_path / result["log_dir"] / "run.json").read_text())
    assert status["adapted"] and status["classes"] == ["cooking", "football", "weather"]


@pytest.mark.slow
def test_own_csv_predicts_on_raw_rows_with_blanks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = load_example("own_csv", 10, monkeypatch).run(logdir="logs")
    assert result["val_accuracy"] > 0.7
    girl, man = result["p_yes"]
    assert girl > 0.6 > man


def test_toy_resnet_has_the_guides_size_and_learns_the_shapes(tmp_path, monkeypatch):
    module = load_example("toy_resnet", 5, monkeypatch)
    result = module.run(logdir=tmp_path / "logs", data=str(tmp_path / "shapes.npz"),
                        samples=1200)
    assert result["parameters"] == 223_242
    assert result["val_acc"] > 2.5 * result["chance"]


def test_two_inputs_two_outputs_learn_both_heads_from_both_inputs(tmp_path, monkeypatch):
    module = load_example("digits_two_heads", 6, monkeypatch)
    result = module.run(logdir=tmp_path / "logs", data=str(tmp_path / "two.npz"))
    assert result["val_digit_accuracy"] > 0.8
    assert result["val_ink_mae"] < 0.5 * result["ink_baseline_mae"]
    assert result["ink_mae_meta_shuffled"] > 2 * result["val_ink_mae"]  # it uses the meta input
    assert {"digit_loss", "ink_loss", "val_digit_accuracy", "val_ink_mae"} <= \
        set(result["history"])


def test_autoencoder_flags_outliers_and_its_codes_cluster_the_digits(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = load_example("digits_autoencoder", 12, monkeypatch).run(logdir="logs")
    assert result["auc_noise"] > 0.98 and result["auc_shuffled"] > 0.98
    assert result["flagged_digits"] < 0.05
    assert result["flagged_noise"] > 0.95 and result["flagged_shuffled"] > 0.95
    assert result["purity"] > 0.6  # 10 clusters of 8-number codes; about 0.1 by chance
    assert (tmp_path / "anomaly_scores.png").stat().st_size > 1000


def test_gan_learns_to_draw_the_moons(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = load_example("moons_gan", 40, monkeypatch).run(logdir="logs")
    assert result["coverage_trained"] < 0.3 * result["coverage_untrained"]
    assert result["on_moons_trained"] < 0.15
    assert result["snapshots"] == [0, 10, 20, 30, 40][:len(result["snapshots"])]
    assert {"d_loss", "g_loss", "val_mmd"} <= set(result["history"])
    assert (tmp_path / "moons_gan.png").stat().st_size > 1000


def test_a_script_runs_from_the_command_line(tmp_path):
    env = {**os.environ, "DLKIT_EXAMPLE_EPOCHS": "2"}
    result = subprocess.run([sys.executable, str(EXAMPLES / "lstm_sine.py")], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "validation MSE" in result.stdout
    assert (tmp_path / "logs" / "lstm" / "lstm-sine").is_dir()


def execute(path, tmp_path, monkeypatch, epochs):
    """Runs a notebook with a real kernel in tmp_path; returns it and its last printed JSON."""
    from nbclient import NotebookClient

    monkeypatch.setenv("DLKIT_EXAMPLE_EPOCHS", str(epochs))
    # As in an activated environment: %tensorboard runs the `tensorboard` program on PATH.
    monkeypatch.setenv("PATH", f"{os.path.dirname(sys.executable)}{os.pathsep}"
                       f"{os.environ.get('PATH', '')}")
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    last = notebook.cells[-1]["outputs"]
    text = "".join(o.get("text", "") for o in last if o["output_type"] == "stream")
    return notebook, json.loads(text.strip().splitlines()[-1])


@pytest.fixture
def stop_tensorboards(tmp_path):
    """Stops any TensorBoard server a notebook started on this test's logs."""
    yield
    from tensorboard import manager

    for info in manager.get_all():
        if str(tmp_path) in info.logdir or info.logdir.startswith("logs/"):
            try:
                os.kill(info.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def test_quickstart_notebook(tmp_path, monkeypatch):
    _, result = execute(EXAMPLES / "quickstart.ipynb", tmp_path, monkeypatch, epochs=4)
    assert result["val_accuracy"] > 0.8
    assert result["caught"] == ["model.layers[0].activation", "compile.loss"]
    assert result["params"] > 0
    assert (tmp_path / "logs" / "quickstart").is_dir()


def test_tensorboard_notebook_starts_a_dashboard(tmp_path, monkeypatch, stop_tensorboards):
    notebook, result = execute(EXAMPLES / "tensorboard.ipynb", tmp_path, monkeypatch, epochs=3)
    assert result["0.1"] > result["0.01"]  # the larger rate learns faster in 3 epochs
    outputs = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert "tensorboard-frame" in outputs, outputs[-3000:]  # the dashboard, framed inline
    assert "image/png" in outputs  # the confusion matrix shown inline


def test_regularization_notebook(tmp_path, monkeypatch):
    notebook, gaps = execute(EXAMPLES / "regularization.ipynb", tmp_path, monkeypatch, epochs=12)
    assert gaps["regularized"] < gaps["overfitting"] - 0.02
    assert "image/png" in json.dumps([cell.get("outputs", []) for cell in notebook.cells])


def test_optimizers_notebook(tmp_path, monkeypatch):
    _, losses = execute(EXAMPLES / "optimizers.ipynb", tmp_path, monkeypatch, epochs=3)
    assert losses["adam"] < losses["sgd"] and losses["momentum"] < losses["sgd"]
    assert losses["sgd-decay"] < losses["sgd"]


@pytest.mark.slow
def test_deploy_notebook_predicts_exports_and_serves(tmp_path, monkeypatch):
    monkeypatch.setenv("DLKIT_EXAMPLES", str(EXAMPLES))
    _, result = execute(EXAMPLES / "deploy.ipynb", tmp_path, monkeypatch, epochs=4)
    assert result["served"] == result["predicted"]  # the server computes what predict computes
    assert np.mean(np.array(result["predicted"]) == result["truth"]) > 0.7
    assert np.mean(np.array(result["onnx"]) == result["predicted"]) >= 0.9  # float32 export
    assert result["exports"] == ["export/saved_model", "export/onnx", "export/litert",
                                 "export/litert-int8"]
    assert result["max_abs_diff"] <= 1e-4 and result["server_exit"] == 0
    [run_dir] = (tmp_path / "logs" / "digits-deploy").iterdir()
    assert (run_dir / "predictions" / "new_rows.csv").is_file()
    # raw table rows: class names from run.json, blanks and an unseen port predicted
    assert result["table_columns"] == ["prediction", "p_no", "p_yes"]
    assert len(result["table_predicted"]) == 2 and set(result["table_predicted"]) <= {"no", "yes"}
    assert result["table_export_diff"] <= 1e-4 and result["onnx_refused"]


def test_landscapes_notebook(tmp_path, monkeypatch):
    notebook, result = execute(EXAMPLES / "landscapes.ipynb", tmp_path, monkeypatch, epochs=3)
    assert result["sharpness"]["256"] > 1.5 * result["sharpness"]["16"]
    assert result["last_step"]["halved every epoch"] < 0.5 * result["last_step"]["constant rate"]
    assert result["spread_kept"]["he_normal"] > 0.6 > 0.5 > result["spread_kept"]["glorot_uniform"]
    assert {"dead", "symmetric", "vanishing"} <= set(result["zeros_warnings"])
    assert result["he_warnings"] == []
    outputs = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert outputs.count("image/png") >= 3  # the surfaces, the paths, the spreads


def test_search_notebook_searches_and_opens_the_hparams_view(tmp_path, monkeypatch,
                                                           stop_tensorboards):
    monkeypatch.setenv("DLKIT_EXAMPLE_TRIALS", "3")
    notebook, result = execute(EXAMPLES / "search.ipynb", tmp_path, monkeypatch, epochs=3)
    assert result["trials"] == result["completed"] == 3
    assert result["caught"] == ["model.layers[0].activation.values[1]"]
    search_dir = tmp_path / result["log_dir"]
    summary = json.loads((search_dir / "search.json").read_text())
    assert summary["best"]["score"] == result["best_score"]
    assert list(search_dir.glob("events.out.tfevents.*"))  # the HPARAMS experiment
    outputs = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert "tensorboard-frame" in outputs, outputs[-3000:]  # the dashboard, framed inline
    assert "rank  trial  val_accuracy" in outputs  # the ranked table


@pytest.mark.slow
def test_autoencoder_notebook(tmp_path, monkeypatch):
    notebook, result = execute(EXAMPLES / "digits_autoencoder.ipynb", tmp_path, monkeypatch,
                               epochs=12)
    assert min(result["auc"].values()) > 0.98 and result["flagged"]["held-out digits"] < 0.05
    assert result["purity"] > 0.6
    assert "image/png" in json.dumps([cell.get("outputs", []) for cell in notebook.cells])


@pytest.mark.slow
def test_gan_notebook(tmp_path, monkeypatch):
    notebook, result = execute(EXAMPLES / "moons_gan.ipynb", tmp_path, monkeypatch, epochs=40)
    assert result["coverage_trained"] < 0.3 * result["coverage_untrained"]
    assert {"d_loss", "g_loss", "mmd", "val_mmd"} <= set(result["history"])
    outputs = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert outputs.count("image/png") >= 2  # the snapshots over the data, the losses


def test_there_are_the_promised_notebooks():
    assert {p.stem for p in NOTEBOOKS} >= {"quickstart", "tensorboard", "regularization",
                                            "optimizers", "deploy", "landscapes", "search",
                                            "digits_autoencoder", "moons_gan"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    assert "pip" in notebook.cells[1].source  # the first code cell installs dlkit if missing


@pytest.mark.parametrize("path", [*SCRIPTS, *NOTEBOOKS], ids=lambda p: p.name)
def test_every_example_is_linked_from_the_readme(path):
    assert f"examples/{path.name}" in (REPO / "README.md").read_text()
