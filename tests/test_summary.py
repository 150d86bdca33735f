"""The summary `dlkit train` prints: the best epoch by the metric that chose it."""

from pathlib import Path

from dlkit import Run
from dlkit._cli.summary import summary_line

HISTORY = {"loss": [1.0, 0.5, 0.4], "val_loss": [0.9, 0.6, 0.7],
           "val_accuracy": [0.5, 0.7, 0.9]}


def test_the_summary_names_early_stoppings_monitor_and_direction():
    best = {"monitor": "val_accuracy", "goal": "max", "epoch": 3, "value": 0.9}
    run = Run(model=None, history=HISTORY, log_dir=Path("logs/x/1"), best=best)
    assert summary_line(run) == ("best epoch 3 of 3 by val_accuracy (highest): loss 0.4000, "
                                 "val_loss 0.7000, val_accuracy 0.9000\nrun directory: logs/x/1")


def test_without_early_stopping_the_lowest_validation_loss_is_best():
    best = {"monitor": "val_loss", "goal": "min", "epoch": 2, "value": 0.6}
    run = Run(model=None, history=HISTORY, log_dir=Path("r"), best=best)
    assert summary_line(run).startswith("best epoch 2 of 3 by val_loss (lowest): loss 0.5000")


def test_a_run_without_epochs_says_where_it_is():
    assert summary_line(Run(model=None, history={}, log_dir=Path("r"))) == "run directory: r"
