"""Shared fixtures: tiny specs and a private log root for every test."""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"

MLP = {
    "name": "tiny-mlp",
    "seed": 1,
    "data": {"source": "digits", "validation_split": 0.2},
    "model": {
        "input_shape": [64],
        "layers": [
            {"type": "Dense", "units": 16, "activation": "relu"},
            {"type": "Dense", "units": 10, "activation": "softmax"},
        ],
    },
    "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy",
                "metrics": ["accuracy"]},
    "train": {"epochs": 2, "batch_size": 64},
}


@pytest.fixture
def mlp() -> dict:
    """A fresh copy of a small digits MLP spec (trains in about a second)."""
    return copy.deepcopy(MLP)


@pytest.fixture(autouse=True)
def log_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test writes its runs under its own temporary log root."""
    root = tmp_path / "logs"
    monkeypatch.setenv("DLKIT_LOGDIR", str(root))
    return root


def cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 120):
    """Runs the real `dlkit` command in a new process."""
    import subprocess

    full_env = {**os.environ, **(env or {})}
    full_env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user's shell would have it
    return subprocess.run([sys.executable, "-m", "dlkit", *args], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=timeout)


def python(code: str, cwd: Path | None = None):
    """Runs Python `code` in a new interpreter (a clean sys.modules)."""
    import subprocess

    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def tiny_model():
    """A one-weight linear model: the kernel can hold an epoch number for callbacks to see."""
    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def drive(cbs, model, val_losses, losses=None):
    """Runs epoch callbacks over a synthetic loss sequence; the kernel holds the epoch number."""
    losses = losses or val_losses
    for callback in cbs:
        callback.set_model(model)
        callback.on_train_begin()
    last = None
    for epoch, (loss, val_loss) in enumerate(zip(losses, val_losses)):
        last = epoch
        model.layers[0].kernel.assign([[float(epoch)]])
        for callback in cbs:
            callback.on_epoch_end(epoch, {"loss": loss, "val_loss": val_loss})
        if model.stop_training:
            break
    for callback in cbs:
        callback.on_train_end()
    return last



# --- a trained run and its exports, shared by the deploy tests (dlkit/_deploy) -----------------

@pytest.fixture(scope="session")
def cnn_run(tmp_path_factory) -> Path:
    """The digits CNN example trained for 3 epochs: a finished run directory (read-only for
    tests: copy it before changing it)."""
    import dlkit

    root = tmp_path_factory.mktemp("deploy-logs")
    spec = dlkit.load_spec(EXAMPLES / "digits_cnn.yaml", overrides=["train.epochs=3"])
    return dlkit.train(spec, logdir=root, verbose=0).log_dir


@pytest.fixture(scope="session")
def cnn_exports(cnn_run) -> dict:
    """Every export of `cnn_run` the tests look at, by folder name, as export.json records it."""
    import dlkit

    made = {}
    for fmt, quantize in (("saved_model", None), ("onnx", None), ("litert", None),
                          ("litert", "int8")):
        entry = dlkit.export(cnn_run, fmt, quantize=quantize)
        made[entry["path"].split("/")[-1]] = entry
    return made


# A grid search of the tiny MLP: two widths x two learning rates, one of which diverges.
SEARCH = {
    **copy.deepcopy(MLP),
    "name": "tiny-search",
    "deterministic": True,
    "compile": {"optimizer": {"type": "SGD", "learning_rate": {
        "search": "choice", "values": [0.1, 1.0e30]}},
        "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
    "search": {"algorithm": "grid", "objective": "val_accuracy"},
}
SEARCH["model"]["layers"][0]["units"] = {"search": "int", "min": 8, "max": 16, "step": 8}


@pytest.fixture(scope="session")
def grid_search(tmp_path_factory):
    """`SEARCH` searched once: ``(result, printed output, log root)``. 4 trials, 2 diverge."""
    import contextlib
    import io

    import dlkit

    root = tmp_path_factory.mktemp("search") / "logs"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = dlkit.search(copy.deepcopy(SEARCH), logdir=root)
    return result, printed.getvalue(), root
