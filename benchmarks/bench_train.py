"""Training throughput: dlkit against the plain Keras script a user would write, side by side.

Run:  python benchmarks/bench_train.py [--repeats 3] [--epochs 2]

Models (issue 5), on generated data that can be learned (labels from a random linear
teacher, so accuracy means something):

- small MLP 784-256-128-10 at batch 128;
- wide MLP 2048-2048-2048-10 at batch 512, in float32 and with ``precision: auto``.

Each model is trained through dlkit (``dlkit.build(spec)`` and ``model.fit(...,
callbacks=dlkit.callbacks(spec))``: dlkit's defaults, with the NaN guard, TensorBoard, the
backup and the run log) and through the Keras script a user writes by hand (the same layers,
``compile`` and ``fit`` with Keras' defaults), alternating, from the same initial weights and data.
Printed: median samples per second, the ratio dlkit / Keras (> 1: dlkit faster), the share of
the machine's float32 matmul rate (measured here), and held-out accuracy.
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
from dlkit._runtime import resolve_precision  # noqa: E402

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
    count = model["samples"] + TEST_SAMPLES
    x = rng.normal(size=(count, model["input"])).astype("float32")
    y = np.argmax(x @ rng.normal(size=(model["input"], 10)), axis=1)
    return x[:-TEST_SAMPLES], y[:-TEST_SAMPLES], x[-TEST_SAMPLES:], y[-TEST_SAMPLES:]


def train_once(make, data: tuple, model: dict, epochs: int,
               spec: dlkit.Spec | None) -> tuple[float, float]:
    """(samples per second of `model.fit`, held-out accuracy) for one fresh model."""
    x, y, x_test, y_test = data
    keras.utils.set_random_seed(0)
    net = make()
    with tempfile.TemporaryDirectory() as log_dir:
        cbs = dlkit.callbacks(spec, log_dir=log_dir, verbose=False) if spec else []
        # trace the train function outside the timing (two batches, the same for everyone)
        net.fit(x[: model["batch"] * 2], y[: model["batch"] * 2], batch_size=model["batch"],
                epochs=1, verbose=0)
        start = time.perf_counter()
        net.fit(x, y, batch_size=model["batch"], epochs=epochs, verbose=0, callbacks=cbs)
        seconds = time.perf_counter() - start
    accuracy = float(np.mean(np.argmax(net.predict(x_test, verbose=0), axis=1) == y_test))
    keras.backend.clear_session()
    return len(x) * epochs / seconds, accuracy


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
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    rate = matmul_flops()
    auto = resolve_precision("auto", "auto")
    print(f"float32 matmul: {rate / 1e9:.0f} GFLOP/s; precision auto here: {auto}; "
          f"{args.repeats} alternating repeats of {args.epochs} epochs; TF {tf.__version__}, "
          f"Keras {keras.__version__}")
    print(f"{'model':<10} {'trained by':<22} {'samples/s':>10} {'vs Keras':>9} "
          f"{'matmul':>7} {'accuracy':>9}")
    rng = np.random.default_rng(0)
    verdicts = []
    for name, model in MODELS.items():
        data = teacher_data(model, rng)
        sizes = [model["input"], *model["hidden"], 10]
        flops = 6 * sum(a * b for a, b in zip(sizes, sizes[1:]))  # forward + backward
        contenders = {"plain Keras": None,
                      "dlkit float32": dlkit.load_spec(spec_for(model, "float32"))}
        if name == "wide MLP":
            contenders[f"dlkit auto ({auto})"] = dlkit.load_spec(spec_for(model, "auto"))
        runs: dict[str, list[tuple[float, float]]] = {who: [] for who in contenders}
        for _ in range(args.repeats):
            for who, spec in contenders.items():
                make = (lambda: by_hand(model)) if spec is None else \
                    (lambda spec=spec: dlkit.build(spec))
                runs[who].append(train_once(make, data, model, args.epochs, spec))
        medians = {who: (statistics.median(r for r, _ in results),
                         statistics.median(a for _, a in results))
                   for who, results in runs.items()}
        keras_rate = medians["plain Keras"][0]
        for who, (speed, accuracy) in medians.items():
            print(f"{name:<10} {who:<22} {speed:10.0f} {speed / keras_rate:9.2f} "
                  f"{speed * flops / rate:7.0%} {accuracy:9.4f}")
        verdicts.append(f"{name}: dlkit float32 / plain Keras = "
                        f"{medians['dlkit float32'][0] / keras_rate:.2f}")
        if name == "wide MLP":
            fast, fp32 = medians[f"dlkit auto ({auto})"], medians["dlkit float32"]
            verdicts.append(f"{name}: auto / float32 = {fast[0] / fp32[0]:.2f}, accuracy "
                            f"{100 * (fast[1] - fp32[1]):+.2f} points; float32 at "
                            f"{fp32[0] * flops / rate:.0%} of the matmul rate")
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
