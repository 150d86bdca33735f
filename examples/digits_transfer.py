"""Transfer learning on offline data: features learnt on the digits 0-4 tell the digits 5-9
apart from 3 labelled images each, far better than the same network trained on those images
alone.

Run:  python examples/digits_transfer.py

1. `examples/digits_0to4.yaml` trains a small CNN on every image of the digits 0-4
   (scikit-learn's bundled 8x8 digits); its run's model.keras is copied to digits_0to4.keras.
2. `examples/digits_transfer.yaml` builds on it: ``model.base`` is that model cut at its layer
   ``pooled`` (its flattened feature maps) and frozen; a new softmax head learns the digits
   5-9 from 15 images (3 each),
   then ``train.fine_tune`` unfreezes the base at a small learning rate. Both phases write one
   run directory; its summary says which phase the best epoch came from.
3. For comparison, the same network as the pretrained one, trained from scratch on the same
   15 images. Both are scored on every other image of the digits 5-9.

The data files (digits_0to4.npz, digits_5to9_few.npz) and the pretrained model are written
in the current directory, as the specs name them.
"""

import os
import shutil
from pathlib import Path

import numpy as np

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "0")) or None  # None: the specs' own
HERE = Path(__file__).parent
PRETRAIN, TRANSFER = HERE / "digits_0to4.yaml", HERE / "digits_transfer.yaml"
PER_CLASS = 3  # labelled images of each digit 5-9


def write_data(folder: Path = Path("."), per_class: int = PER_CLASS, seed: int = 0) -> None:
    """digits_0to4.npz (x, y: every image of 0-4) and digits_5to9_few.npz (x, y: `per_class`
    images of each digit 5-9, labelled 0-4; x_val, y_val: all the others)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = (digits.images / 16.0).astype("float32")[..., None], digits.target
    np.savez(folder / "digits_0to4.npz", x=x[y < 5], y=y[y < 5])
    rng = np.random.default_rng(seed)
    few = np.concatenate([rng.choice(np.flatnonzero(y == d), per_class, replace=False)
                          for d in range(5, 10)])
    rest = np.setdiff1d(np.flatnonzero(y >= 5), few)
    np.savez(folder / "digits_5to9_few.npz", x=x[few], y=y[few] - 5, x_val=x[rest],
             y_val=y[rest] - 5)


def pretrain(logdir: str = "logs", model_file: str = "digits_0to4.keras") -> Path:
    """Trains examples/digits_0to4.yaml and copies its model to `model_file`."""
    overrides = [f"train.epochs={EPOCHS}"] if EPOCHS else []
    run = dlkit.train(dlkit.load_spec(PRETRAIN, overrides=overrides), logdir=logdir, verbose=0)
    shutil.copyfile(run.log_dir / "model.keras", model_file)
    return Path(model_file)


def transfer(logdir: str = "logs", model_file: str = "digits_0to4.keras",
             callbacks: list | None = None) -> dlkit.Run:
    """Trains examples/digits_transfer.yaml on the pretrained model in `model_file`."""
    overrides = [f"model.base.path={model_file}"]
    if EPOCHS:
        overrides += [f"train.epochs={EPOCHS}", f"train.fine_tune.epochs={max(1, EPOCHS // 4)}"]
    spec = dlkit.load_spec(TRANSFER, overrides=overrides)
    return dlkit.train(spec, logdir=logdir, verbose=0, callbacks=callbacks)


def from_scratch(logdir: str = "logs") -> dlkit.Run:
    """The pretrained network's architecture, trained on the 15 labelled images alone, for as
    many epochs as both phases of the transfer together."""
    tuned = dlkit.load_spec(TRANSFER).to_dict()["train"]
    epochs = EPOCHS + max(1, EPOCHS // 4) if EPOCHS else \
        tuned["epochs"] + tuned["fine_tune"]["epochs"]
    spec = dlkit.load_spec(PRETRAIN, overrides=[
        "name=digits-scratch", "data.path=digits_5to9_few.npz", "data.validation_split=null",
        f"train.epochs={epochs}", f"train.batch_size={tuned['batch_size']}"])
    return dlkit.train(spec, logdir=logdir, verbose=0)


def run(logdir: str = "logs", model_file: str | None = None) -> dict:
    """Writes the data, pretrains (unless `model_file` holds a pretrained model), transfers,
    trains from scratch; returns both accuracies on the held-out images of the digits 5-9."""
    write_data()
    model_file = model_file or str(pretrain(logdir))
    transferred, scratch = transfer(logdir, model_file), from_scratch(logdir)
    return {"transferred": transferred.history["val_accuracy"][-1],
            "scratch": scratch.history["val_accuracy"][-1],
            "best_phase": transferred.best["phase"], "run": transferred}


if __name__ == "__main__":
    result = run()
    print(f"accuracy on the digits 5-9 after learning from {PER_CLASS} images each: "
          f"transferred {result['transferred']:.3f}, from scratch {result['scratch']:.3f} "
          f"(the transfer's best epoch came from its {result['best_phase']} phase)")
