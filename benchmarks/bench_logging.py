"""Logging overhead: fit time with dlkit's default TensorBoard logging against none at all.

Run:  python benchmarks/bench_logging.py [--repeats 7] [--epochs 10]

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=10)
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
    ratio = medians["dlkit, tensorboard on"] / medians["dlkit, tensorboard off"]
    print(f"tensorboard on / off: {ratio:.3f} (target <= 1.03)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
