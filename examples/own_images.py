"""Train on your own folder of images: here, scikit-learn's digits written out as PNG files.

Run:  python examples/own_images.py

Writes ``digit_images/<class>/<n>.png`` (each 8x8 digit upscaled to 32x32, one sub-folder per
class, named zero ... nine) in the current directory, then trains examples/own_images.yaml on
it: the images are read from disk while training, the class names come from the folders and
label the confusion matrix, and the random translation and rotation act in training only.
Once the folder exists, ``dlkit train examples/own_images.yaml`` trains the same spec.
"""

import os
from pathlib import Path

import numpy as np

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "12"))
HERE = Path(__file__).resolve().parent
NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def write_digit_images(folder: Path, size: int = 32) -> int:
    """Writes the 1,797 digits as grayscale PNG files; returns how many."""
    import tensorflow as tf
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = tf.image.resize(digits.images[..., None] / 16.0 * 255.0, (size, size))
    for index, (image, label) in enumerate(zip(pixels, digits.target)):
        target = folder / NAMES[label] / f"{index:04d}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        png = tf.io.encode_png(tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8))
        target.write_bytes(png.numpy())
    return len(digits.target)


def run(logdir: str = "logs", folder: str = "digit_images") -> dict:
    if not Path(folder).is_dir():
        write_digit_images(Path(folder))
    spec = dlkit.load_spec(HERE / "own_images.yaml",
                           overrides=[f"data.path={folder}", f"train.epochs={EPOCHS}"])
    run = dlkit.train(spec, logdir=logdir, verbose=0)
    return {"val_accuracy": float(np.max(run.history["val_accuracy"])),
            "log_dir": str(run.log_dir)}


if __name__ == "__main__":
    result = run()
    print(f"best validation accuracy {result['val_accuracy']:.3f}; run in {result['log_dir']}")
