"""Regularization on a network built to overfit: the train/validation gap, closed.

Run:  python examples/regularization.py
Then: tensorboard --logdir logs/regularization   (compare train vs validation loss)

A wide network trained on a tenth of the digits (180 images) memorizes them: training loss keeps
falling while validation loss turns up. An L2 penalty, dropout and early stopping each fight
that; together they keep the two curves close. (Batch normalization, another regularizer, is
in examples/digits_cnn.yaml.)
"""

import os

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "12"))


def spec_for(regularized: bool) -> dict:
    dense = {"type": "Dense", "units": 512, "activation": "relu"}
    if regularized:
        layers = [dense, {"type": "Dropout", "rate": 0.5}, dense, {"type": "Dropout", "rate": 0.5}]
    else:
        layers = [dense, dense]
    spec = {"name": "regularized" if regularized else "overfitting", "seed": 0,
            "data": {"source": "digits", "validation_split": 0.9},  # train on 10% only
            "model": {"input_shape": [64], "layers": [
                *layers, {"type": "Dense", "units": 10, "activation": "softmax"}]},
            "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.001},
                        "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
            "train": {"epochs": EPOCHS, "batch_size": 32}}
    if regularized:
        spec["model"]["regularization"] = {"l2": 1.0e-3}
        spec["callbacks"] = {"early_stopping": {"monitor": "val_loss", "patience": 5}}
    return spec


def accuracy_gap(history: dict) -> float:
    """Training minus validation accuracy in the last epoch (loss would count the L2 penalty,
    which only the regularized network pays)."""
    return history["accuracy"][-1] - history["val_accuracy"][-1]


def run(logdir: str = "logs/regularization") -> dict[str, dict[str, float]]:
    results = {}
    for regularized in (False, True):
        run = dlkit.train(spec_for(regularized), logdir=logdir, verbose=0)
        history = run.history
        results[run.log_dir.parent.name] = {
            "accuracy_gap": accuracy_gap(history), "val_accuracy": history["val_accuracy"][-1],
            "epochs": len(history["loss"])}
    return results


if __name__ == "__main__":
    for name, result in run().items():
        print(f"{name:>12}: train-validation accuracy gap {result['accuracy_gap']:.3f}, "
              f"validation accuracy {result['val_accuracy']:.3f}, {result['epochs']} epochs")
