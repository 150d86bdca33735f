"""Training throughput: dlkit against the plain Keras script a user would write, side by side.

Run:  python benchmarks/bench_train.py [--repeats 5] [--epochs 3]

Models (issue 5): a small MLP 784-256-128-10 at batch 128, and a wide MLP (2048 x 2) at batch
512, on generated data. For each, the same spec is trained through `dlkit.build` +
`model.fit(callbacks=dlkit.callbacks(spec))` (dlkit's defaults: NaN guard, TensorBoard,
backup, run log) and through plain Keras defaults, alternating; medians and ratios are
printed (ratio > 1: dlkit faster). The machine's float32 matmul rate is measured too, to put
the wide model's throughput in proportion.
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

MODELS = {
    "small MLP": {"input": 784, "hidden": [256, 128], "batch": 128, "samples": 32768},
    "wide MLP": {"input": 2048, "hidden": [2048, 2048], "batch": 512, "samples": 16384},
}


def spec_for(model: dict, precision: str = "float32") -> dict:
    layers = [{"type": "Dense", "units": units, "activation": "relu"}
              for units in model["hidden"]]
    return {"name": "bench", "seed": 0,
            "model": {"input_shape": [model["input"]],
                      "layers": [*layers, {"type": "Dense", "units": 10,
                                           "activation": "softmax"}]},
            "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy",
                        "metrics": ["accuracy"]},
            "callbacks": {"overfitting": False},
            "runtime": {"precision": precision}}


def by_hand(model: dict) -> keras.Model:
    net = keras.Sequential([keras.Input((model["input"],)),
                            *[keras.layers.Dense(u, activation="relu") for u in model["hidden"]],
                            keras.layers.Dense(10, activation="softmax")])
    net.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return net


def samples_per_second(make, x, y, model: dict, epochs: int, with_dlkit: dict | None) -> float:
    keras.utils.set_random_seed(0)
    net = make()
    with tempfile.TemporaryDirectory() as log_dir:
        cbs = dlkit.callbacks(with_dlkit, log_dir=log_dir, verbose=False) if with_dlkit else []
        net.fit(x[: model["batch"] * 4], y[: model["batch"] * 4], batch_size=model["batch"],
                epochs=1, verbose=0)  # trace outside the timing
        start = time.perf_counter()
        net.fit(x, y, batch_size=model["batch"], epochs=epochs, verbose=0, callbacks=cbs)
        seconds = time.perf_counter() - start
    keras.backend.clear_session()
    return len(x) * epochs / seconds


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
    print(f"float32 matmul: {rate / 1e9:.0f} GFLOP/s; {args.repeats} alternating repeats, "
          f"{args.epochs} epochs each")
    rng = np.random.default_rng(0)
    for name, model in MODELS.items():
        x = rng.normal(size=(model["samples"], model["input"])).astype("float32")
        y = rng.integers(0, 10, model["samples"])
        spec = dlkit.load_spec(spec_for(model))
        runs = {"keras": [], "dlkit": []}
        for _ in range(args.repeats):
            runs["keras"].append(samples_per_second(lambda: by_hand(model), x, y, model,
                                                    args.epochs, None))
            runs["dlkit"].append(samples_per_second(lambda: dlkit.build(spec), x, y, model,
                                                    args.epochs, spec))
        keras_rate = statistics.median(runs["keras"])
        dlkit_rate = statistics.median(runs["dlkit"])
        sizes = [model["input"], *model["hidden"], 10]
        flops = 6 * sum(a * b for a, b in zip(sizes, sizes[1:]))  # forward + backward
        print(f"{name:<10} keras {keras_rate:9.0f} samples/s   dlkit {dlkit_rate:9.0f} samples/s"
              f"   ratio {dlkit_rate / keras_rate:5.2f}   dlkit at "
              f"{dlkit_rate * flops / rate:.0%} of the matmul rate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
