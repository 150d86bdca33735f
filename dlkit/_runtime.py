"""Where training runs: a `tf.distribute` strategy chosen from ``runtime.strategy``."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import tensorflow as tf

from dlkit._errors import Problem, SpecError

# Signs that a TPU is attached: Colab's TPU runtime, a named Cloud TPU, a TPU VM's devices.
TPU_VARIABLES = ("COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE")


def tpu_hint() -> str | None:
    """What says a TPU is here (without asking any server), or None."""
    for name in TPU_VARIABLES:
        if os.environ.get(name):
            return f"${name}"
    if Path("/dev/accel0").exists() or Path("/dev/vfio/0").exists():
        return "/dev/accel0"
    return None


def make_strategy(name: str) -> tf.distribute.Strategy:
    """Returns the strategy ``runtime.strategy`` names.

    ``auto`` is a `TPUStrategy` where a TPU is attached (Colab's TPU runtime, a Cloud TPU),
    else `MirroredStrategy` over all GPUs when there are several, else TensorFlow's default
    strategy (one GPU if present, else the CPU). Looking for a TPU asks no server unless an
    environment variable or device file says one is there, so it never hangs elsewhere.

    Raises:
        SpecError: the devices asked for do not exist here, or the strategy is not available
            in this version.
    """
    if name == "tpu" or (name == "auto" and tpu_hint()):
        strategy = _tpu_strategy(required=name == "tpu")
        if strategy is not None:
            return strategy
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    if name == "cpu":
        return tf.distribute.OneDeviceStrategy("/cpu:0")
    if name == "gpu":
        if not gpus:
            raise SpecError(Problem("runtime.strategy", "strategy gpu asked for, but TensorFlow "
                                    "sees no GPU here; use auto or cpu, or install a CUDA build "
                                    "of TensorFlow (pip install 'tensorflow[and-cuda]')"))
        return tf.distribute.OneDeviceStrategy(gpus[0].name)
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    raise SpecError(Problem("runtime.strategy", f"strategy {name} is not available in this "
                            "version of dlkit yet; use auto, cpu, gpu, mirrored or tpu"))


def _tpu_strategy(*, required: bool) -> tf.distribute.Strategy | None:
    hint = tpu_hint()
    if hint is None:
        raise SpecError(Problem("runtime.strategy", "strategy tpu asked for, but nothing here "
                                f"says a TPU is attached (none of ${', $'.join(TPU_VARIABLES)} "
                                "is set, no /dev/accel0); on Colab choose Runtime > Change "
                                "runtime type > TPU, elsewhere set TPU_NAME"))
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as exc:
        message = f"{hint} says a TPU is attached, but TensorFlow could not reach it ({exc})"
        if required:
            raise SpecError(Problem("runtime.strategy", message)) from None
        warnings.warn(f"runtime.strategy auto: {message}; training without it", stacklevel=3)
        return None


def replica_count(strategy: tf.distribute.Strategy) -> int:
    return int(strategy.num_replicas_in_sync)
