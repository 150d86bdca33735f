"""Training throughput on a frozen pretrained base: `dlkit.train` against the same model written
by hand in Keras, and against the hand-written trick of computing the frozen base's features
once and training the head on them.

Run:  python benchmarks/bench_transfer.py [--samples 2048] [--epochs 4] [--size 32]

The model: ``keras.applications.MobileNetV2`` (alpha 0.35, ``--size`` square RGB images,
``weights: null``: nothing is downloaded, the speed is the same), average pooling, frozen, and
a softmax head of 10 classes; Adam, batch 64, 20% validation. Every way trains in this one
process, one after the other, with the same data:

- dlkit: ``model.base: {application: MobileNetV2, ...}`` and ``dlkit.train`` (its callbacks:
  history, TensorBoard, backup, progress off). By default (``model.base.cache: true``) it
  computes the frozen base's outputs once and trains the head on them (`dlkit._train.cached`),
  in float32 as the hand-written script, and with ``precision: auto`` (its default:
  mixed_bfloat16 on a CPU with AMX); and, for reference, with ``cache: false`` (the base runs
  at every step, as in the hand-written script);
- Keras: the Keras transfer-learning guide's code: ``Rescaling`` for the application's
  ``preprocess_input``, ``base.trainable = False``, ``base(x, training=False)``, the head,
  ``model.fit``;
- Keras, cached: ``base.predict`` once on every image, then ``fit`` of the head alone on the
  features (valid when nothing in the base trains and no augmentation precedes it).

Throughput is training samples per second over the epochs after the first (which traces the
graphs); the cached ways count the one computation of the base's outputs against their epochs
(its share of the epochs after the first; dlkit's from ``cached_base_seconds`` in
``run.json``). Each way runs ``--repeat`` times, interleaved, and the median is reported with
every run's rate: on a shared machine single runs differ by 2x. Target (issue 14): dlkit /
Keras >= 1.0.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import dlkit  # noqa: E402

BATCH = 64


class EpochClock(keras.callbacks.Callback):
    """Seconds per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def spec(size: int, epochs: int, precision: str = "auto", cache: bool = True) -> dict:
    return {
        "name": "bench-transfer", "seed": 1,
        "model": {"input_shape": [size, size, 3],
                  "base": {"application": "MobileNetV2", "alpha": 0.35, "weights": None,
                           "pooling": "avg", "trainable": False, "cache": cache},
                  "layers": [{"type": "Dense", "units": 10, "activation": "softmax"}]},
        "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy",
                    "metrics": ["accuracy"]},
        "train": {"epochs": epochs, "batch_size": BATCH},
        "data": {"source": "npz", "path": "unused.npz", "validation_split": 0.2},
        "runtime": {"precision": precision},
    }


def by_dlkit(x, y, size: int, epochs: int, precision: str, cache: bool = True) -> float:
    clock = EpochClock()
    with tempfile.TemporaryDirectory() as logs:
        run = dlkit.train(spec(size, epochs, precision, cache), (x, y), logdir=logs,
                          callbacks=[clock], verbose=0)
        status = json.loads((run.log_dir / "run.json").read_text())
    if cache and not status.get("cached_base"):
        raise SystemExit(f"dlkit did not cache the base: {status.get('cached_base_why')}")
    return rate(clock, len(x), once=status.get("cached_base_seconds", 0.0))


def by_hand(x, y, size: int, epochs: int) -> float:
    keras.utils.set_random_seed(1)
    base = keras.applications.MobileNetV2(input_shape=(size, size, 3), alpha=0.35,
                                          include_top=False, weights=None, pooling="avg")
    base.trainable = False
    inputs = keras.Input((size, size, 3))
    features = base(keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs), training=False)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(features))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    clock = EpochClock()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, validation_split=0.2, callbacks=[clock],
              verbose=0)
    return rate(clock, len(x))


def by_hand_cached(x, y, size: int, epochs: int) -> float:
    keras.utils.set_random_seed(1)
    base = keras.applications.MobileNetV2(input_shape=(size, size, 3), alpha=0.35,
                                          include_top=False, weights=None, pooling="avg")
    started = time.perf_counter()
    features = base.predict(x / 127.5 - 1, batch_size=256, verbose=0)
    once = time.perf_counter() - started
    head = keras.Sequential([keras.Input(features.shape[1:]),
                             keras.layers.Dense(10, activation="softmax")])
    head.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    clock = EpochClock()
    head.fit(features, y, batch_size=BATCH, epochs=epochs, validation_split=0.2,
             callbacks=[clock], verbose=0)
    return rate(clock, len(x), once=once)


def rate(clock: EpochClock, samples: int, once: float = 0.0) -> float:
    """Training samples per second over the epochs after the first, those epochs' share of
    `once` (seconds spent once before the first epoch: the base's outputs) counted in."""
    epochs = len(clock.seconds)
    return 0.8 * samples * (epochs - 1) / (once * (epochs - 1) / epochs + sum(clock.seconds[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each way, interleaved; the median is reported")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (args.samples, args.size, args.size, 3)).astype("float32")
    y = rng.integers(0, 10, args.samples)
    ways = {"Keras by hand": lambda: by_hand(x, y, args.size, args.epochs),
            "dlkit (cached), float32": lambda: by_dlkit(x, y, args.size, args.epochs,
                                                        "float32"),
            "dlkit (cached), auto": lambda: by_dlkit(x, y, args.size, args.epochs, "auto"),
            "dlkit, cache false": lambda: by_dlkit(x, y, args.size, args.epochs, "float32",
                                                   cache=False),
            "Keras, cached features": lambda: by_hand_cached(x, y, args.size, args.epochs)}
    rates: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.repeat):  # interleaved: a busy machine slows every way alike
        for name, way in ways.items():
            rates[name].append(way())
    hand = float(np.median(rates["Keras by hand"]))
    print(f"frozen MobileNetV2 (alpha 0.35, {args.size}x{args.size}), {args.samples} samples, "
          f"{args.epochs} epochs, training samples/s after the first epoch, median of "
          f"{args.repeat} (each run's in brackets):")
    for name, values in rates.items():
        median = float(np.median(values))
        print(f"  {name:23s} {median:7.0f}  x{median / hand:.2f} of Keras by hand  "
              f"[{', '.join(f'{v:.0f}' for v in values)}]")
    cached, plain = (float(np.median(rates[name]))
                     for name in ("dlkit (cached), float32", "dlkit, cache false"))
    print(f"dlkit (base cached, float32) / Keras by hand: {cached / hand:.2f} (target >= 1.0); "
          f"dlkit uncached / Keras by hand: {plain / hand:.2f}; dlkit cached / Keras cached: "
          f"{cached / float(np.median(rates['Keras, cached features'])):.2f}")
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

if __name__ == "__main__":
    main()
