"""Where training runs: a `tf.distribute` strategy chosen from ``runtime.strategy``."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import keras
import numpy as np
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


# --- precision -------------------------------------------------------------------------------

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
    The strategy in scope (or the spec's ``runtime.strategy``) says where training runs.
    """
    if precision != "auto":
        return precision
    if isinstance(tf.distribute.get_strategy(), tf.distribute.TPUStrategy):
        return "mixed_bfloat16"
    if strategy != "cpu":
        capabilities = gpu_compute_capabilities()
        if capabilities:
            return "mixed_float16" if min(capabilities) >= (7, 0) else "float32"
    return "mixed_bfloat16" if cpu_has_amx() else "float32"


# --- steps per execution ---------------------------------------------------------------------

# One call into TensorFlow should run about this many floating-point operations, so that the
# Python work per call (callbacks, logs) is small beside it; and at most MAX_STEPS batches, so
# that progress bars and the NaN guard still hear from training often.
EXECUTION_FLOPS = 4e9
MAX_STEPS = 64


def auto_steps_per_execution(model: keras.Model, batch_size: object) -> int:
    """How many batches one `train_function` call runs, from the model's work per batch.

    A small model's step is shorter than Keras' Python overhead per step, so several steps
    run in one call (a small MLP trains 1.7x faster with 16); a large model's step is long,
    so one step a call costs nothing and keeps callbacks timely.
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool):
        return 1  # "full": one step per epoch anyway
    flops = 6 * batch_size * sum(_multiply_adds(layer) for layer in model.layers)
    return int(max(1, min(MAX_STEPS, EXECUTION_FLOPS // max(flops, 1))))


def _multiply_adds(layer: keras.layers.Layer) -> int:
    """Multiply-adds per sample, roughly: the layer's weights once per position they are used
    at (each output pixel of a convolution, each time step of a recurrent layer)."""
    positions = 1
    for tensor in (getattr(layer, "input", None), getattr(layer, "output", None)):
        try:
            dims = [d for d in tensor.shape[1:-1] if d]
        except (AttributeError, TypeError, ValueError):
            continue
        positions = max(positions, int(np.prod(dims)) if dims else 1)
    return layer.count_params() * positions
