"""The pictures a finished run leaves: learning curves and the confusion matrix."""

import dlkit


def test_no_confusion_matrix_for_regression(log_root):
    spec = {"name": "reg", "data": {"source": "sine", "samples": 64},
            "model": {"input_shape": [5, 1], "layers": [{"type": "SimpleRNN", "units": 4},
                                                         {"type": "Dense", "units": 1}]},
            "compile": {"loss": "mse"}, "train": {"epochs": 1}}
    run = dlkit.train(spec, verbose=0)
    assert (run.log_dir / "learning_curve.png").exists()
    assert not (run.log_dir / "confusion_matrix.png").exists()

