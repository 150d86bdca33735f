"""Transfer learning: ``model.base`` (a keras.applications model or a saved model cut at a
layer), a head on it, and ``train.fine_tune`` (a second phase in the same run directory).

Nothing here downloads: applications run with ``weights: null``, a weights file saved here, or
a file put in a private Keras cache; the saved base is pretrained on the digits 0-4 once per
session (`examples/digits_transfer.py`).
"""

import contextlib
import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml

import dlkit
from conftest import EXAMPLES, cli

APP = {
    "name": "app-base", "seed": 1,
    "model": {"input_shape": [32, 32, 3],
              "base": {"application": "MobileNetV3Small", "weights": None, "pooling": "avg",
                       "trainable": False, "alpha": 0.75, "minimalistic": True},
              "layers": [{"type": "Dense", "units": 5, "activation": "softmax"}]},
    "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy"},
    "train": {"epochs": 1, "batch_size": 16,
              "fine_tune": {"unfreeze": 10, "learning_rate": 1.0e-4, "epochs": 1}},
}


def example():
    """examples/digits_transfer.py, imported afresh."""
    spec = importlib.util.spec_from_file_location("digits_transfer",
                                                  EXAMPLES / "digits_transfer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def inside(folder: Path):
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


@pytest.fixture(scope="session")
def pretrained(tmp_path_factory) -> Path:
    """A folder holding the example's data files and digits_0to4.keras, a CNN trained on the
    digits 0-4 (layers conv, norm, pooled, features, ...)."""
    folder = tmp_path_factory.mktemp("pretrained")
    with inside(folder):
        module = example()
        module.write_data()
        module.pretrain(logdir=str(folder / "logs"))
    return folder


def transfer_spec(folder: Path, epochs: int, tune_epochs: int, **train) -> dlkit.Spec:
    spec = yaml.safe_load((EXAMPLES / "digits_transfer.yaml").read_text())
    spec["model"]["base"]["path"] = str(folder / "digits_0to4.keras")
    spec["data"]["path"] = str(folder / "digits_5to9_few.npz")
    spec["train"].update(epochs=epochs, **train)
    spec["train"]["fine_tune"]["epochs"] = tune_epochs
    return dlkit.load_spec(spec)


class Watch(keras.callbacks.Callback):
    """Records the base's layers' weights at the end of every epoch (and an interruption)."""

    def __init__(self, interrupt_at: int | None = None):
        super().__init__()
        self.seen, self.interrupt_at = [], interrupt_at

    def on_epoch_end(self, epoch, logs=None):
        base = self.model.get_layer("base")
        self.seen.append({"conv": base.get_layer("conv").kernel.numpy().copy(),
                          **{w.path.rpartition("/")[2]: w.numpy().copy()
                             for w in base.get_layer("norm").weights}})
        if epoch == self.interrupt_at:
            raise KeyboardInterrupt


def test_features_of_the_digits_0_to_4_beat_training_from_scratch_on_few_5_to_9(
        pretrained, log_root):
    with inside(pretrained):
        result = example().run(logdir=str(log_root), model_file="digits_0to4.keras")
    assert result["transferred"] > result["scratch"] + 0.02, result
    run = result["run"]
    assert len(run.history["loss"]) == 40 + 10  # both phases, one history
    status = json.loads((run.log_dir / "run.json").read_text())
    assert status["fine_tune_first_epoch"] == 41 and status["status"] == "finished"
    from dlkit._cli.summary import summary_line
    phase = "fine-tuning phase" if run.best["epoch"] > 40 else "first phase"
    assert run.best["phase"] == ("fine_tune" if run.best["epoch"] > 40 else "train")
    assert f"best epoch {run.best['epoch']} of 50 ({phase})" in summary_line(run)


def test_batch_normalization_of_the_base_never_changes_and_curves_are_continuous(
        pretrained, log_root):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    saved = keras.saving.load_model(pretrained / "digits_0to4.keras").get_layer("norm")
    before = {w.path.rpartition("/")[2]: w.numpy() for w in saved.weights}
    watch = Watch()
    run = dlkit.train(transfer_spec(pretrained, 2, 2), callbacks=[watch], verbose=0)
    for seen in watch.seen:  # the moving statistics, and gamma and beta, in both phases
        for name, value in before.items():
            np.testing.assert_array_equal(seen[name], value)
    np.testing.assert_array_equal(watch.seen[1]["conv"], watch.seen[0]["conv"])  # frozen
    assert not np.array_equal(watch.seen[3]["conv"], watch.seen[1]["conv"])  # fine-tuned
    base = run.model.get_layer("base")
    assert base.get_layer("conv").trainable and not base.get_layer("norm").trainable
    assert float(run.model.optimizer.learning_rate) == pytest.approx(1.0e-4)
    accumulator = EventAccumulator(str(run.log_dir / "train"), size_guidance={"tensors": 0})
    accumulator.Reload()
    assert [e.step for e in accumulator.Tensors("epoch_loss")] == [0, 1, 2, 3]


@pytest.mark.parametrize("interrupt_at", [0, 2], ids=["first-phase", "fine-tuning-phase"])
def test_a_run_resumes_in_the_phase_it_stopped_in(pretrained, log_root, interrupt_at):
    spec = transfer_spec(pretrained, 2, 3)
    spec = dlkit.load_spec({**spec.to_dict(), "callbacks": {"backup": {"min_interval": 0}}})
    with pytest.raises(KeyboardInterrupt):
        dlkit.train(spec, callbacks=[Watch(interrupt_at)], verbose=0)
    watch = Watch()
    run = dlkit.train(spec, resume=True, callbacks=[watch], verbose=0)
    assert len(run.history["loss"]) == 5 and len(watch.seen) == 5 - (interrupt_at + 1)
    assert json.loads((run.log_dir / "run.json").read_text())["fine_tune_first_epoch"] == 3
    assert float(run.model.optimizer.learning_rate) == pytest.approx(1.0e-4)
    assert run.model.get_layer("base").get_layer("conv").trainable


def problems_of(change) -> str:
    spec = copy.deepcopy(APP)
    change(spec)
    with pytest.raises(dlkit.SpecError) as caught:
        dlkit.load_spec(spec)
    return str(caught.value)


def test_an_application_base_builds_frozen_and_fine_tunes_its_top_layers():
    spec = dlkit.load_spec(APP)
    model = dlkit.build(spec)
    base = model.get_layer("base")
    assert not any(layer.trainable for layer in base.layers) and model.trainable_weights
    assert spec.to_dict()["model"]["base"]["application"] == "MobileNetV3Small"
    assert dlkit.load_spec(spec.to_dict()) == spec  # round trip
    from dlkit._spec.spec import plan_of
    from dlkit._train.phases import enter_fine_tune

    enter_fine_tune(model, plan_of(spec))  # what training does between its phases
    inner = [layer for layer in base.layers if not isinstance(layer, keras.layers.InputLayer)]
    assert not any(layer.trainable for layer in inner[:-10])
    assert [layer.trainable for layer in inner[-10:]] == \
        [not isinstance(layer, keras.layers.BatchNormalization) for layer in inner[-10:]]
    assert float(model.optimizer.learning_rate) == pytest.approx(1.0e-4)


@pytest.mark.parametrize("change, message", [
    (lambda s: s["model"]["base"].update(application="MobileNetV3Smal"),
     r"model.base.application: unknown application 'MobileNetV3Smal' \(did you mean "
     r"'MobileNetV3Small'\?\)"),
    (lambda s: s["model"].update(input_shape=[16, 16, 3]),
     r"model.base: MobileNetV3Small refused input shape \[16, 16, 3\].*at least 32x32"),
    (lambda s: (s["model"].update(input_shape=[32, 32, 1]),
                s["model"]["base"].update(weights="imagenet")),
     r"model.base.weights: ImageNet weights are for 3-channel \(RGB\) images"),
    (lambda s: s["train"]["fine_tune"].update(unfreeze=1000),
     r"train.fine_tune.unfreeze: the base \(MobileNetV3Small\) has \d+ layers; unfreeze at "
     r"most \d+ of them, or all"),
    (lambda s: s["train"]["fine_tune"].update(unfreeze={"from": "expanded_conv_projet"}),
     r"train.fine_tune.unfreeze.from: .* no layer 'expanded_conv_projet' \(did you mean "
     r"'expanded_conv_project'\?\)"),
    (lambda s: s["model"].pop("base"),
     r"train.fine_tune: fine-tuning unfreezes a pretrained base, but the model has none"),
    (lambda s: s["model"]["base"].update(alhpa=0.5),
     r"model.base.alhpa: unknown key 'alhpa' \(did you mean 'alpha'\?\)"),
    (lambda s: s["model"]["base"].update(include_top=True),
     r"model.base.include_top: 'include_top' is set by dlkit"),
    (lambda s: s["model"]["base"].update(weights="nope.weights.h5"),
     r"model.base.weights: nope.weights.h5: no such file"),
], ids=["application", "size", "channels", "unfreeze-count", "unfreeze-from", "no-base",
        "key", "decided", "weights-file"])
def test_the_combination_is_validated(change, message):
    assert len(re.findall(message, problems_of(change))) == 1


def test_every_problem_at_once_and_the_head_checked_on_the_base():
    text = problems_of(lambda s: (s["model"]["base"].update(pooling="mean"),
                                  s["compile"].update(optimizer="adamm")))
    assert "model.base.pooling" in text and "compile.optimizer" in text
    text = problems_of(lambda s: (s["model"]["base"].update(pooling=None),
                                  s["model"].update(layers=[{"type": "LSTM", "units": 3}]),
                                  s["train"].pop("fine_tune")))
    assert "model.layers[0]: LSTM cannot take its input of shape (None, 1, 1, 432)" in text


def test_a_saved_base_is_cut_at_a_real_layer(pretrained, tmp_path):
    spec = transfer_spec(pretrained, 1, 1)
    raw = spec.to_dict()
    raw["model"]["base"]["until"] = "pooled_"
    with pytest.raises(dlkit.SpecError, match=r"model.base.until: .*digits_0to4.keras has no "
                       r"layer 'pooled_' \(did you mean 'pooled'\?\); its layers: conv, norm"):
        dlkit.load_spec(raw)
    raw["model"]["base"]["path"] = str(tmp_path / "missing.keras")
    with pytest.raises(dlkit.SpecError, match="model.base.path: no such file"):
        dlkit.load_spec(raw)
    from dlkit._spec.spec import plan_of
    assert plan_of(spec).model.base.output_shape == (None, 512)
    assert plan_of(spec).model.base.layers[:2] == ("conv", "norm")


def test_raw_pixels_get_the_applications_own_preprocessing():
    from dlkit._core.errors import Problems
    from dlkit._plan.applications import preprocessing_parts

    pixels = np.random.default_rng(0).uniform(0, 255, (4, 2, 2, 3)).astype("float32")
    for function, module in [(keras.applications.MobileNetV2, keras.applications.mobilenet_v2),
                             (keras.applications.ResNet50, keras.applications.resnet50),
                             (keras.applications.DenseNet121, keras.applications.densenet)]:
        [part] = preprocessing_parts(function, 3, Problems())
        np.testing.assert_allclose(part.make()(pixels), module.preprocess_input(pixels.copy()),
                                   rtol=1e-5, atol=1e-4)
    assert preprocessing_parts(keras.applications.EfficientNetB0, 3, Problems()) == ()


OFFLINE_SPEC = {
    "name": "offline", "seed": 1, "data": {"source": "npz", "path": "data.npz"},
    "model": {"input_shape": [32, 32, 3],
              "base": {"application": "MobileNetV2", "alpha": 0.35, "weights": "imagenet",
                       "pooling": "avg", "trainable": False},
              "layers": [{"type": "Dense", "units": 2, "activation": "softmax"}]},
    "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy"},
    "train": {"epochs": 1, "batch_size": 8},
}
DEAD_PROXY = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
              "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
              "no_proxy": "", "NO_PROXY": ""}
CACHED = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"


def test_imagenet_weights_offline_exit_2_naming_the_ways_out(tmp_path):
    np.savez(tmp_path / "data.npz", x=np.zeros((8, 32, 32, 3), "float32"), y=np.arange(8) % 2)
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(OFFLINE_SPEC))
    result = cli("train", "spec.yaml", "--logdir", "logs", cwd=tmp_path,
                 env={"KERAS_HOME": str(tmp_path / "keras"), **DEAD_PROXY})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "model.base.weights: the ImageNet weights of MobileNetV2 could not be downloaded " \
        "(URL fetch failure on https://" in result.stderr
    assert "weights: null" in result.stderr
    assert str(tmp_path / "keras" / "models" / CACHED) in result.stderr
    assert f"weights: path/to/{CACHED}" in result.stderr
    assert not (tmp_path / "logs").exists()


def test_a_cached_weights_file_is_used_offline_and_a_truncated_one_is_a_clear_error(tmp_path):
    """In a fresh interpreter: Keras reads its cache folder when it is imported."""
    cache = tmp_path / "keras" / "models"
    cache.mkdir(parents=True)
    code = f"""
import json, numpy as np, keras, dlkit
spec = dlkit.load_spec({OFFLINE_SPEC!r})
mine = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False,
                                      weights=None, pooling="avg")
mine.save({str(cache / CACHED)!r})  # Keras' own HDF5 layout, as downloaded
model = dlkit.build(spec)
used = [np.array_equal(a, b) for a, b in zip(model.get_layer("base").get_weights(),
                                              mine.get_weights())]
data = open({str(cache / CACHED)!r}, "rb").read()
open({str(cache / CACHED)!r}, "wb").write(data[:len(data) // 2])
try:
    dlkit.build(spec)
    error = None
except dlkit.SpecError as exc:
    error = str(exc)
print(json.dumps({{"used": all(used) and len(used) > 0, "error": error}}))
"""
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras"), **DEAD_PROXY}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["used"] is True
    assert "model.base.weights: the ImageNet weights of MobileNetV2 in Keras' cache" in \
        answer["error"] and "damaged or truncated: delete it" in answer["error"]


def test_a_weights_file_of_the_application_is_loaded_and_a_truncated_one_refused(tmp_path):
    spec = copy.deepcopy(APP)
    del spec["train"]["fine_tune"]
    source = dlkit.build(spec).get_layer("base")
    source.save_weights(tmp_path / "mine.weights.h5")
    spec["model"]["base"]["weights"] = str(tmp_path / "mine.weights.h5")
    loaded = dlkit.build(spec).get_layer("base")
    for a, b in zip(loaded.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(a, b)
    data = (tmp_path / "mine.weights.h5").read_bytes()
    (tmp_path / "cut.weights.h5").write_bytes(data[: len(data) // 2])
    spec["model"]["base"]["weights"] = str(tmp_path / "cut.weights.h5")
    with pytest.raises(dlkit.SpecError, match=r"model.base.weights: .*cut.weights.h5: cannot be "
                       r"read, the file is damaged or truncated"):
        dlkit.load_spec(spec)


def test_a_graph_head_takes_the_base_by_name():
    spec = copy.deepcopy(APP)
    del spec["train"]["fine_tune"]
    del spec["model"]["input_shape"], spec["model"]["layers"]
    spec["model"].update(inputs={"image": [32, 32, 3], "size": [1]}, outputs="label", graph=[
        {"name": "joined", "type": "Concatenate", "inputs": ["base", "size"]},
        {"name": "label", "type": "Dense", "units": 3, "activation": "softmax",
         "inputs": "joined"}])
    assert "model.base.inputs: missing: name the model input the base takes, one of image, " \
        "size" in problems_of(lambda s: s.update(model=copy.deepcopy(spec["model"])))
    spec["model"]["base"]["inputs"] = "image"
    model = dlkit.build(spec)
    assert model.get_layer("joined").output.shape == (None, 433)
    assert [t.name for t in model.inputs] == ["image", "size"]
