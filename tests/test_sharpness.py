"""dlkit._analysis.sharpness: Hessian top eigenvalue by power iteration, epsilon-sharpness."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from dlkit._analysis.sharpness import sharpness


def linear(features: int, *, bias: bool = True) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((features,)), keras.layers.Dense(1, use_bias=bias)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def regression(n: int = 120, features: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, features)) * np.linspace(2.0, 0.3, features)
    y = x @ rng.normal(size=features) + 0.1 * rng.normal(size=n)
    return x.astype(np.float32), y[:, None].astype(np.float32)


def test_linear_regression_top_eigenvalue_is_numpys_within_one_percent():
    x, y = regression()
    model = linear(x.shape[1], bias=False)
    result = sharpness(model, x, y)
    hessian = 2.0 / len(x) * x.astype(np.float64).T @ x  # MSE: H = (2/N) X^T X
    expected = np.linalg.eigvalsh(hessian).max()
    assert result["hessian_top_eigenvalue"] == pytest.approx(expected, rel=0.01)
    power = result["power_iteration"]
    assert power["converged"] and power["iterations"] == len(power["eigenvalues"]) <= 50
    assert len(power["relative_changes"]) == power["iterations"] - 1
    assert power["relative_changes"][-1] < 1e-3


def test_the_bias_counts_as_a_column_of_ones_and_batches_do_not_change_the_answer():
    x, y = regression(n=50)
    model = linear(x.shape[1])
    design = np.hstack([x, np.ones((len(x), 1), np.float32)]).astype(np.float64)
    expected = np.linalg.eigvalsh(2.0 / len(x) * design.T @ design).max()
    whole = sharpness(model, x, y, tolerance=1e-6, iterations=200)
    batched = sharpness(model, x, y, tolerance=1e-6, iterations=200, batch_size=7)
    assert whole["hessian_top_eigenvalue"] == pytest.approx(expected, rel=1e-3)
    assert batched["hessian_top_eigenvalue"] == pytest.approx(expected, rel=1e-3)
    assert batched["epsilon_sharpness"] == pytest.approx(whole["epsilon_sharpness"], rel=1e-3)


def quadratic(scales: np.ndarray) -> tuple[keras.Model, np.ndarray, np.ndarray]:
    """Loss = mean_i (s_i w_i)^2 at w = 0: Hessian diag(2 s_i^2 / N), minimum 0."""
    x = np.diag(scales).astype(np.float32)
    model = linear(len(scales), bias=False)
    model.layers[0].kernel.assign(np.zeros((len(scales), 1), np.float32))
    return model, x, np.zeros((len(scales), 1), np.float32)


def test_a_known_quadratic_gives_its_eigenvalue_and_its_box_maximum():
    scales = np.array([3.0, 1.0, 0.5, 2.0])
    model, x, y = quadratic(scales)
    epsilon = 1e-2
    result = sharpness(model, x, y, epsilon=epsilon, tolerance=1e-6, iterations=100)
    assert result["hessian_top_eigenvalue"] == pytest.approx(2 * 9.0 / 4, rel=1e-4)
    # At w = 0 the box is |delta| <= epsilon and the largest loss is at a corner.
    assert result["loss"] == 0.0
    box_max = epsilon ** 2 * np.sum(scales ** 2) / len(scales)
    assert result["max_loss"] == pytest.approx(box_max, rel=1e-4)
    assert result["epsilon_sharpness"] == pytest.approx(100 * box_max, rel=1e-4)
    assert result["epsilon"] == epsilon


def test_a_sharper_quadratic_is_sharper_and_sharpness_is_never_negative():
    flat = sharpness(*quadratic(np.array([1.0, 0.5, 0.2])))
    sharp = sharpness(*quadratic(np.array([10.0, 5.0, 2.0])))
    assert 0.0 < flat["epsilon_sharpness"] < sharp["epsilon_sharpness"]
    assert flat["hessian_top_eigenvalue"] < sharp["hessian_top_eigenvalue"]
    # Far from the minimum the gradient is large, but the value is still a maximum over the box.
    model, x, y = quadratic(np.array([1.0, 2.0]))
    model.layers[0].kernel.assign(np.array([[5.0], [-3.0]], np.float32))
    assert sharpness(model, x, y, ascent_steps=1)["epsilon_sharpness"] >= 0.0


def test_any_compiled_model_works_its_weights_stay_and_the_result_is_json():
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 6, 6, 1), dtype=np.float32), rng.integers(0, 3, 32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((6, 6, 1)),
        keras.layers.Conv2D(2, 3, activation="tanh", kernel_regularizer="l2"),
        keras.layers.BatchNormalization(), keras.layers.Flatten(), keras.layers.Dropout(0.5),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = model.get_weights()
    result = sharpness(model, x, y, iterations=5, ascent_steps=2, batch_size=10)
    json.dumps(result)
    assert set(result) >= {"hessian_top_eigenvalue", "epsilon_sharpness", "epsilon"}
    assert np.isfinite(result["hessian_top_eigenvalue"]) and result["epsilon_sharpness"] >= 0
    assert result["loss"] == pytest.approx(model.evaluate(x, y, verbose=0), abs=1e-5)
    for after, saved in zip(model.get_weights(), before):
        np.testing.assert_array_equal(after, saved)


def test_one_iteration_is_recorded_as_not_converged():
    x, y = regression(n=20)
    power = sharpness(linear(x.shape[1]), x, y, iterations=1)["power_iteration"]
    assert power == {"eigenvalues": power["eigenvalues"], "relative_changes": [],
                     "iterations": 1, "converged": False, "tolerance": 1e-3}


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"iterations": 0}, "argument iterations.*Received: iterations=0"),
    ({"tolerance": -1.0}, "argument tolerance.*Received: tolerance=-1.0"),
    ({"epsilon": 0.0}, "argument epsilon.*Received: epsilon=0.0"),
    ({"ascent_steps": 0}, "Received: ascent_steps=0"),
    ({"batch_size": 0}, "Received: batch_size=0"),
    ({"seed": -1}, "Received: seed=-1"),
])
def test_bad_arguments_are_refused_by_name(kwargs, match):
    x, y = regression(n=10)
    with pytest.raises(ValueError, match=match):
        sharpness(linear(x.shape[1]), x, y, **kwargs)
