"""`deterministic: true`: bitwise-identical runs."""

import numpy as np

import dlkit


def test_deterministic_runs_are_bitwise_identical(mlp, log_root):
    mlp.update(deterministic=True, seed=3)
    mlp["model"]["layers"].insert(1, {"type": "Dropout", "rate": 0.3})
    first = dlkit.train(mlp, verbose=0).model.get_weights()
    second = dlkit.train(mlp, verbose=0).model.get_weights()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    mlp["seed"] = 4
    third = dlkit.train(mlp, verbose=0).model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(first, third))



def test_a_deterministic_run_prints_nothing_but_its_results(tmp_path, mlp):
    """No TensorFlow warnings: no retracing, and no C++ line about parallel maps made
    sequential (Keras slices arrays with a parallel map; dlkit batches them plainly)."""
    import yaml

    from conftest import cli

    mlp.update(deterministic=True, seed=3)
    mlp["train"]["epochs"] = 6  # retracing warnings come after the fifth call
    path = tmp_path / "det.yaml"
    path.write_text(yaml.safe_dump(mlp))
    result = cli("train", str(path), "--logdir", str(tmp_path / "logs"), "--quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == "", result.stderr[-3000:]
    assert result.stdout.startswith("best epoch ")
