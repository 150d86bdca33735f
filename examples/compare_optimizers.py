"""SGD, SGD with momentum, RMSprop, Adam and Adagrad; then batch vs stochastic vs mini-batch.

Run:  python examples/compare_optimizers.py
Then: tensorboard --logdir logs/optimizers

Part 1 trains one network with each optimizer at the same learning rate budget. Part 2 keeps
plain SGD and changes only the batch size: "full" (batch gradient descent, one update an
epoch), 1 (stochastic, one update a sample) and 32 (mini-batch): in the same number of
epochs, more updates go further.
"""

import os

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "10"))
OPTIMIZERS = {
    "sgd": {"type": "SGD", "learning_rate": 0.01},
    "momentum": {"type": "SGD", "learning_rate": 0.01, "momentum": 0.9},
    "rmsprop": {"type": "RMSprop", "learning_rate": 0.001},
    "adam": {"type": "Adam", "learning_rate": 0.001},
    "adagrad": {"type": "Adagrad", "learning_rate": 0.05},
}


def spec_for(name: str, optimizer: dict, batch_size) -> dict:
    return {"name": f"optimizer-{name}", "seed": 0,
            "data": {"source": "digits", "validation_split": 0.2},
            "model": {"input_shape": [64], "layers": [
                {"type": "Dense", "units": 64, "activation": "relu"},
                {"type": "Dense", "units": 10, "activation": "softmax"}]},
            "compile": {"optimizer": optimizer, "loss": "sparse_categorical_crossentropy",
                        "metrics": ["accuracy"]},
            "train": {"epochs": EPOCHS, "batch_size": batch_size}}


def run(logdir: str = "logs/optimizers") -> dict[str, float]:
    """Final training loss for each optimizer, then for each batch size."""
    results = {}
    for name, optimizer in OPTIMIZERS.items():
        run = dlkit.train(spec_for(name, optimizer, 32), logdir=logdir, verbose=0)
        results[name] = run.history["loss"][-1]
    sgd = {"type": "SGD", "learning_rate": 0.01}
    for name, batch_size in (("batch", "full"), ("stochastic", 1), ("mini-batch", 32)):
        run = dlkit.train(spec_for(name, sgd, batch_size), logdir=logdir, verbose=0)
        results[name] = run.history["loss"][-1]
    return results


if __name__ == "__main__":
    for name, loss in run().items():
        print(f"{name:>10}: final training loss {loss:.3f}")
