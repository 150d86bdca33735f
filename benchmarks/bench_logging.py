"""Logging overhead: fit time with dlkit's default TensorBoard logging against none at all.

Run:  python benchmarks/bench_logging.py [--repeats 11] [--epochs 20]

Trains examples/digits_mlp.yaml's model on the bundled digits, alternating three set-ups in
one process, and prints median fit times and ratios to "no callbacks":
- no callbacks at all (plain ``model.fit``),
- dlkit's callbacks with TensorBoard off (NaN guard, backup, overfitting monitor, run log),
- dlkit's default callbacks, TensorBoard on (epoch scalars, learning rate, graph, hparams).
Target (issue 4): TensorBoard on costs at most 3% over TensorBoard off.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import dlkit  # noqa: E402

SPEC = Path(__file__).resolve().parents[1] / "examples" / "digits_mlp.yaml"


def fit_seconds(spec, x, y, epochs: int, make_callbacks) -> float:
    keras.utils.set_random_seed(0)
    model = dlkit.build(spec)
    with tempfile.TemporaryDirectory() as log_dir:
        cbs = make_callbacks(Path(log_dir))
        start = time.perf_counter()
        model.fit(x, y, epochs=epochs, batch_size=64, validation_split=0.2, callbacks=cbs,
                  verbose=0)
        seconds = time.perf_counter() - start
    keras.backend.clear_session()
    return seconds


def tensorboard_epoch_cost(spec, x, y) -> float:
    """Seconds dlkit's TensorBoard callback spends per epoch, timed directly (low noise)."""
    from dlkit._callbacks.tensorboard import EpochTensorBoard

    model = dlkit.build(spec)
    model.fit(x[:64], y[:64], epochs=1, verbose=0)
    logs = {"loss": 0.5, "accuracy": 0.9, "learning_rate": 1e-3}
    with tempfile.TemporaryDirectory() as log_dir:
        board = EpochTensorBoard(log_dir=log_dir)
        board.set_model(model)
        board.on_train_begin()
        start = time.perf_counter()
        for epoch in range(200):
            board.on_test_begin()
            board.on_test_end({"loss": 0.4, "accuracy": 0.8})
            board.on_epoch_end(epoch, {**logs, "val_loss": 0.4, "val_accuracy": 0.8})
        seconds = (time.perf_counter() - start) / 200
        board.on_train_end()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    digits = load_digits()
    x, y = digits.data.astype("float32") / 16.0, digits.target
    base = dlkit.load_spec(SPEC, overrides=["callbacks.early_stopping=false"])
    quiet = dlkit.load_spec(base, overrides=["callbacks.tensorboard=false"])
    setups = {
        "no callbacks": lambda log_dir: [],
        "dlkit, tensorboard off": lambda log_dir: dlkit.callbacks(quiet, log_dir=log_dir,
                                                                  verbose=False),
        "dlkit, tensorboard on": lambda log_dir: dlkit.callbacks(base, log_dir=log_dir,
                                                                 verbose=False),
    }
    for make in setups.values():  # warm up: tracing, imports
        fit_seconds(base, x, y, 1, make)
    times: dict[str, list[float]] = {key: [] for key in setups}
    for _ in range(args.repeats):
        for key, make in setups.items():
            times[key].append(fit_seconds(base, x, y, args.epochs, make))
    medians = {key: statistics.median(values) for key, values in times.items()}
    print(f"digits MLP, {args.epochs} epochs, batch 64, {args.repeats} alternating repeats")
    for key, median in medians.items():
        print(f"{key:<24} {median:7.3f} s   ratio to no callbacks "
              f"{median / medians['no callbacks']:5.3f}")
    paired = statistics.median(on / off for on, off in zip(times["dlkit, tensorboard on"],
                                                             times["dlkit, tensorboard off"]))
    print(f"tensorboard on / off: {paired:.3f}, median of {args.repeats} paired ratios "
          "(target <= 1.03)")
    per_epoch = tensorboard_epoch_cost(base, x, y)
    epoch_time = medians["dlkit, tensorboard off"] / args.epochs
    print(f"tensorboard work per epoch, timed directly: {per_epoch * 1000:.2f} ms = "
          f"{per_epoch / epoch_time:.1%} of this model's {epoch_time * 1000:.0f} ms epoch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
