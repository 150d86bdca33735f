"""Loss-surface speed: the in-graph grid (`loss_surface`) against a set_weights + evaluate loop.

Run:  python benchmarks/bench_landscape.py [--grid 51] [--samples 512] [--loop-points 60]

One process, one small CNN on scikit-learn's digits (8x8x1 -> Conv2D(8) -> Flatten -> Dense(10)),
trained for a moment. The in-graph grid is timed on the whole grid x grid plane; the naive loop
(``model.set_weights`` then ``model.evaluate`` per point) on its first ``--loop-points`` points
only, and its time for the whole grid is extrapolated from the seconds per point (the output
says so). Both see the same weights, directions, samples and batch size, and agree on the
points both evaluate. Target (issue 17): in-graph at least 3x faster.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from dlkit._analysis.directions import filter_normalized_direction  # noqa: E402
from dlkit._analysis.surface import loss_surface  # noqa: E402


def digits(samples: int) -> tuple[np.ndarray, np.ndarray]:
    """``samples`` digits as (N, 8, 8, 1) floats in [0, 1] and integer labels."""
    data = load_digits()
    rng = np.random.default_rng(0)
    keep = rng.choice(len(data.target), size=samples, replace=False)
    x = (data.images[keep] / 16.0).astype("float32")[..., None]
    return x, data.target[keep]


def small_cnn(x: np.ndarray, y: np.ndarray) -> keras.Model:
    """The benchmark's CNN, compiled and trained for two epochs."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    return model


def naive_loop(model: keras.Model, x, y, directions, alpha, beta, points: int,
               batch_size: int) -> tuple[float, np.ndarray]:
    """Seconds and losses of the first ``points`` grid points by set_weights + evaluate."""
    center = model.get_weights()
    trainable_ids = {id(v) for v in model.trainable_variables}
    positions = [i for i, w in enumerate(model.weights) if id(w) in trainable_ids]
    coords = [(a, b) for a in alpha for b in beta][:points]
    losses = []
    start = time.perf_counter()
    for a, b in coords:
        weights = list(center)
        for k, pos in enumerate(positions):
            weights[pos] = center[pos] + a * directions[0][k] + b * directions[1][k]
        model.set_weights(weights)
        losses.append(model.evaluate(x, y, batch_size=batch_size, verbose=0))
    seconds = time.perf_counter() - start
    model.set_weights(center)
    return seconds, np.asarray(losses)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=51)
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--loop-points", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=512)
    args = parser.parse_args()
    x, y = digits(args.samples)
    model = small_cnn(x, y)
    rng = np.random.default_rng(0)
    weights = [v.numpy() for v in model.trainable_variables]
    directions = (filter_normalized_direction(weights, rng),
                  filter_normalized_direction(weights, rng))
    total = args.grid * args.grid
    # Warm-up: tracing and the first evaluate are paid once by each side, outside the timings.
    loss_surface(model, x, y, directions, grid=2, span=1.0, batch_size=args.batch_size)
    model.evaluate(x, y, batch_size=args.batch_size, verbose=0)

    start = time.perf_counter()
    surface = loss_surface(model, x, y, directions, grid=args.grid, span=1.0,
                           batch_size=args.batch_size)
    graph_seconds = time.perf_counter() - start
    loop_seconds, loop_losses = naive_loop(model, x, y, directions, surface["alpha"],
                                           surface["beta"], args.loop_points, args.batch_size)
    graph_per_point = graph_seconds / total
    loop_per_point = loop_seconds / args.loop_points
    agree = np.max(np.abs(surface["loss"].ravel()[:args.loop_points] - loop_losses))

    print(f"keras {keras.__version__}; {args.grid}x{args.grid} grid = {total} points; "
          f"{args.samples} digits samples; batch size {args.batch_size}")
    print(f"in-graph (loss_surface):      {graph_seconds:8.2f} s for all {total} points   "
          f"{graph_per_point * 1000:8.3f} ms/point")
    print(f"set_weights + evaluate loop:  {loop_per_point * total:8.2f} s for all {total} points "
          f"(extrapolated from {args.loop_points} points timed, {loop_seconds:.2f} s)   "
          f"{loop_per_point * 1000:8.3f} ms/point")
    print(f"ratio loop / in-graph: {loop_per_point / graph_per_point:.1f}x (target >= 3x); "
          f"largest difference on the shared points: {agree:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
