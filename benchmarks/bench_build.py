"""Build cost: `dlkit.build` against the same model written by hand in Keras, side by side.

Run:  python benchmarks/bench_build.py [--repeats 30]

Alternates the two builders in one process and prints medians and the ratio dlkit / hand.
Target (issue 2): building a validated spec costs no more than 1.1x the hand-written build.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import dlkit  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def cnn_by_hand() -> keras.Model:
    """examples/digits_cnn.yaml, written by hand."""
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu",
                            kernel_initializer="he_normal",
                            kernel_regularizer=keras.regularizers.L2(1e-4)),
        keras.layers.BatchNormalization(),
        keras.layers.MaxPooling2D(pool_size=2),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation=keras.layers.LeakyReLU(negative_slope=0.1),
                           kernel_regularizer=keras.regularizers.L1L2(l1=1e-5, l2=1e-4)),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax", kernel_regularizer=keras.regularizers.L2(1e-4)),
    ], name="digits-cnn")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def mlp_by_hand() -> keras.Model:
    """examples/digits_mlp.yaml, written by hand."""
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(128, activation="relu", kernel_initializer="he_normal"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
        keras.layers.Dense(10, activation="softmax"),
    ], name="digits-mlp")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def timed(build) -> float:
    start = time.perf_counter()
    build()
    return time.perf_counter() - start


def compare(name: str, by_hand, spec_path: Path, repeats: int) -> list[str]:
    spec = dlkit.load_spec(spec_path)
    raw = spec.to_dict()
    builders = {"hand": by_hand, "dlkit.build(Spec)": lambda: dlkit.build(spec),
                "dlkit.build(dict)": lambda: dlkit.build(raw)}
    for build in builders.values():  # warm up imports and caches
        build()
    times: dict[str, list[float]] = {key: [] for key in builders}
    for _ in range(repeats):  # alternate, so drift hits all builders alike
        for key, build in builders.items():
            times[key].append(timed(build))
            keras.backend.clear_session()
    hand = statistics.median(times["hand"])
    rows = []
    for key, values in times.items():
        median = statistics.median(values)
        rows.append(f"{name:<11} {key:<19} {median * 1000:9.2f} ms   ratio {median / hand:5.2f}")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    print(f"keras {keras.__version__}, {args.repeats} alternating repeats, median per build")
    print(f"{'model':<11} {'builder':<19} {'median':>12}   ratio to hand")
    for name, by_hand, path in (("digits-cnn", cnn_by_hand, EXAMPLES / "digits_cnn.yaml"),
                                ("digits-mlp", mlp_by_hand, EXAMPLES / "digits_mlp.yaml")):
        for row in compare(name, by_hand, path, args.repeats):
            print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
