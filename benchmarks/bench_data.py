"""Images streamed from disk: peak memory against dataset size, and input against training speed.

Run:  python benchmarks/bench_data.py [--sizes 1000 4000 8000] [--size 64]   (about 5 minutes)

Writes folders of generated PNG images (three classes of shapes, ``--size`` pixels square, RGB)
and trains a small CNN on each for three epochs (no validation) in a fresh process, three ways,
one after the other per folder:

- ``dlkit``: ``source: images`` (files listed, checked once, read while training);
- ``keras``: the plain Keras script, ``keras.utils.image_dataset_from_directory`` + ``fit``;
- ``in memory``: every image decoded into one NumPy array first, then ``fit``: what loading
  into memory would cost.

Printed per folder: each process's peak resident memory (RSS); for dlkit the input
pipeline's throughput alone (the fastest of three passes over the images, images per second)
against the model's training throughput (the fastest epoch after the first, images per second,
input included): the pipeline must be the faster, so that training never waits on data; and
the training throughput of the plain Keras script and of the in-memory script (which reads
nothing while training: what the model alone can do). The machine's cores are shared: numbers
vary from run to run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, resource, sys, tempfile, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import keras, numpy as np, tensorflow as tf
import dlkit
from dlkit._data.folder_sources import load_folder
from dlkit._data.stream import batches

mode, folder, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
EPOCHS = 3
LAYERS = [
    {"type": "Rescaling", "scale": 1 / 255},
    {"type": "Conv2D", "filters": 8, "kernel_size": 3, "strides": 2, "activation": "relu"},
    {"type": "Conv2D", "filters": 16, "kernel_size": 3, "strides": 2, "activation": "relu"},
    {"type": "GlobalAveragePooling2D"},
    {"type": "Dense", "units": 3, "activation": "softmax"}]


class Timer(keras.callbacks.Callback):
    seconds = float("inf")

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):  # the fastest epoch after the first (tracing)
        if epoch:
            self.seconds = min(self.seconds, time.perf_counter() - self.started)


def keras_model():
    model = keras.Sequential([keras.Input((size, size, 3)), *[
        getattr(keras.layers, l["type"])(**{k: v for k, v in l.items() if k != "type"})
        for l in LAYERS]])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


timer, result = Timer(), {}
if mode == "dlkit":
    spec = {"name": "bench-data", "seed": 0,
            "data": {"source": "images", "path": folder, "validation_split": None},
            "model": {"input_shape": [size, size, 3], "layers": LAYERS},
            "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy",
                        "metrics": ["accuracy"]},
            "train": {"epochs": EPOCHS, "batch_size": 64},
            "callbacks": {"tensorboard": False, "backup": False},
            "runtime": {"precision": "float32"}}
    with tempfile.TemporaryDirectory() as logs:
        dlkit.train(spec, logdir=logs, callbacks=[timer], verbose=0)
    stream = load_folder({"source": "images", "path": folder}, input_shape=[size, size, 3])
    count = stream.count
    data = batches(stream.x, stream.y, stream.read, batch_size=64, shuffle=True)
    passes = []
    for _ in range(EPOCHS):  # the fastest pass, as for training; in TensorFlow, as fit reads
        started = time.perf_counter()
        data.reduce(np.int64(0), lambda count, batch: count + 1).numpy()
        passes.append(time.perf_counter() - started)
    result["pipeline_per_s"] = count / min(passes)
    result["train_per_s"] = count / timer.seconds
elif mode == "keras":
    train = keras.utils.image_dataset_from_directory(
        folder, image_size=(size, size), batch_size=64, seed=0, verbose=False)
    count = int(len(train.file_paths))
    keras_model().fit(train.prefetch(tf.data.AUTOTUNE), epochs=EPOCHS, callbacks=[timer],
                      verbose=0)
    result["train_per_s"] = count / timer.seconds
else:
    dataset = keras.utils.image_dataset_from_directory(folder, image_size=(size, size),
                                                       batch_size=None, seed=0, verbose=False)
    pairs = list(dataset.as_numpy_iterator())
    x = np.stack([p[0] for p in pairs]); y = np.array([p[1] for p in pairs])
    del pairs
    keras_model().fit(x, y, batch_size=64, epochs=EPOCHS, callbacks=[timer], verbose=0)
    result["train_per_s"] = len(y) / timer.seconds
result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def write_folder(folder: Path, count: int, size: int) -> None:
    """`count` PNG images of bars, circles and squares, a third each."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    grid = np.mgrid[:size, :size] - size / 2
    for index in range(count):
        shape = ("bar", "circle", "square")[index % 3]
        shifted = grid + rng.uniform(-size / 8, size / 8, (2, 1, 1))
        mask = {"bar": np.abs(shifted[1]) < size / 8,
                "circle": np.hypot(*shifted) < size / 3,
                "square": np.max(np.abs(shifted), axis=0) < size / 4}[shape]
        image = rng.uniform(0, 80, (size, size, 3)) + mask[..., None] * rng.uniform(120, 175, 3)
        (folder / shape).mkdir(parents=True, exist_ok=True)
        png = tf.io.encode_png(np.clip(image, 0, 255).astype("uint8")).numpy()
        (folder / shape / f"{index:05d}.png").write_bytes(png)


def measure(mode: str, folder: Path, size: int) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([sys.executable, "-c", CHILD, mode, str(folder), str(size)],
                          capture_output=True, text=True, env=env, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 8000])
    parser.add_argument("--size", type=int, default=64, help="image height and width")
    args = parser.parse_args()
    print(f"{'images':>7} {'MB on disk':>10} {'MB decoded':>10} | peak RSS MB: {'dlkit':>6} "
          f"{'keras':>6} {'in memory':>9} | dlkit images/s: {'pipeline':>8} {'training':>8} "
          f"{'ratio':>5} | training images/s: {'keras':>5} {'in memory':>9}")
    with tempfile.TemporaryDirectory() as scratch:
        for count in args.sizes:
            folder = Path(scratch) / f"images-{count}"
            write_folder(folder, count, args.size)
            disk = sum(p.stat().st_size for p in folder.rglob("*.png")) / 2**20
            decoded = count * args.size * args.size * 3 * 4 / 2**20
            ours, theirs, memory = (measure(mode, folder, args.size)
                                    for mode in ("dlkit", "keras", "in memory"))
            print(f"{count:>7} {disk:>10.1f} {decoded:>10.1f} | {'':>12} "
                  f"{ours['peak_rss_mb']:>6.0f} {theirs['peak_rss_mb']:>6.0f} "
                  f"{memory['peak_rss_mb']:>9.0f} | {'':>15} {ours['pipeline_per_s']:>8.0f} "
                  f"{ours['train_per_s']:>8.0f} {ours['pipeline_per_s'] / ours['train_per_s']:>5.1f}"
                  f" | {'':>19}{theirs['train_per_s']:>5.0f} {memory['train_per_s']:>9.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
