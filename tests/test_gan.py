"""GANs trained from a spec: a known answer (a 1-D Gaussian's mean and spread learned), the run
directory, TensorBoard, `dlkit.sample`, and a resumed run repeating the uninterrupted one."""

import copy
import json
import math

import keras
import numpy as np
import pytest

import dlkit
from dlkit._callbacks.guards import NanGuard
from dlkit._model.gan import mmd

MEAN, SPREAD = 2.0, 0.5
ADAM = {"type": "Adam", "learning_rate": 2.0e-3, "beta_1": 0.5}
GAUSSIAN = {
    "name": "gaussian-gan", "seed": 1,
    "model": {"kind": "gan", "input_shape": [1], "latent_dim": 4,
              "generator": [{"type": "Dense", "units": 16, "activation": "relu"},
                            {"type": "Dense", "units": 16, "activation": "relu"},
                            {"type": "Dense", "units": 1}],
              "discriminator": [{"type": "Dense", "units": 16, "activation": "relu"},
                                {"type": "Dense", "units": 16, "activation": "relu"},
                                {"type": "Dense", "units": 1}]},
    "compile": {"generator_optimizer": ADAM, "discriminator_optimizer": ADAM},
    "train": {"epochs": 40, "batch_size": 64},
    "callbacks": {"early_stopping": {"patience": 10}},  # on val_mmd, the best weights restored
}


def gaussian(samples: int = 2000) -> np.ndarray:
    return np.random.default_rng(0).normal(MEAN, SPREAD, (samples, 1)).astype("float32")


@pytest.fixture(scope="session")
def gaussian_run(tmp_path_factory):
    """A GAN trained on 2,000 samples of N(2, 0.5), given as x alone."""
    root = tmp_path_factory.mktemp("gan-logs")
    return dlkit.train(GAUSSIAN, data=gaussian(), logdir=root, verbose=0)


def test_generated_samples_take_the_datas_mean_and_spread(gaussian_run):
    untrained = dlkit.build(GAUSSIAN).generator(np.random.default_rng(0).standard_normal(
        (2000, 4)).astype("float32"))
    assert abs(float(np.mean(untrained)) - MEAN) > 1.0  # far from the data at the start
    generated = dlkit.sample(gaussian_run, 4000, seed=0)
    assert generated.shape == (4000, 1)
    assert abs(float(generated.mean()) - MEAN) < 0.25
    assert abs(float(generated.std()) - SPREAD) < 0.15
    history = gaussian_run.history
    assert set(history) == {"d_loss", "g_loss", "mmd", "val_d_loss", "val_g_loss", "val_mmd"}
    assert min(history["val_mmd"]) < 0.2 * history["val_mmd"][0]
    assert gaussian_run.best["monitor"] == "val_mmd"


def test_the_run_directory_holds_both_networks_loadable_in_safe_mode(gaussian_run):
    run_dir = gaussian_run.log_dir
    generator = dlkit.load_model(run_dir / "generator.keras", compile=False)
    discriminator = dlkit.load_model(run_dir / "discriminator.keras", compile=False)
    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    z = np.random.default_rng(1).standard_normal((16, 4)).astype("float32")
    np.testing.assert_allclose(generator(z), model(z), atol=1e-6)
    np.testing.assert_allclose(discriminator(generator(z)),
                               model.discriminator(model.generator(z)), atol=1e-6)
    assert model.generator_optimizer.iterations.numpy() > 0  # compiled, its state kept
    status = json.loads((run_dir / "run.json").read_text())
    assert status["status"] == "finished" and status["epochs_run"] == len(
        gaussian_run.history["d_loss"])


def test_tensorboard_has_both_losses_and_the_generated_samples(gaussian_run):
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

    tags = {}
    for folder in ("train", "validation", "."):
        accumulator = EventAccumulator(str(gaussian_run.log_dir / folder),
                                       size_guidance={"tensors": 0})
        accumulator.Reload()
        tags[folder] = set(accumulator.Tags()["tensors"])
    assert {"epoch_d_loss", "epoch_g_loss", "epoch_mmd"} <= tags["train"]
    assert {"epoch_d_loss", "epoch_g_loss", "epoch_mmd"} <= tags["validation"]
    assert "dlkit/generated_0" in tags["."]  # a histogram of the generated values per epoch


def test_sample_is_reproducible_from_the_run_or_its_directory(gaussian_run, tmp_path):
    first = dlkit.sample(gaussian_run, 50, seed=3)
    np.testing.assert_allclose(first, dlkit.sample(gaussian_run.log_dir, 50, seed=3), atol=1e-6)
    assert not np.allclose(first, dlkit.sample(gaussian_run, 50, seed=4))
    assert dlkit.sample(gaussian_run, 0).shape == (0, 1)
    with pytest.raises(dlkit.RunDirError, match="only a finished GAN run"):
        dlkit.sample(tmp_path, 5)


def test_mmd_is_zero_for_the_same_batch_and_grows_with_a_shift():
    x = np.random.default_rng(0).normal(0, 1, (256, 3)).astype("float32")
    y = np.random.default_rng(1).normal(0, 1, (256, 3)).astype("float32")
    assert float(mmd(x, x)) == pytest.approx(0.0, abs=1e-6)
    assert float(mmd(x, y)) < 0.1 < float(mmd(x, y + 1.0)) < float(mmd(x, y + 3.0))


def test_a_resumed_deterministic_gan_repeats_the_uninterrupted_run(tmp_path):
    spec = copy.deepcopy(GAUSSIAN)
    spec.update(deterministic=True, train={"epochs": 3, "batch_size": 64},
                callbacks={"backup": {"min_interval": 0}, "tensorboard": False})
    data = gaussian(600)
    straight = dlkit.train(spec, data=data, logdir=tmp_path / "straight", verbose=0)

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dlkit.train(spec, data=data, logdir=tmp_path / "resumed", callbacks=[Interrupt()],
                    verbose=0)
    resumed = dlkit.train(spec, data=data, logdir=tmp_path / "resumed", resume=True, verbose=0)
    assert resumed.history == straight.history  # every epoch once, the same numbers
    for a, b in zip(straight.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for name in ("generator_optimizer", "discriminator_optimizer"):
        assert getattr(resumed.model, name).iterations.numpy() == \
            getattr(straight.model, name).iterations.numpy()


def test_image_shaped_samples_go_to_tensorboard_as_images(tmp_path):
    spec = {"name": "digits-gan", "seed": 2, "data": {"source": "digits"},
            "model": {"kind": "gan", "input_shape": [8, 8, 1], "latent_dim": 4,
                      "generator": [{"type": "Dense", "units": 64, "activation": "sigmoid"},
                                    {"type": "Reshape", "target_shape": [8, 8, 1]}],
                      "discriminator": [{"type": "Flatten"}, {"type": "Dense", "units": 1}]},
            "train": {"epochs": 1, "batch_size": 128}}
    run = dlkit.train(spec, logdir=tmp_path, verbose=0)
    assert dlkit.sample(run, 3).shape == (3, 8, 8, 1)
    events = b"".join(p.read_bytes() for p in run.log_dir.glob("events.out.tfevents.*"))
    assert b"dlkit/generated" in events and b"dlkit/generated_0" not in events
    assert "note" in json.loads((run.log_dir / "run.json").read_text())  # digits' labels unused


def test_the_nan_guard_watches_both_losses_of_a_gan():
    guard = NanGuard()
    guard.on_epoch_begin(2)
    guard.on_train_batch_begin(4)
    guard.on_train_batch_end(4, {"d_loss": 0.7, "g_loss": 0.6})
    with pytest.raises(dlkit.TrainingError, match=r"the g_loss became nan in epoch 3, batch 5"):
        guard.on_train_batch_end(4, {"d_loss": 0.7, "g_loss": math.nan})


def test_tools_for_other_kinds_refuse_a_gan_run_saying_what_to_do(gaussian_run):
    for use in (lambda: dlkit.predict(gaussian_run.log_dir, gaussian(5)),
                lambda: dlkit.landscape(gaussian_run.log_dir, grid=3)):
        with pytest.raises(dlkit.SpecError, match="model.kind: .* not yet for GANs; a GAN run "
                           "generates samples with dlkit.sample"):
            use()
