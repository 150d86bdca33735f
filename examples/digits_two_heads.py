"""Two inputs and two outputs: a digit image and how it was written in; the digit and its ink out.

Run:  python examples/digits_two_heads.py

`examples/digits_two_heads.yaml` is a graph model: the image goes through a convolution to a
softmax over the 10 digits; the image features and 4 numbers describing the pen (``meta``)
meet in a Concatenate and give the amount of ink, a number that depends on both inputs. The
script first writes the offline data the spec reads, ``digits_two_heads.npz`` in the current
directory, from scikit-learn's bundled digits: arrays ``x_image``, ``x_meta``, ``y_digit``,
``y_ink``, named after the spec's inputs and outputs.
"""

import os
from pathlib import Path

import numpy as np

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "30"))
SPEC = Path(__file__).with_name("digits_two_heads.yaml")


def two_heads_data(seed: int = 0) -> dict[str, np.ndarray]:
    """The digits with 4 pen numbers each; ink = the image's mean ink, scaled by the pen's
    width (meta[0]) and shifted by its pressure (meta[1]); meta[2:] are noise."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    image = (digits.images / 16.0).astype("float32")[..., None]
    meta = rng.normal(size=(len(image), 4)).astype("float32")
    ink = image.mean(axis=(1, 2, 3)) * 4 * (1.5 + 0.5 * np.tanh(meta[:, 0])) + 0.5 * meta[:, 1]
    return {"x_image": image, "x_meta": meta, "y_digit": digits.target.astype("int64"),
            "y_ink": ink.astype("float32")}


def run(logdir: str = "logs/two-heads", data: str = "digits_two_heads.npz") -> dict[str, float]:
    """Writes the data (if it is not there yet) and trains the spec on it."""
    if not Path(data).is_file():
        np.savez(data, **two_heads_data())
    spec = dlkit.load_spec(SPEC, overrides=[f"train.epochs={EPOCHS}", f"data.path={data}"])
    run = dlkit.train(spec, logdir=logdir, verbose=0)
    best = run.best["epoch"] - 1
    arrays = np.load(data)
    ink = arrays["y_ink"]
    # The ink head needs the meta input: with meta shuffled between samples it errs far more.
    shuffled = np.random.default_rng(1).permutation(arrays["x_meta"])
    guess = run.model.predict({"image": arrays["x_image"], "meta": shuffled}, verbose=0)
    return {"val_digit_accuracy": run.history["val_digit_accuracy"][best],
            "val_ink_mae": run.history["val_ink_mae"][best],
            "ink_baseline_mae": float(np.mean(np.abs(ink - np.median(ink)))),
            "ink_mae_meta_shuffled": float(np.mean(np.abs(guess["ink"][:, 0] - ink))),
            "history": sorted(run.history)}


if __name__ == "__main__":
    result = run()
    print(f"validation digit accuracy {result['val_digit_accuracy']:.3f}; ink MAE "
          f"{result['val_ink_mae']:.3f} (always guessing the median: "
          f"{result['ink_baseline_mae']:.3f}; with the meta input shuffled: "
          f"{result['ink_mae_meta_shuffled']:.3f})")
