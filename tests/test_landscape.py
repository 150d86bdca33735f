"""dlkit._analysis: filter-normalised directions, the in-graph loss surface and line, the files."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from dlkit._analysis.directions import filter_normalized_direction
from dlkit._analysis.surface import loss_line, loss_surface


def small_cnn(regularized: bool = True) -> keras.Model:
    """Conv (L2 kernel penalty) -> BatchNorm -> Dense (L1 activity penalty), compiled."""
    keras.utils.set_random_seed(0)
    reg = {"kernel_regularizer": keras.regularizers.L2(0.01)} if regularized else {}
    act = {"activity_regularizer": keras.regularizers.L1(0.01)} if regularized else {}
    model = keras.Sequential([
        keras.Input((6, 6, 1)),
        keras.layers.Conv2D(3, 3, activation="relu", **reg),
        keras.layers.BatchNormalization(),
        keras.layers.Flatten(),
        keras.layers.Dense(4, activation="softmax", **act),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def data(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.random((n, 6, 6, 1), dtype=np.float32), rng.integers(0, 4, n)


def trained() -> tuple[keras.Model, np.ndarray, np.ndarray]:
    x, y = data()
    model = small_cnn()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)  # moves BatchNorm statistics off 0 and 1
    return model, x, y


def directions_for(model: keras.Model, seed: int = 0) -> tuple[list, list]:
    weights = [v.numpy() for v in model.trainable_variables]
    rng = np.random.default_rng(seed)
    return filter_normalized_direction(weights, rng), filter_normalized_direction(weights, rng)


def tensorboard_tags(folder) -> set[tuple[str, int]]:
    """Every (tag, step) written to the event files in ``folder``."""
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return {(tag, event.step) for tag in accumulator.Tags()["tensors"]
            for event in accumulator.Tensors(tag)}


def assign_trainable(model: keras.Model, values: list) -> None:
    for variable, value in zip(model.trainable_variables, values):
        variable.assign(value)


# --- directions -----------------------------------------------------------------------------


def test_directions_have_the_filter_norms_of_the_weights_and_skip_1d_weights():
    rng = np.random.default_rng(0)
    conv = rng.normal(size=(3, 3, 2, 5)).astype(np.float32)
    dense = rng.normal(size=(7, 4)).astype(np.float32) * np.array([1.0, 10.0, 0.1, 0.0],
                                                                  np.float32)
    bias = rng.normal(size=(4,)).astype(np.float32)
    d_conv, d_dense, d_bias = filter_normalized_direction([conv, dense, bias], rng)
    for weight, direction in ((conv, d_conv), (dense, d_dense)):
        assert direction.shape == weight.shape and direction.dtype == weight.dtype
        axes = tuple(range(weight.ndim - 1))
        np.testing.assert_allclose(np.linalg.norm(direction, axis=axes) if weight.ndim == 2
                                   else np.sqrt((direction ** 2).sum(axis=axes)),
                                   np.sqrt((weight ** 2).sum(axis=axes)), rtol=1e-5, atol=1e-7)
        assert not np.allclose(direction, weight)  # noise, not a copy
    assert not d_bias.any() and d_bias.shape == bias.shape
    assert not d_dense[:, 3].any()  # a zero filter gets a zero direction


def test_directions_repeat_with_the_seed_and_differ_between_draws():
    weights = [np.ones((3, 2), np.float32)]
    first = filter_normalized_direction(weights, np.random.default_rng(5))[0]
    again = filter_normalized_direction(weights, np.random.default_rng(5))[0]
    other = filter_normalized_direction(weights, np.random.default_rng(6))[0]
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_directions_want_a_generator():
    with pytest.raises(ValueError, match="argument rng.*Received: rng=0"):
        filter_normalized_direction([np.ones((2, 2))], 0)


# --- surface and line -----------------------------------------------------------------------


def test_surface_matches_a_set_weights_evaluate_loop_and_keeps_the_weights():
    model, x, y = trained()
    before = model.get_weights()
    d1, d2 = directions_for(model)
    surface = loss_surface(model, x, y, (d1, d2), grid=3, span=0.5, batch_size=16)
    assert surface["loss"].shape == (3, 3)
    np.testing.assert_allclose(surface["alpha"], [-0.5, 0.0, 0.5])
    for after, saved in zip(model.get_weights(), before):
        np.testing.assert_array_equal(after, saved)
    # The centre is the model's own loss, penalties included.
    evaluated = model.evaluate(x, y, batch_size=16, verbose=0)
    assert surface["loss"][1, 1] == pytest.approx(evaluated, abs=1e-5)
    center = [v.numpy() for v in model.trainable_variables]
    for i, a in enumerate(surface["alpha"]):
        for j, b in enumerate(surface["beta"]):
            assign_trainable(model, [c + a * u + b * v for c, u, v in zip(center, d1, d2)])
            expected = model.evaluate(x, y, batch_size=16, verbose=0)
            assert surface["loss"][i, j] == pytest.approx(expected, abs=1e-5), (a, b)
    assign_trainable(model, center)


def test_surface_accepts_float64_get_weights_shaped_directions_and_reports_progress():
    model, x, y = trained()
    rng = np.random.default_rng(0)
    as_float64 = [w.astype(np.float64) for w in model.get_weights()]
    full = [filter_normalized_direction(as_float64, rng) for _ in range(2)]
    calls = []
    surface = loss_surface(model, x, y, tuple(full), grid=7, span=1.0,
                           on_progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (49, 49) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) == 2  # chunks of 32 points
    assert np.isfinite(surface["loss"]).all() and surface["loss"].std() > 0


def test_line_goes_from_the_initial_to_the_final_weights():
    x, y = data()
    model = small_cnn()
    initial = model.get_weights()
    initial_loss = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    final = model.get_weights()
    line = loss_line(model, x, y, initial, final, points=8, start=-1.0, stop=2.5)
    np.testing.assert_allclose(line["t"], np.linspace(-1.0, 2.5, 8))
    assert line["loss"][4] == pytest.approx(model.evaluate(x, y, verbose=0), abs=1e-5)  # t=1
    for after, saved in zip(model.get_weights(), final):
        np.testing.assert_array_equal(after, saved)
    # At t=0 the trainable weights are the initial ones but BatchNorm keeps its final statistics.
    model.set_weights([*initial[:4], *final[4:6], *initial[6:]])
    assert line["loss"][2] == pytest.approx(model.evaluate(x, y, verbose=0), abs=1e-5)
    assert line["loss"][2] != pytest.approx(initial_loss, abs=1e-3)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"grid": 0}, "argument grid.*from 2 to 201.*Received: grid=0"),
    ({"grid": 100000}, "Received: grid=100000"),
    ({"grid": 2.5}, "Received: grid=2.5"),
    ({"span": 0.0}, "argument span.*Received: span=0.0"),
    ({"span": float("nan")}, "Received: span=nan"),
    ({"batch_size": 0}, "Received: batch_size=0"),
])
def test_surface_refuses_bad_arguments(kwargs, match):
    x, y = data(8)
    model = small_cnn(regularized=False)
    args = {"grid": 3, "span": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        loss_surface(model, x, y, directions_for(model), **args)


def test_surface_refuses_directions_that_do_not_fit_and_uncompiled_models():
    x, y = data(8)
    model = small_cnn(regularized=False)
    d1, d2 = directions_for(model)
    with pytest.raises(ValueError, match=r"argument directions\[1\].*Received: 1 arrays"):
        loss_surface(model, x, y, (d1, d2[:1]), grid=3, span=1.0)
    with pytest.raises(ValueError, match="argument y.*as many samples as x"):
        loss_surface(model, x, y[:3], (d1, d2), grid=3, span=1.0)
    bare = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="argument model.*compiled"):
        loss_surface(bare, np.ones((2, 2)), np.ones(2), ([], []), grid=3, span=1.0)


def test_line_refuses_bad_points_and_reversed_ends():
    x, y = data(8)
    model = small_cnn(regularized=False)
    w = model.get_weights()
    with pytest.raises(ValueError, match="Received: points=1"):
        loss_line(model, x, y, w, w, points=1)
    with pytest.raises(ValueError, match="argument stop.*Received: stop=-1.0"):
        loss_line(model, x, y, w, w, points=3, start=0.0, stop=-1.0)


# --- pictures and files ---------------------------------------------------------------------


def test_pictures_are_pngs_drawn_without_pyplot():
    from conftest import REPO, python

    code = (
        "import sys, numpy as np\n"
        "from dlkit._analysis.pictures import contour_png, line_png, surface_png\n"
        "a = np.linspace(-1, 1, 5); loss = np.add.outer(a ** 2, a ** 2) + 1e-3\n"
        "loss[0, 0] = np.inf\n"
        "pngs = [surface_png(a, a, loss), contour_png(a, a, loss),"
        " line_png(a, np.array([1, 2, np.nan, 1e4, 3.0]))]\n"
        "assert all(p.startswith(b'\\x89PNG') and len(p) > 5000 for p in pngs)\n"
        "assert 'matplotlib.pyplot' not in sys.modules and 'tensorflow' not in sys.modules\n"
    )
    result = python(code, cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_landscape_files_writes_every_file_and_the_tensorboard_images(tmp_path):
    import json

    from dlkit._analysis.landscape import FILES, landscape_files

    x, y = data()
    model = small_cnn()
    initial = model.get_weights()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    final = model.get_weights()
    calls = []
    summary = landscape_files(tmp_path / "landscape", model, x, y, initial, grid=5, span=0.5,
                              tensorboard_dir=tmp_path / "tb", max_samples=30,
                              on_progress=lambda done, total: calls.append((done, total)))
    names = sorted(p.name for p in (tmp_path / "landscape").iterdir())
    assert names == sorted(FILES)  # and no temporary file left behind
    surface = np.load(tmp_path / "landscape" / "surface.npz")
    assert sorted(surface.files) == ["alpha", "beta", "loss"] and surface["loss"].shape == (5, 5)
    line = np.load(tmp_path / "landscape" / "line.npz")
    assert sorted(line.files) == ["loss", "t"] and line["t"][0] == -0.25 and line["t"][-1] == 1.5
    sharp = json.loads((tmp_path / "landscape" / "sharpness.json").read_text())
    assert {"hessian_top_eigenvalue", "epsilon_sharpness", "epsilon",
            "power_iteration"} <= set(sharp)
    assert summary["samples"] == 30 and summary["loss"] == pytest.approx(surface["loss"][2, 2])
    assert summary["line_final"] == pytest.approx(summary["loss"], abs=1e-5)
    assert calls[-1] == (25 + 36, 25 + 36) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    for after, saved in zip(model.get_weights(), final):
        np.testing.assert_array_equal(after, saved)
    assert tensorboard_tags(tmp_path / "tb") == {
        ("landscape/surface", 0), ("landscape/contour", 0), ("landscape/line", 0)}


def test_landscape_files_refuses_bad_arguments_before_writing_anything(tmp_path):
    from dlkit._analysis.landscape import landscape_files

    x, y = data(8)
    model = small_cnn(regularized=False)
    w = model.get_weights()
    with pytest.raises(ValueError, match="Received: grid=0"):
        landscape_files(tmp_path / "out", model, x, y, w, grid=0)
    with pytest.raises(ValueError, match="argument initial_weights"):
        landscape_files(tmp_path / "out", model, x, y, w[:-1], grid=3)
    with pytest.raises(ValueError, match="Received: max_samples=0"):
        landscape_files(tmp_path / "out", model, x, y, w, max_samples=0)
    assert not (tmp_path / "out").exists()
