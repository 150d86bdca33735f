"""A frozen base's outputs computed once (``model.base.cache``, `dlkit._train.cached`): the same
training as running the base at every step, and everything a user sees is the full model's."""

import json

import keras
import numpy as np
import pytest

import dlkit


def saved_base(folder, *, dropout: bool = False) -> str:
    """A small CNN saved as .keras, its layer ``pooled`` the end of the base (a Dropout before
    it, if asked)."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((8, 8, 1))
    tensor = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inputs)
    tensor = keras.layers.BatchNormalization(name="norm")(tensor)
    if dropout:
        tensor = keras.layers.Dropout(0.3, name="drop")(tensor)
    tensor = keras.layers.Flatten(name="pooled")(tensor)
    outputs = keras.layers.Dense(3, activation="softmax")(tensor)
    path = folder / ("dropout.keras" if dropout else "base.keras")
    keras.Model(inputs, outputs).save(path)
    return str(path)


def spec(base: str, *, cache: bool = True, fine_tune: int = 2, **top) -> dict:
    return {
        "name": "cached", "seed": 5, **top,
        "model": {"input_shape": [8, 8, 1],
                  "base": {"path": base, "until": "pooled", "trainable": False, "cache": cache},
                  "layers": [{"type": "Dense", "units": 16, "activation": "relu"},
                             {"type": "Dense", "units": 3, "activation": "softmax"}]},
        "compile": {"optimizer": {"type": "Adam", "learning_rate": 1.0e-2},
                    "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        "train": {"epochs": 3, "batch_size": 16,
                  **({"fine_tune": {"unfreeze": "all", "learning_rate": 1.0e-3,
                                    "epochs": fine_tune}} if fine_tune else {})},
        "callbacks": {"early_stopping": {"patience": 10}, "checkpoint": {},
                      "backup": {"min_interval": 0}},
    }


def data(samples: int = 120):
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (samples, 8, 8, 1)).astype("float32"), rng.integers(0, 3, samples)


class Watch(keras.callbacks.Callback):
    """What a user's callback sees at each epoch's end: the model's name and the base's conv
    kernel; raises KeyboardInterrupt after epoch `interrupt_at` (0-based)."""

    def __init__(self, interrupt_at: int | None = None):
        super().__init__()
        self.names, self.kernels, self.interrupt_at = [], [], interrupt_at

    def on_epoch_end(self, epoch, logs=None):
        self.names.append(self.model.name)
        self.kernels.append(self.model.get_layer("base").get_layer("conv").kernel.numpy().copy())
        if epoch == self.interrupt_at:
            raise KeyboardInterrupt


def status(run) -> dict:
    return json.loads((run.log_dir / "run.json").read_text())


def test_cached_training_is_the_uncached_training_and_saves_the_full_model(tmp_path, log_root):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    base, x_y = saved_base(tmp_path), data()
    runs, watches = {}, {}
    for cache in (True, False):
        watches[cache] = Watch()
        runs[cache] = dlkit.train(spec(base, cache=cache), x_y, callbacks=[watches[cache]],
                                  verbose=0)
    cached, plain = runs[True], runs[False]
    assert status(cached)["cached_base"] is True and status(cached)["cached_base_seconds"] >= 0
    assert status(plain)["cached_base"] is False
    assert status(plain)["cached_base_why"] == "model.base.cache is false"
    assert list(cached.history) == list(plain.history) and len(cached.history["loss"]) == 5
    for key, values in plain.history.items():  # both phases, one history
        np.testing.assert_allclose(cached.history[key], values, rtol=1e-6, atol=1e-7)
    for mine, theirs in zip(cached.model.get_weights(), plain.model.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    assert cached.best == plain.best
    # the user's callback saw the full model; the base stayed put until fine-tuning moved it
    assert watches[True].names == ["cached"] * 5
    kernels = watches[True].kernels
    assert all(np.array_equal(k, kernels[0]) for k in kernels[:3])
    assert not np.array_equal(kernels[3], kernels[2])
    x = x_y[0][:10]
    for file in (cached.log_dir / "model.keras", cached.log_dir / "checkpoints" / "best.keras"):
        loaded = keras.saving.load_model(file, safe_mode=True)
        assert [layer.name for layer in loaded.layers] == \
            [layer.name for layer in cached.model.layers]
    np.testing.assert_array_equal(
        keras.saving.load_model(cached.log_dir / "model.keras").predict(x, verbose=0),
        cached.model.predict(x, verbose=0))
    accumulator = EventAccumulator(str(cached.log_dir / "train"), size_guidance={"tensors": 0})
    accumulator.Reload()
    assert [e.step for e in accumulator.Tensors("epoch_loss")] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("case, why", [
    ("dropout", "the base's layer drop is random"),
    ("deterministic", "deterministic: true"),
    ("dataset", "the data is not arrays in memory"),
])
def test_not_cached_where_it_would_not_be_the_same_training(tmp_path, log_root, case, why):
    x, y = data(48)
    base = saved_base(tmp_path, dropout=case == "dropout")
    given = (x, y, x[:16], y[:16])
    if case == "dataset":
        import tensorflow as tf

        given = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    settings = spec(base, fine_tune=0, **({"deterministic": True} if case == "deterministic"
                                          else {}))
    settings["callbacks"] = {}
    run = dlkit.train(settings, given, verbose=0)
    assert status(run)["cached_base"] is False and status(run)["cached_base_why"] == why
    assert len(run.history["loss"]) == 3


def test_a_cached_run_resumes_in_its_first_phase(tmp_path, log_root):
    base, x_y = saved_base(tmp_path), data()
    settings = spec(base)
    with pytest.raises(KeyboardInterrupt):
        dlkit.train(settings, x_y, callbacks=[Watch(interrupt_at=1)], verbose=0)
    interrupted = json.loads(next(log_root.glob("cached/*/history.json")).read_text())
    watch = Watch()
    run = dlkit.train(settings, x_y, resume=True, callbacks=[watch], verbose=0)
    assert status(run)["cached_base"] is True and status(run)["fine_tune_first_epoch"] == 4
    assert len(run.history["loss"]) == 5 and len(watch.names) == 3  # epochs 3 to 5 ran again
    assert run.history["loss"][:2] == interrupted["metrics"]["loss"][:2]
    assert run.model.get_layer("base").get_layer("conv").trainable
