"""MSE vs MAE vs Huber on regression data with outliers, and two classification losses.

Run:  python examples/compare_losses.py

MSE squares errors, so a few huge outliers pull the fitted line towards them; MAE and Huber
grow only linearly for large errors and follow the bulk of the data. For classification,
cross-entropy and hinge both separate two moons.
"""

import os

import numpy as np

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "40"))
TRUE_SLOPE = 2.0


def regression_data(seed: int = 0):
    """y = 2x + small noise, with 10% of the targets replaced by large outliers."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (500, 1)).astype("float32")
    y = TRUE_SLOPE * x + rng.normal(0, 0.1, x.shape)
    outliers = rng.random(len(y)) < 0.1
    y[outliers] += rng.uniform(10, 20, (outliers.sum(), 1))
    return x, y.astype("float32")


def regression_spec(loss) -> dict:
    return {"name": "loss-" + (loss if isinstance(loss, str) else loss["type"].lower()),
            "seed": 0, "model": {"input_shape": [1], "layers": [{"type": "Dense", "units": 1}]},
            "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.05}, "loss": loss},
            "train": {"epochs": EPOCHS, "batch_size": 32}}


def classification_spec(loss: str, activation: str) -> dict:
    return {"name": f"loss-{loss}", "seed": 0,
            "data": {"source": "moons", "samples": 600, "noise": 0.15},
            "model": {"input_shape": [2], "layers": [
                {"type": "Dense", "units": 16, "activation": "relu"},
                {"type": "Dense", "units": 1, "activation": activation}]},
            "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.02}, "loss": loss,
                        "metrics": ["binary_accuracy"]},
            "train": {"epochs": EPOCHS, "batch_size": 32}}


def run(logdir: str = "logs/losses") -> dict[str, float]:
    """The fitted slope for each regression loss; validation accuracy for each classifier."""
    x, y = regression_data()
    results = {}
    for loss in ("mse", "mae", {"type": "Huber", "delta": 1.0}):
        run = dlkit.train(regression_spec(loss), data=(x, y), logdir=logdir, verbose=0)
        kernel, bias = run.model.layers[0].get_weights()
        name = loss if isinstance(loss, str) else "huber"
        results[f"slope {name}"] = float(kernel[0, 0])
        results[f"offset {name}"] = float(bias[0])  # the clean data's offset is 0
    for loss, activation in (("binary_crossentropy", "sigmoid"), ("hinge", "tanh")):
        run = dlkit.train(classification_spec(loss, activation), logdir=logdir, verbose=0)
        results[f"accuracy {loss}"] = run.history["val_binary_accuracy"][-1]
    return results


if __name__ == "__main__":
    print(f"true slope: {TRUE_SLOPE}, true offset: 0")
    for name, value in run().items():
        print(f"{name:>28}: {value:.3f}")
