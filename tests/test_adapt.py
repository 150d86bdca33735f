"""Preprocessing layers in a spec are adapted on the training split only, before training, and
a resumed run reuses what they learned."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

import dlkit
from dlkit._data.arrays import held_out
from test_resume import Interrupt

SEED = 4


def wide_digits():
    """Digits on a scale a network cannot take raw: pixels 0..16000 around an offset."""
    digits = load_digits()
    return (digits.data * 1000 + 3000).astype("float32"), digits.target


def normalized_spec():
    return {
        "name": "normalized", "seed": SEED,
        "model": {"input_shape": [64], "layers": [
            {"type": "Normalization"},
            {"type": "Dense", "units": 32, "activation": "relu"},
            {"type": "Dense", "units": 10, "activation": "softmax"}]},
        "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.01},
                    "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        "train": {"epochs": 3, "batch_size": 64},
        "runtime": {"precision": "float32"},
    }


def hand_written(x_train, y_train, x_val, y_val):
    """The script a Keras user writes: adapt on the training data, then fit."""
    keras.utils.set_random_seed(SEED)
    norm = keras.layers.Normalization()
    model = keras.Sequential([keras.Input((64,)), norm,
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    norm.adapt(x_train)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0,
                        validation_data=(x_val, y_val))
    return history.history["val_accuracy"][-1]


def test_a_normalization_layer_trains_like_the_hand_written_adapt(log_root):
    x, y = wide_digits()
    train, val = held_out(len(y), 0.2, SEED)  # dlkit's own seeded split
    run = dlkit.train(normalized_spec(), data=(x, y), verbose=0)
    norm = run.model.layers[0]
    np.testing.assert_allclose(np.ravel(norm.mean), x[train].mean(axis=0), rtol=1e-5)
    assert not np.allclose(np.ravel(norm.mean), x.mean(axis=0), rtol=1e-5)  # no validation
    expected = hand_written(x[train], y[train], x[val], y[val])
    assert run.history["val_accuracy"][-1] > 0.85
    assert abs(run.history["val_accuracy"][-1] - expected) < 0.01  # equal here, to the bit
    status = json.loads((run.log_dir / "run.json").read_text())
    assert status["adapted"] == [norm.name]
    saved = dlkit.load_model(run.log_dir / "model.keras")
    np.testing.assert_allclose(np.ravel(saved.layers[0].mean), np.ravel(norm.mean))


def test_state_given_in_the_spec_is_not_adapted_over(log_root):
    spec = normalized_spec()
    spec["model"]["layers"][0].update(mean=3000.0, variance=1.0e7)
    spec["train"]["epochs"] = 1
    x, y = wide_digits()
    run = dlkit.train(spec, data=(x, y), verbose=0)
    assert float(np.ravel(run.model.layers[0].mean)[0]) == 3000.0
    assert "adapted" not in json.loads((run.log_dir / "run.json").read_text())


def test_a_resumed_run_does_not_adapt_again(log_root, monkeypatch):
    from dlkit._train import train as training

    spec = normalized_spec()
    spec["model"]["layers"].insert(0, {"type": "Discretization", "num_bins": 4})
    spec["callbacks"] = {"backup": {"min_interval": 0}}
    x, y = wide_digits()
    with pytest.raises(KeyboardInterrupt):
        dlkit.train(spec, data=(x, y), callbacks=[Interrupt(at_epoch=0)], verbose=0)
    [run_dir] = (log_root / "normalized").iterdir()
    assert (run_dir / "adapted.keras").is_file()
    first = dlkit.load_model(run_dir / "adapted.keras", compile=False).layers[0].bin_boundaries

    def refuse(*args, **kwargs):
        raise AssertionError("a resumed run adapted again")

    monkeypatch.setattr(training, "adapt_layers", refuse)
    run = dlkit.train(spec, data=(x * 2, y), resume=True, verbose=0)  # other data: no matter
    assert run.model.layers[0].bin_boundaries == first
    assert len(run.history["loss"]) == 3


def test_a_layer_that_cannot_adapt_to_the_data_is_named(log_root):
    spec = normalized_spec()
    spec["model"]["layers"].insert(0, {"type": "StringLookup"})
    x, y = wide_digits()
    with pytest.raises(dlkit.SpecError):  # an int lookup on floats: refused by pass 3 or adapt
        dlkit.train(spec, data=(x, y), verbose=0)
    assert not log_root.exists()


def test_text_vectorization_learns_its_vocabulary_from_the_training_files_only(tmp_path,
                                                                               log_root):
    words = {"food": ["bread", "soup", "cheese"], "sport": ["ball", "goal", "team"]}
    rng = np.random.default_rng(0)
    for topic, vocabulary in words.items():
        (tmp_path / topic).mkdir()
        for index in range(30):
            text = " ".join(rng.choice(vocabulary + ["the", "a"], size=8))
            (tmp_path / topic / f"{index}.txt").write_text(text)
    spec = text_spec(tmp_path)
    stream_val = held_out(60, 0.2, 0)[1]
    files = sorted(p for topic in words for p in sorted((tmp_path / topic).iterdir()))
    only_in_validation = files[stream_val[0]]
    only_in_validation.write_text("zebra " * 5)  # a word no training file holds
    run = dlkit.train(spec, verbose=0)
    vocabulary = run.model.layers[0].get_vocabulary()
    assert "bread" in vocabulary and "goal" in vocabulary and "zebra" not in vocabulary
    assert run.history["val_accuracy"][-1] > 0.8
    saved = dlkit.load_model(run.log_dir / "model.keras")
    scores = saved(tf.constant([["soup bread cheese"], ["goal team ball"]]))
    assert np.argmax(scores, axis=-1).tolist() == [0, 1]


def text_spec(path):
    return {
        "name": "topics", "seed": 0, "data": {"source": "text", "path": str(path)},
        "model": {"input_shape": [1], "layers": [
            {"type": "TextVectorization", "max_tokens": 50, "output_sequence_length": 8},
            {"type": "Embedding", "input_dim": 50, "output_dim": 8},
            {"type": "GlobalAveragePooling1D"},
            {"type": "Dense", "units": 2, "activation": "softmax"}]},
        "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.05},
                    "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        "train": {"epochs": 4, "batch_size": 16},
    }
