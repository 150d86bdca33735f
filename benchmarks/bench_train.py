"""Training throughput: dlkit against the plain Keras script a user would write, side by side.

Run:  python benchmarks/bench_train.py [--repeats 5] [--epochs 3]   (about 5 minutes)

Models (issue 5), on generated data that can be learned (see `teacher_data`), so that the
accuracies compare:

- small MLP 784-256-128-10 at batch 128;
- wide MLP 2048-2048-2048-10 at batch 512;

each through dlkit with ``precision: float32`` and with ``precision: auto`` (the default).

Each model is trained through dlkit (``dlkit.build(spec)`` and ``model.fit(...,
callbacks=dlkit.callbacks(spec))``: dlkit's defaults, with the NaN guard, TensorBoard, the
backup and the run log) and through the Keras script a user writes by hand (the same layers,
``compile`` and ``fit`` with Keras' defaults), alternating, from the same initial weights
and data.
Printed: the median samples per second over every epoch of every repeat, its ratio to plain
Keras (> 1: dlkit faster), the share of the machine's float32 matmul rate (measured here),
and the median held-out accuracy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import dlkit  # noqa: E402
from dlkit._runtime.precision import resolve_precision  # noqa: E402

MODELS = {
    "small MLP": {"input": 784, "hidden": [256, 128], "batch": 128, "samples": 32768},
    "wide MLP": {"input": 2048, "hidden": [2048, 2048], "batch": 512, "samples": 16384},
}
TEST_SAMPLES = 8192


def spec_for(model: dict, precision: str) -> dict:
    layers = [{"type": "Dense", "units": units, "activation": "relu"}
              for units in model["hidden"]]
    return {"name": "bench", "seed": 0,
            "model": {"input_shape": [model["input"]],
                      "layers": [*layers, {"type": "Dense", "units": 10,
                                           "activation": "softmax"}]},
            "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy",
                        "metrics": ["accuracy"]},
            "train": {"batch_size": model["batch"]},
            "callbacks": {"overfitting": False},
            "runtime": {"precision": precision}}


def by_hand(model: dict) -> keras.Model:
    """What a user writes in plain Keras: the same network, Keras' defaults everywhere."""
    net = keras.Sequential([keras.Input((model["input"],)),
                            *[keras.layers.Dense(u, activation="relu") for u in model["hidden"]],
                            keras.layers.Dense(10, activation="softmax")])
    net.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return net


def teacher_data(model: dict, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Inputs from 16 hidden factors plus noise; labels from a random linear teacher on the
    factors. The models learn it to high accuracy in a few epochs, so a difference in accuracy
    between two ways of training is the training's, not the noise of a half-learned task."""
    count = model["samples"] + TEST_SAMPLES
    factors = rng.normal(size=(count, 16))
    x = factors @ rng.normal(size=(16, model["input"])) / 4 + \
        0.1 * rng.normal(size=(count, model["input"]))
    y = np.argmax(factors @ rng.normal(size=(16, 10)), axis=1)
    x = x.astype("float32")
    return x[:-TEST_SAMPLES], y[:-TEST_SAMPLES], x[-TEST_SAMPLES:], y[-TEST_SAMPLES:]


class EpochTimer(keras.callbacks.Callback):
    """Seconds per epoch, including the epoch-end work of the callbacks before it."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def train_once(make, data: tuple, model: dict, epochs: int,
               spec: dlkit.Spec | None) -> tuple[list[float], float]:
    """(samples per second of each epoch, held-out accuracy) for one fresh model."""
    x, y, x_test, y_test = data
    keras.utils.set_random_seed(0)
    net = make()
    timer = EpochTimer()
    with tempfile.TemporaryDirectory() as log_dir:
        cbs = dlkit.callbacks(spec, log_dir=log_dir, verbose=False) if spec else []
        # trace the train function outside the timing (two batches, the same for everyone)
        net.fit(x[: model["batch"] * 2], y[: model["batch"] * 2], batch_size=model["batch"],
                epochs=1, verbose=0)
        net.fit(x, y, batch_size=model["batch"], epochs=epochs, verbose=0,
                callbacks=[*cbs, timer])
    accuracy = float(np.mean(np.argmax(net.predict(x_test, verbose=0), axis=1) == y_test))
    keras.backend.clear_session()
    return [len(x) / seconds for seconds in timer.seconds], accuracy


def matmul_flops(size: int = 2048, repeats: int = 20) -> float:
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    tf.matmul(a, b).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        c = tf.matmul(a, b)
    c.numpy()
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    rate = matmul_flops()
    auto = resolve_precision("auto", "auto")
    print(f"float32 matmul: {rate / 1e9:.0f} GFLOP/s; precision auto here: {auto}; "
          f"{args.repeats} alternating repeats of {args.epochs} epochs; TF {tf.__version__}, "
          f"Keras {keras.__version__}")
    print(f"{'model':<10} {'trained by':<26} {'samples/s':>10} {'vs Keras':>9} "
          f"{'matmul':>7} {'accuracy':>9}")
    rng = np.random.default_rng(0)
    verdicts = []
    for name, model in MODELS.items():
        data = teacher_data(model, rng)
        sizes = [model["input"], *model["hidden"], 10]
        flops = 6 * sum(a * b for a, b in zip(sizes, sizes[1:]))  # forward + backward
        contenders = {"plain Keras": None,
                      "dlkit float32": dlkit.load_spec(spec_for(model, "float32")),
                      f"dlkit auto ({auto})": dlkit.load_spec(spec_for(model, "auto"))}
        rates: dict[str, list[float]] = {who: [] for who in contenders}
        accuracies: dict[str, list[float]] = {who: [] for who in contenders}
        order = list(contenders)
        for repeat in range(args.repeats):  # each repeat in another order: no one always first
            for who in order[repeat % len(order):] + order[:repeat % len(order)]:
                spec = contenders[who]
                make = (lambda: by_hand(model)) if spec is None else \
                    (lambda spec=spec: dlkit.build(spec))
                epoch_rates, accuracy = train_once(make, data, model, args.epochs, spec)
                rates[who] += epoch_rates
                accuracies[who].append(accuracy)
        # The median over every epoch of every repeat: this VM's speed jumps between two
        # levels from one epoch to the next (measured: 3,200 and 4,300 samples/s for one model).
        speed = {who: statistics.median(r) for who, r in rates.items()}
        accuracy = {who: statistics.median(a) for who, a in accuracies.items()}
        keras_rate = speed["plain Keras"]
        for who in contenders:
            print(f"{name:<10} {who:<26} {speed[who]:10.0f} {speed[who] / keras_rate:9.2f} "
                  f"{speed[who] * flops / rate:7.0%} {accuracy[who]:9.4f}")
        fp32, fast = "dlkit float32", f"dlkit auto ({auto})"
        verdicts.append(f"{name}: dlkit / plain Keras = {speed[fast] / keras_rate:.2f} (auto), "
                        f"{speed[fp32] / keras_rate:.2f} (float32)")
        if name == "wide MLP":
            verdicts.append(f"{name}: auto / float32 = {speed[fast] / speed[fp32]:.2f}, accuracy "
                            f"{100 * (accuracy[fast] - accuracy[fp32]):+.2f} points; float32 "
                            f"at {speed[fp32] * flops / rate:.0%} of the matmul rate")
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
