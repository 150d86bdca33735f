"""ReLU vs sigmoid vs tanh on the same network, trained side by side.

Run:  python examples/compare_activations.py
Then: tensorboard --logdir logs/activations   (SCALARS: one curve per activation;
      HPARAMS: the activation is marked as the setting that differs)

Sigmoid saturates: its gradient is at most 0.25 and vanishes for large inputs, so a deep
sigmoid network learns slowly with plain SGD; ReLU and tanh keep gradients alive.
"""

import os

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "15"))


def spec_for(activation: str) -> dict:
    hidden = {"type": "Dense", "units": 64, "activation": activation}
    return {
        "name": f"activation-{activation}",
        "seed": 0,
        "data": {"source": "digits", "validation_split": 0.2},
        "model": {"input_shape": [64],
                  "layers": [hidden, hidden, hidden,
                             {"type": "Dense", "units": 10, "activation": "softmax"}]},
        "compile": {"optimizer": {"type": "SGD", "learning_rate": 0.05},
                    "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        "train": {"epochs": EPOCHS, "batch_size": 32},
    }


def run(logdir: str = "logs/activations") -> dict[str, float]:
    """Trains one network per activation; returns each one's final validation accuracy."""
    results = {}
    for activation in ("relu", "tanh", "sigmoid"):
        run = dlkit.train(spec_for(activation), logdir=logdir, verbose=0)
        results[activation] = run.history["val_accuracy"][-1]
    return results


if __name__ == "__main__":
    for activation, accuracy in run().items():
        print(f"{activation:>8}: validation accuracy {accuracy:.3f}")
