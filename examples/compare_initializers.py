"""Glorot vs He vs zeros: why a network must not start symmetric.

Run:  python examples/compare_initializers.py

With every weight zero, all hidden units compute the same thing, get the same gradient and
stay identical forever (symmetric neurons): the layer is as good as one unit. dlkit warns about
it when it reads the spec. Glorot (Xavier) and He scale random weights to the layer's fan-in;
He suits ReLU. The script also counts dead ReLUs: hidden units never active on the
validation data.
"""

import os
import warnings

import numpy as np

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "15"))


def spec_for(initializer: str) -> dict:
    return {
        "name": f"init-{initializer}",
        "seed": 0,
        "data": {"source": "digits", "validation_split": 0.2},
        "model": {"input_shape": [64], "layers": [
            {"type": "Dense", "units": 32, "activation": "relu",
             "kernel_initializer": initializer},
            {"type": "Dense", "units": 10, "activation": "softmax",
             "kernel_initializer": initializer}]},
        "compile": {"optimizer": {"type": "SGD", "learning_rate": 0.1},
                    "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        "train": {"epochs": EPOCHS, "batch_size": 32},
    }


def run(logdir: str = "logs/initializers") -> dict[str, dict[str, float]]:
    """Per initializer: validation accuracy, how different the hidden units ended up, and the
    share of dead ReLUs."""
    from sklearn.datasets import load_digits

    x = load_digits().data.astype("float32") / 16.0
    results = {}
    for initializer in ("glorot_uniform", "he_normal", "zeros"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = dlkit.train(spec_for(initializer), logdir=logdir, verbose=0)
        kernel = run.model.layers[0].get_weights()[0]  # (64 inputs, 32 units)
        active = run.model.layers[0](x).numpy() > 0
        results[initializer] = {
            "val_accuracy": run.history["val_accuracy"][-1],
            "unit_spread": float(np.max(np.std(kernel, axis=1))),  # 0: all units identical
            "dead_relus": float(np.mean(~active.any(axis=0))),
            "warned": any(issubclass(w.category, dlkit.InitializationWarning) for w in caught),
        }
    return results


if __name__ == "__main__":
    for name, result in run().items():
        print(f"{name:>15}: accuracy {result['val_accuracy']:.3f}, spread between units "
              f"{result['unit_spread']:.4f}, dead ReLUs {result['dead_relus']:.0%}, "
              f"warned {result['warned']}")
