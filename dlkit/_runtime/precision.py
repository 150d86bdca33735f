"""Which dtype policy ``runtime.precision: auto`` stands for on this machine."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from dlkit._runtime.strategy import tpu_hint


def cpu_has_amx() -> bool:
    """Whether this CPU has AMX bfloat16 tiles (Sapphire Rapids and later), which oneDNN uses
    for bfloat16 matrix products: there bfloat16 is much faster than float32."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return any(line.startswith("flags") and "amx_bf16" in line.split()
               for line in text.splitlines())


def gpu_compute_capabilities() -> list[tuple[int, int]]:
    """The compute capability of every GPU TensorFlow sees."""
    found = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        found.append(tuple(details.get("compute_capability") or (0, 0)))
    return found


def resolve_precision(precision: str, strategy: str) -> str:
    """The dtype policy ``runtime.precision`` stands for on this machine.

    ``auto`` is ``mixed_bfloat16`` on TPUs and on CPUs with AMX, ``mixed_float16`` where
    training runs on GPUs of compute capability 7.0 or more (tensor cores), else ``float32``.
    The spec's ``runtime.strategy`` (or a TPU strategy already in scope) says where training
    runs. Nothing here starts TensorFlow's runtime: a multi-worker strategy can still start.
    """
    if precision != "auto":
        return precision
    on_tpu = strategy == "tpu" or (strategy == "auto" and tpu_hint() is not None)
    if on_tpu or isinstance(tf.distribute.get_strategy(), tf.distribute.TPUStrategy):
        return "mixed_bfloat16"
    if strategy != "cpu":
        capabilities = gpu_compute_capabilities()
        if capabilities:
            return "mixed_float16" if min(capabilities) >= (7, 0) else "float32"
    return "mixed_bfloat16" if cpu_has_amx() else "float32"


