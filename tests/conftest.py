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


def example_module(name: str):
    """examples/<name>.py as a module (its data writers)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def table_run(tmp_path_factory) -> dict:
    """examples/own_csv.yaml trained for 3 epochs on 300 generated passengers (numbers, text
    categories, blanks; a column named `class`): {"run": run directory, "csv": the raw CSV}."""
    import dlkit

    folder = tmp_path_factory.mktemp("table")
    rows = folder / "passengers.csv"
    example_module("own_csv").write_passengers(rows, rows=300)
    spec = dlkit.load_spec(EXAMPLES / "own_csv.yaml",
                           overrides=[f"data.path={rows}", "train.epochs=3"])
    return {"run": dlkit.train(spec, logdir=folder / "logs", verbose=0).log_dir, "csv": rows}


@pytest.fixture(scope="session")
def heads_run(tmp_path_factory) -> dict:
    """examples/digits_two_heads.yaml (inputs image and meta; outputs digit, a classifier, and
    ink, a value) trained for 3 epochs: {"run": run directory, "data": its arrays}."""
    import numpy as np

    import dlkit

    folder = tmp_path_factory.mktemp("heads")
    data = example_module("digits_two_heads").two_heads_data()
    np.savez(folder / "heads.npz", **data)
    spec = dlkit.load_spec(EXAMPLES / "digits_two_heads.yaml",
                           overrides=[f"data.path={folder / 'heads.npz'}", "train.epochs=3"])
    return {"run": dlkit.train(spec, logdir=folder / "logs", verbose=0).log_dir, "data": data}


def write_shapes(folder: Path, per_class: int = 12, size: int = 14) -> None:
    """Two classes of small RGB PNG images: `bars` (vertical stripes) and `blocks` (a bright
    square), with noise."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for name in ("bars", "blocks"):
        (folder / name).mkdir(parents=True)
        for i in range(per_class):
            image = rng.uniform(0, 60, (size, size, 3))
            if name == "bars":
                image[:, ::3] += 180
            else:
                image[3:10, 3:10] += 180
            png = tf.io.encode_png(np.clip(image, 0, 255).astype("uint8"))
            (folder / name / f"{i:02d}.png").write_bytes(png.numpy())


@pytest.fixture(scope="session")
def images_run(tmp_path_factory) -> dict:
    """A grayscale CNN with Rescaling and augmentation trained on an `images` folder of RGB PNG
    files (read, converted and resized by the data stage): {"run": ..., "folder": ...}."""
    import dlkit

    folder = tmp_path_factory.mktemp("images")
    write_shapes(folder / "shapes")
    spec = {"name": "shapes", "seed": 0,
            "data": {"source": "images", "path": str(folder / "shapes"), "validation_split": 0.25},
            "model": {"input_shape": [10, 10, 1], "layers": [
                {"type": "Rescaling", "scale": 1 / 255},
                {"type": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.1},
                {"type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"},
                {"type": "Flatten"}, {"type": "Dense", "units": 2, "activation": "softmax"}]},
            "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy"},
            "train": {"epochs": 2, "batch_size": 8}}
    return {"run": dlkit.train(spec, logdir=folder / "logs", verbose=0).log_dir,
            "folder": folder / "shapes"}


@pytest.fixture(scope="session")
def text_run(tmp_path_factory) -> dict:
    """A TextVectorization model trained on a `text` folder of two topics:
    {"run": ..., "folder": ...}."""
    import dlkit

    folder = tmp_path_factory.mktemp("text")
    words = {"food": "soup bread salt pan oven", "sport": "ball goal team match coach"}
    for topic, vocabulary in words.items():
        (folder / "notes" / topic).mkdir(parents=True)
        for i in range(10):
            (folder / "notes" / topic / f"{i}.txt").write_text(
                f"note {i}: " + " ".join(vocabulary.split()[i % 5:] + vocabulary.split()[:2]))
    spec = {"name": "notes", "seed": 0,
            "data": {"source": "text", "path": str(folder / "notes"), "validation_split": 0.2},
            "model": {"input_shape": [1], "layers": [
                {"type": "TextVectorization", "max_tokens": 40, "output_sequence_length": 8},
                {"type": "Embedding", "input_dim": 40, "output_dim": 4},
                {"type": "GlobalAveragePooling1D"},
                {"type": "Dense", "units": 2, "activation": "softmax"}]},
            "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy"},
            "train": {"epochs": 2, "batch_size": 8}}
    return {"run": dlkit.train(spec, logdir=folder / "logs", verbose=0).log_dir,
            "folder": folder / "notes"}


@pytest.fixture
def counted(monkeypatch):
    """Counts spec files read, plans made and names resolved (tests/test_plan.py)."""
    from dlkit._plan import load as load_module
    from dlkit._plan import resolver as resolver_module
    from dlkit._spec import spec as spec_module

    counts = {"read": 0, "plans": 0, "layers": 0, "components": 0}

    def count(key, function):
        def wrapper(*args, **kwargs):
            counts[key] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(spec_module, "read_spec_file", count("read", spec_module.read_spec_file))
    monkeypatch.setattr(load_module, "make_plan", count("plans", load_module.make_plan))
    Resolver = resolver_module.Resolver
    monkeypatch.setattr(Resolver, "layer", count("layers", Resolver.layer))
    monkeypatch.setattr(Resolver, "component", count("components", Resolver.component))
    return counts
