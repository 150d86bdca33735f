"""`runtime.precision`: which dtype policy `auto` stands for, and the model it builds."""

import pytest
import tensorflow as tf

import dlkit
from dlkit._runtime import precision as _runtime


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
    (False, [], "tpu", "mixed_bfloat16"),            # the spec asks for a TPU
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
