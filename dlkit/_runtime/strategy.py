"""Where training runs: a `tf.distribute` strategy chosen from ``runtime.strategy``."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import tensorflow as tf

from dlkit._compat.context import tensorflow_started
from dlkit._core.errors import Problem, SpecError
from dlkit._runtime.cluster import read_tf_config, wait_for_peers

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


def make_strategy(name: str, *, peer_timeout: float = 120) -> tf.distribute.Strategy:
    """Returns the strategy ``runtime.strategy`` names.

    ``auto`` is a `TPUStrategy` where a TPU is attached (Colab's TPU runtime, a Cloud TPU),
    else `MirroredStrategy` over all GPUs when there are several, else TensorFlow's default
    strategy (one GPU if present, else the CPU). Looking for a TPU asks no server unless an
    environment variable or device file says one is there, so it never hangs elsewhere.
    ``multi_worker`` is `MultiWorkerMirroredStrategy` over the cluster ``$TF_CONFIG``
    describes, once every other worker answers (within `peer_timeout` seconds).

    Raises:
        SpecError: the devices asked for do not exist here, or the strategy is not available
            in this version.
        ClusterError: ``$TF_CONFIG`` is missing or malformed.
        TrainingError: the other workers did not answer within `peer_timeout` seconds.
    """
    if name == "multi_worker":  # first: it must start before TensorFlow lists any device
        return _multi_worker_strategy(peer_timeout)
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
                            "version of dlkit; use auto, cpu, gpu, mirrored, multi_worker or tpu"))


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


def _multi_worker_strategy(peer_timeout: float) -> tf.distribute.Strategy:
    cluster = read_tf_config()
    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return tf.distribute.get_strategy()  # the caller's own, already running
    if tensorflow_started():
        raise SpecError(Problem("runtime.strategy", "strategy multi_worker must start before "
                                "TensorFlow has run anything in this process (it configures "
                                "the collective ops at start-up); call dlkit.train first in a "
                                "fresh process, or use `dlkit train`"))
    if cluster.size > 1:
        wait_for_peers(cluster, peer_timeout)
    # A collective that waits longer than peer_timeout for a worker fails instead of hanging.
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=peer_timeout)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def strategy_name(strategy: tf.distribute.Strategy) -> str:
    """The public name of the strategy's class (TensorFlow's own is CollectiveAllReduceStrategy
    for MultiWorkerMirroredStrategy)."""
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return "MultiWorkerMirroredStrategy"
    return type(strategy).__name__


def replica_count(strategy: tf.distribute.Strategy) -> int:
    return int(strategy.num_replicas_in_sync)


