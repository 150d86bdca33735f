"""dlkit.landscape and `dlkit landscape`: a run directory's surface, line, path and sharpness."""

from __future__ import annotations

import copy
import io
import json
import shutil
import warnings

import keras
import numpy as np
import pytest
import yaml

import dlkit
from conftest import MLP, cli
from dlkit._analysis.landscape import FILES, PATH_FILES

# A float32 run (its validation loss can be compared with the landscape's to 1e-5) that keeps
# a checkpoint per epoch, so that it has a path.
SPEC = copy.deepcopy(MLP) | {
    "name": "landscape-mlp", "runtime": {"precision": "float32"}, "train": {"epochs": 3,
                                                                            "batch_size": 64},
    "callbacks": {"checkpoint": {"save_best_only": False, "save_weights_only": True},
                  "backup": False}}


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    """One trained run, shared; tests that write a landscape of their own work on a copy."""
    return dlkit.train(SPEC, logdir=tmp_path_factory.mktemp("runs"), verbose=0)


@pytest.fixture(scope="session")
def drawn(run):
    """What the real `dlkit landscape RUN_DIR --grid 5` printed, its files in the run."""
    return cli("landscape", str(run.log_dir), "--grid", "5")


def copy_without(run_dir, tmp_path, name):
    """A copy of the run directory without ``name`` (nor its landscape)."""
    copied = tmp_path / "copy"
    shutil.copytree(run_dir, copied, ignore=shutil.ignore_patterns(name, "landscape"))
    return copied


def tensorboard_tags(folder) -> set[str]:
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return set(accumulator.Tags()["tensors"])


def train_split():
    from dlkit._spec.spec import plan_of
    from dlkit._train.fitdata import fit_arguments

    arrays = fit_arguments(plan_of(dlkit.load_spec(SPEC)), None)
    return arrays["x"], arrays["y"]


def test_a_runs_landscape_has_every_file_and_its_line_runs_from_initial_to_final(run, drawn):
    assert drawn.returncode == 0, drawn.stderr
    out = run.log_dir / "landscape"
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, *PATH_FILES])
    x, y = train_split()
    final_loss = dlkit.load_model(run.log_dir / "model.keras").evaluate(x, y, verbose=0)[0]
    model = dlkit.build(SPEC)
    model.load_weights(run.log_dir / "initial.weights.h5")
    initial_loss = model.evaluate(x, y, verbose=0)[0]
    line = np.load(out / "line.npz")
    assert line["t"][5] == pytest.approx(0.0) and line["t"][25] == pytest.approx(1.0)
    assert line["loss"][5] == pytest.approx(initial_loss, abs=1e-5)
    assert line["loss"][25] == pytest.approx(final_loss, abs=1e-5)
    assert initial_loss > final_loss + 0.2
    surface = np.load(out / "surface.npz")
    assert surface["loss"][2, 2] == pytest.approx(final_loss, abs=1e-5)
    path = np.load(out / "path.npz")
    assert list(path["epoch"]) == [0, 1, 2, 3] and path["loss"].shape == (5, 5)
    assert path["path_loss"][-1] == pytest.approx(final_loss, abs=1e-5)  # the last checkpoint
    assert 0.9 < path["explained"].sum() <= 1.0 + 1e-9
    sharp = json.loads((out / "sharpness.json").read_text())
    assert sharp["hessian_top_eigenvalue"] > 0 and sharp["epsilon_sharpness"] >= 0
    assert {"landscape/surface", "landscape/contour", "landscape/line",
            "landscape/path"} <= tensorboard_tags(run.log_dir)


def test_validation_data_is_the_runs_own_seeded_split(run, tmp_path, monkeypatch):
    monkeypatch.setattr(run, "log_dir", copy_without(run.log_dir, tmp_path, "landscape"))
    result = dlkit.landscape(run, grid=3, data="validation", verbose=0)  # a Run works too
    assert result["run_dir"] == str(tmp_path / "copy")
    assert result["samples"] == 359 and result["data"] == "validation"
    # Keras measured the last epoch's val_loss with the final weights, on the split of training.
    assert result["line_final"] == pytest.approx(run.history["val_loss"][-1], rel=1e-5)


def test_a_run_without_checkpoints_or_validation_data(run, tmp_path):
    plain = copy_without(run.log_dir, tmp_path, "checkpoints")
    spec = yaml.safe_load((plain / "spec.yaml").read_text())  # as if trained without either
    spec["data"]["validation_split"], spec["callbacks"]["checkpoint"] = None, False
    (plain / "spec.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises(dlkit.DataError, match="data.validation_split: the run .* trained "
                                              "without validation data; use --data train"):
        dlkit.landscape(plain, data="validation", verbose=0)
    assert not (plain / "landscape").exists()
    result = dlkit.landscape(plain, grid=3, samples=200, verbose=0)
    assert result["path"] is None and result["samples"] == 200
    assert sorted(p.name for p in (plain / "landscape").iterdir()) == sorted(FILES)


def test_what_is_not_a_finished_run_is_refused_with_what_to_do(run, tmp_path):
    with pytest.raises(dlkit.RunDirError, match="no such run directory"):
        dlkit.landscape(tmp_path / "nowhere")
    with pytest.raises(dlkit.RunDirError, match="not a dlkit run directory: it has no spec"):
        dlkit.landscape(tmp_path)
    unfinished = copy_without(run.log_dir, tmp_path, "model.keras")
    with pytest.raises(dlkit.ModelFileError, match=r"has no model.keras: the run's status is "
                                                   r"finished.*--resume"):
        dlkit.landscape(unfinished)
    shutil.rmtree(unfinished)
    older = copy_without(run.log_dir, tmp_path, "initial.weights.h5")
    with pytest.raises(dlkit.RunDirError, match=r"no initial.weights.h5.*older dlkit\. Train it "
                                                r"again .*: dlkit train .*spec.yaml"):
        dlkit.landscape(older)
    assert not (older / "landscape").exists()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"grid": 0}, "Received: grid=0"), ({"grid": 100000}, "Received: grid=100000"),
    ({"span": -1.0}, "Received: span=-1.0"), ({"samples": 0}, "Received: samples=0"),
    ({"data": "valid"}, "Received: data='valid'"),
])
def test_bad_arguments_are_refused_before_anything_is_read(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        dlkit.landscape(tmp_path / "nowhere", **kwargs)


def test_the_command_prints_the_numbers_and_where_the_files_are(run, drawn):
    assert drawn.returncode == 0, drawn.stderr
    out, result = drawn.stdout, drawn
    assert f"landscape of {run.log_dir} on 1438 train samples: 5x5 surface" in out
    assert "path: 4 points" in out and "top Hessian eigenvalue" in out
    assert f"files: {run.log_dir / 'landscape'}/ (surface.npz, line.npz" in out
    assert "landscape: 90/90 points in" in out  # the progress display, as plain lines in a pipe
    assert "\x1b[" not in out and "\r" not in out
    assert "Traceback" not in result.stderr and "E0000" not in result.stderr
    assert "retracing" not in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--grid", "0"], "argument --grid: expected an integer from 2 to 201, received '0'"),
    (["--grid", "100000"], "expected an integer from 2 to 201, received '100000'"),
    (["--span", "0"], "argument --span: expected a number above 0 and at most 1000"),
    (["--data", "test"], "argument --data: invalid choice: 'test'"),
])
def test_the_command_refuses_bad_options_with_exit_2(args, message, capsys):
    from dlkit._cli import main

    with pytest.raises(SystemExit) as stop:
        main(["landscape", "logs/x/1", *args])
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_the_command_says_what_is_wrong_with_a_run_directory(run, tmp_path, capsys,
                                                              monkeypatch):
    from dlkit._cli import main

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main replaces it
    assert main(["landscape", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'nowhere'}: no such run directory")
    assert "Traceback" not in err
    older = copy_without(run.log_dir, tmp_path, "initial.weights.h5")
    assert main(["landscape", str(older)]) == 2
    assert "has no initial.weights.h5" in capsys.readouterr().err


def test_the_progress_display_redraws_a_bar_and_prints_quarters_in_a_pipe():
    from dlkit._analysis.gridprogress import GridProgress

    stream, now = io.StringIO(), [0.0]
    bar = GridProgress("bar", stream=stream)
    bar.clock = lambda: now[0]
    for done in (0, 32, 64, 100):
        now[0] += 1.0
        bar(done, 100)
    text = stream.getvalue()
    assert "landscape  32/100 [======>" in text and "ETA 2.1s" in text  # 1 s for 32 points
    assert "100/100 [====================]  3.0s" in text and text.endswith("\n")
    stream = io.StringIO()
    lines = GridProgress("lines", stream=stream)
    lines.clock = lambda: now[0]
    for done in range(0, 101, 10):
        lines(done, 100)
    assert stream.getvalue().splitlines() == [
        f"landscape: {n}/100 points in 0.0s" for n in (30, 50, 80, 100)]


def test_mixed_precision_models_are_measured_in_float32():
    from dlkit._analysis.float32 import float32_twin

    def mlp(dtype):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(6, activation="tanh",
                                                                       dtype=dtype),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    rng = np.random.default_rng(0)
    x, y = rng.random((64, 8), dtype=np.float32), rng.integers(0, 3, 64)
    mixed, plain = mlp("mixed_bfloat16"), mlp("float32")
    twin = float32_twin(mixed)
    assert [layer.dtype_policy.name for layer in twin.layers] == ["float32", "float32"]
    assert float32_twin(plain) is plain
    for a, b in zip(twin.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert twin.evaluate(x, y, verbose=0) == pytest.approx(plain.evaluate(x, y, verbose=0),
                                                           abs=1e-6)
    assert mixed.evaluate(x, y, verbose=0) != pytest.approx(plain.evaluate(x, y, verbose=0),
                                                            abs=1e-6)  # what the twin avoids
    args = {"iterations": 5, "ascent_steps": 2}
    assert dlkit.sharpness(mixed, x, y, **args)["hessian_top_eigenvalue"] == pytest.approx(
        dlkit.sharpness(plain, x, y, **args)["hessian_top_eigenvalue"], rel=1e-6)


def test_the_path_plane_holds_a_path_that_lies_in_a_plane():
    from dlkit._analysis.trajectory import pca_plane

    rng = np.random.default_rng(0)
    final = [rng.normal(size=(3, 2)), rng.normal(size=(4,))]
    u, v = np.linalg.qr(rng.normal(size=(10, 2)))[0].T
    coords = np.array([[3.0, 1.0], [2.0, -0.5], [1.0, 0.2], [0.0, 0.0]])
    points = [[f + (a * u + b * v)[s].reshape(f.shape) for f, s in
               zip(final, (slice(0, 6), slice(6, 10)))] for a, b in coords]
    plane = pca_plane(points, final)
    assert plane["explained"].sum() == pytest.approx(1.0)
    found = plane["coords"]  # the same points, up to a rotation or reflection of the plane
    np.testing.assert_allclose(found @ found.T, coords @ coords.T, atol=1e-9)
    assert abs(found[0, 0]) > abs(found[0, 1])  # the first direction is the path's longest
    on_a_line = [[f + t * (a * u)[s].reshape(f.shape) for f, s in
                  zip(final, (slice(0, 6), slice(6, 10)))] for t, a in ((1, 1.0), (2, 1.0))]
    assert pca_plane(on_a_line, final) is None
