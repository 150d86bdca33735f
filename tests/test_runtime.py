"""Choosing where training runs."""

import warnings

import pytest
import tensorflow as tf

import dlkit
from dlkit import _runtime


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


# --- precision -------------------------------------------------------------------------------

def test_cpu_amx_is_read_from_the_cpu_flags():
    flags = [line for line in open("/proc/cpuinfo") if line.startswith("flags")]
    assert _runtime.cpu_has_amx() == any("amx_bf16" in line.split() for line in flags)


@pytest.mark.parametrize("amx, gpus, strategy, expected", [
    (True, [], "auto", "mixed_bfloat16"),
    (False, [], "auto", "float32"),
    (True, [(8, 0)], "auto", "mixed_float16"),       # training runs on the GPU
    (True, [(8, 0), (6, 1)], "auto", "float32"),     # one GPU without tensor cores
    (False, [(7, 0)], "mirrored", "mixed_float16"),
    (True, [(8, 0)], "cpu", "mixed_bfloat16"),       # the spec keeps training on the CPU
])
def test_auto_precision_follows_the_hardware(monkeypatch, amx, gpus, strategy, expected):
    monkeypatch.setattr(_runtime, "cpu_has_amx", lambda: amx)
    monkeypatch.setattr(_runtime, "gpu_compute_capabilities", lambda: gpus)
    assert _runtime.resolve_precision("auto", strategy) == expected
    assert _runtime.resolve_precision("float32", strategy) == "float32"


def test_auto_precision_on_this_machine_builds_that_policy(mlp):
    expected = _runtime.resolve_precision("auto", "auto")
    model = dlkit.build(mlp)
    assert [layer.dtype_policy.name for layer in model.layers] == [expected, "float32"]
    assert model.jit_compile is False or tf.config.list_physical_devices("GPU")  # no XLA on CPU


# --- steps per execution ---------------------------------------------------------------------

def dense_spec(inputs, hidden, batch, steps="auto"):
    return {"model": {"input_shape": [inputs], "layers": [
                *[{"type": "Dense", "units": u, "activation": "relu"} for u in hidden],
                {"type": "Dense", "units": 10, "activation": "softmax"}]},
            "compile": {"loss": "sparse_categorical_crossentropy"},
            "train": {"batch_size": batch}, "runtime": {"steps_per_execution": steps}}


def test_small_models_run_several_steps_per_call_and_large_ones_one():
    small = dlkit.build(dense_spec(784, [256, 128], 128)).steps_per_execution
    wide = dlkit.build(dense_spec(2048, [2048, 2048], 512)).steps_per_execution
    tiny = dlkit.build(dense_spec(64, [16], 64)).steps_per_execution
    assert 8 <= small <= 64 and wide == 1 and tiny == _runtime.MAX_STEPS
    assert dlkit.build(dense_spec(784, [256, 128], "full")).steps_per_execution == 1
    assert dlkit.build(dense_spec(784, [256, 128], 128, steps=3)).steps_per_execution == 3


def test_convolutions_count_their_work_at_every_position():
    def conv(size):
        return dlkit.build({"model": {"input_shape": [size, size, 3], "layers": [
            {"type": "Conv2D", "filters": 64, "kernel_size": 3, "padding": "same"},
            {"type": "GlobalAveragePooling2D"}, {"type": "Dense", "units": 10}]},
            "compile": {"loss": "mse"}, "train": {"batch_size": 64}}).steps_per_execution

    assert conv(8) > conv(32) > conv(128) == 1  # same weights, more positions


def test_several_steps_per_call_train_the_same_weights_as_one(mlp):
    """23 batches an epoch, 7 a call: each epoch must still end at its own last batch (Keras
    runs a call on into the next epoch's batches when one stream holds every epoch)."""
    weights = []
    for steps in (1, 7):
        mlp["runtime"] = {"steps_per_execution": steps, "precision": "float32"}
        mlp["callbacks"] = {"tensorboard": False, "backup": False}
        mlp["deterministic"] = True
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = dlkit.train(mlp, verbose=0)
        assert not [w for w in caught if "ran out of data" in str(w.message)]
        assert len(run.history["loss"]) == 2
        weights.append(run.model.get_weights())
    for a, b in zip(*weights):
        tf.debugging.assert_equal(a, b)
