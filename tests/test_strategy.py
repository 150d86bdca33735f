"""Choosing where training runs: `runtime.strategy`."""

import pytest
import tensorflow as tf

import dlkit
from dlkit._runtime import strategy as _runtime


@pytest.fixture
def no_tpu(monkeypatch):
    for name in _runtime.TPU_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_auto_without_any_accelerator_is_the_default_strategy(no_tpu):
    assert _runtime.tpu_hint() is None or _runtime.tpu_hint() == "/dev/accel0"
    if _runtime.tpu_hint() is None and not tf.config.list_logical_devices("GPU"):
        assert _runtime.make_strategy("auto") is tf.distribute.get_strategy()


def test_a_colab_tpu_runtime_is_recognised(no_tpu, monkeypatch):
    monkeypatch.setenv("COLAB_TPU_ADDR", "10.0.0.2:8470")
    assert _runtime.tpu_hint() == "$COLAB_TPU_ADDR"


def test_tpu_asked_for_where_none_is_attached(no_tpu):
    if _runtime.tpu_hint() is not None:
        pytest.skip("this machine has a TPU device file")
    with pytest.raises(dlkit.SpecError, match="runtime.strategy: strategy tpu asked for, but "
                       "nothing here says a TPU is attached"):
        _runtime.make_strategy("tpu")


def test_gpu_asked_for_where_none_exists():
    if tf.config.list_logical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    with pytest.raises(dlkit.SpecError, match="sees no GPU here"):
        _runtime.make_strategy("gpu")


def test_cpu_strategy_trains(mlp):
    mlp["runtime"] = {"strategy": "cpu"}
    run = dlkit.train(mlp, verbose=0)
    assert len(run.history["loss"]) == 2


MIRRORED = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import dlkit
spec = {"name": "mirror", "seed": 0, "data": {"source": "digits"},
        "model": {"input_shape": [64], "layers": [
            {"type": "Dense", "units": 16, "activation": "relu"},
            {"type": "Dense", "units": 10, "activation": "softmax"}]},
        "compile": {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        "train": {"epochs": 2, "batch_size": 64}, "runtime": {"strategy": "mirrored"}}
run = dlkit.train(spec, logdir=sys.argv[1], verbose=0)
with tf.distribute.MirroredStrategy().scope():
    try:
        dlkit.build({**spec, "runtime": {"steps_per_execution": 4}})
    except dlkit.SpecError as exc:
        print(exc)
print(json.dumps(json.loads((run.log_dir / "run.json").read_text())))
"""


def test_mirrored_on_two_logical_cpus_records_the_replicas(tmp_path):
    import json
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", MIRRORED, str(tmp_path)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    status = json.loads(result.stdout.strip().splitlines()[-1])
    assert status["strategy"] == "MirroredStrategy" and status["replicas"] == 2
    assert status["steps_per_execution"] == 1  # keras-team/keras#19246
    assert "runtime.steps_per_execution: 4 batches per call do not work under a mirrored " \
        "strategy" in result.stdout and "keras-team/keras#19246" in result.stdout
    assert status["status"] == "finished"
