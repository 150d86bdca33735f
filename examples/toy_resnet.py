"""The toy ResNet of the Keras functional-API guide, as a spec, trained offline.

Run:  python examples/toy_resnet.py

`examples/toy_resnet.yaml` is the guide's CIFAR-10 toy ResNet (223,242 parameters), its
residual block written once and used twice. CIFAR-10 must be downloaded, so this script first
writes a small offline stand-in of the same shape, ``toy_shapes.npz`` in the current
directory: 32x32 colour images of 10 classes (five shapes, each in a warm or a cool colour, at
random places and sizes, on noise: a square, a ring, a cross, a square of row stripes or of
column stripes). Guessing scores 10%; the ResNet learns the shapes.
"""

import os
from pathlib import Path

import numpy as np

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "8"))
SPEC = Path(__file__).with_name("toy_resnet.yaml")
SHAPES = ("square", "ring", "cross", "row stripes", "column stripes")


def toy_shapes(samples: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`samples` 32x32x3 images in [0, 1] and their classes: shape index * 2 + colour."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:32, 0:32]
    x = rng.uniform(0.0, 0.35, (samples, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 2 * len(SHAPES), samples)
    for image, label in zip(x, y):
        size = rng.uniform(6, 11)
        row, col = rng.uniform(size, 32 - size, 2)
        dr, dc = np.abs(rows - row), np.abs(cols - col)
        distance = np.hypot(dr, dc)
        inside = np.maximum(dr, dc) < size
        mask = [inside,                                                     # square
                (distance < size) & (distance > size / 2),                  # ring
                inside & (np.minimum(dr, dc) < size / 3),                   # cross
                inside & ((rows // 2) % 2 == 0),                            # row stripes
                inside & ((cols // 2) % 2 == 0)][label // 2]                # column stripes
        warm = label % 2 == 0
        colour = rng.uniform([0.7, 0.3, 0.0], [1.0, 0.6, 0.2]) if warm else \
            rng.uniform([0.0, 0.3, 0.7], [0.2, 0.6, 1.0])
        image[mask] = colour
    return x, y


def run(logdir: str = "logs/toy-resnet", data: str = "toy_shapes.npz",
        samples: int = 2000) -> dict[str, float]:
    """Writes the data (if it is not there yet) and trains the spec on it."""
    if not Path(data).is_file():
        x, y = toy_shapes(samples)
        np.savez_compressed(data, x=x, y=y)
    spec = dlkit.load_spec(SPEC, overrides=[f"train.epochs={EPOCHS}", f"data.path={data}"])
    run = dlkit.train(spec, logdir=logdir, verbose=0)
    return {"parameters": run.model.count_params(), "val_acc": max(run.history["val_acc"]),
            "chance": 1 / (2 * len(SHAPES))}


if __name__ == "__main__":
    result = run()
    print(f"{result['parameters']:,} parameters; best validation accuracy "
          f"{result['val_acc']:.2f} (guessing: {result['chance']:.2f})")
