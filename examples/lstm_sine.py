"""An LSTM that predicts the next value of a noisy sine wave.

Run:  python examples/lstm_sine.py

The data source ``sine`` gives windows of 30 noisy samples; the target is the next clean
value. Guessing zero scores a mean squared error of about 0.5; the LSTM does far better.
"""

import os

import numpy as np

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "20"))

SPEC = {
    "name": "lstm-sine", "seed": 0,
    "data": {"source": "sine", "samples": 1000, "noise": 0.1, "validation_split": 0.2},
    "model": {"input_shape": [30, 1], "layers": [
        {"type": "LSTM", "units": 32},
        {"type": "Dense", "units": 1}]},
    "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.01}, "loss": "mse",
                "metrics": ["mae"]},
    "train": {"epochs": EPOCHS, "batch_size": 32},
}


def run(logdir: str = "logs/lstm") -> dict[str, float]:
    run = dlkit.train(SPEC, logdir=logdir, verbose=0)
    baseline = 0.5  # E[sin^2] over a period: the error of always answering zero
    return {"val_mse": run.history["val_loss"][-1], "baseline_mse": baseline,
            "val_mae": float(np.asarray(run.history["val_mae"][-1]))}


if __name__ == "__main__":
    result = run()
    print(f"validation MSE {result['val_mse']:.4f} (always-zero baseline "
          f"{result['baseline_mse']:.2f}), MAE {result['val_mae']:.3f}")
