"""Where training runs: a `tf.distribute` strategy chosen from ``runtime.strategy``."""

from __future__ import annotations

import tensorflow as tf

from dlkit._errors import Problem, SpecError


def make_strategy(name: str) -> tf.distribute.Strategy:
    """Returns the strategy ``runtime.strategy`` names.

    ``auto`` is `MirroredStrategy` over all GPUs when there are several, else TensorFlow's
    default strategy (one GPU if present, else the CPU).

    Raises:
        SpecError: the devices asked for do not exist here, or the strategy is not available
            in this version.
    """
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
                            "version of dlkit yet; use auto, cpu, gpu or mirrored"))


def replica_count(strategy: tf.distribute.Strategy) -> int:
    return int(strategy.num_replicas_in_sync)
