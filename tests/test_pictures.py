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



def test_the_learning_curve_has_a_panel_per_metric_with_the_best_epoch_marked():
    from dlkit._train.pictures import best_epoch, learning_curve_figure

    metrics = {"accuracy": [0.5, 0.7, 0.8], "loss": [1.0, 0.6, 0.4], "val_accuracy": [0.5, 0.75,
               0.7], "val_loss": [0.9, 0.7, 0.8], "learning_rate": [0.1] * 3}
    best = {"monitor": "val_accuracy", "goal": "max", "epoch": 2, "value": 0.75}
    figure = learning_curve_figure(metrics, "t", best=best)
    assert [axes.get_title() for axes in figure.axes] == ["loss", "accuracy"]
    for axes in figure.axes:
        labels = [line.get_label() for line in axes.get_lines()]
        assert labels == ["train", "validation", "best: epoch 2 (val_accuracy)"]
        assert list(axes.get_lines()[-1].get_xdata()) == [2, 2]
    assert best_epoch(metrics) == {"monitor": "val_loss", "goal": "min", "epoch": 2,
                                   "value": 0.7}
    assert best_epoch(metrics, best) is best and best_epoch({}) is None


def test_a_run_marks_the_epoch_early_stopping_chose(mlp):
    mlp["train"]["epochs"] = 3
    mlp["callbacks"] = {"early_stopping": {"monitor": "val_accuracy", "patience": 5}}
    run = dlkit.train(mlp, verbose=0)
    values = run.history["val_accuracy"]
    assert run.best["monitor"] == "val_accuracy" and run.best["goal"] == "max"
    assert run.best["epoch"] == values.index(max(values)) + 1
