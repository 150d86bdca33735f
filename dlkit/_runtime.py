"""Where training runs: a `tf.distribute` strategy chosen from ``runtime.strategy``."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context

from dlkit._errors import Problem, SpecError, TrainingError

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
        SpecError: the devices asked for do not exist here, ``$TF_CONFIG`` is missing or
            malformed, or the strategy is not available in this version.
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


# --- several machines ------------------------------------------------------------------------

TF_CONFIG_EXAMPLE = ('{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                     '"task": {"type": "worker", "index": 0}}')
CLUSTER_JOBS = ("chief", "worker")


@dataclass(frozen=True)
class Cluster:
    """This process's place in a multi-worker cluster, from ``$TF_CONFIG``."""

    jobs: dict[str, list[str]]
    task_type: str
    task_index: int

    @property
    def address(self) -> str:
        return self.jobs[self.task_type][self.task_index]

    @property
    def peers(self) -> list[str]:
        return [a for job in CLUSTER_JOBS for a in self.jobs.get(job, []) if a != self.address]

    @property
    def size(self) -> int:
        return sum(len(self.jobs.get(job, [])) for job in CLUSTER_JOBS)

    @property
    def is_chief(self) -> bool:
        """The task that writes the run directory: ``chief:0``, else ``worker:0``."""
        if "chief" in self.jobs:
            return self.task_type == "chief"
        return self.task_index == 0

    def __str__(self) -> str:
        return f"{self.task_type} {self.task_index} ({self.address}) of {self.size} workers"


def read_tf_config(text: str | None = None) -> Cluster:
    """Parses and checks ``$TF_CONFIG``; every mistake is a `SpecError` saying what to set."""
    text = os.environ.get("TF_CONFIG") if text is None else text

    def wrong(message: str) -> SpecError:
        return SpecError(Problem("TF_CONFIG", f"{message}; set it on every worker to JSON like "
                                 f"{TF_CONFIG_EXAMPLE}, each with its own task index"))

    if not text:
        raise wrong("strategy multi_worker reads the cluster from $TF_CONFIG, which is not set")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise wrong(f"$TF_CONFIG is not valid JSON ({exc})") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not cluster:
        raise wrong("$TF_CONFIG has no \"cluster\" mapping of job names to addresses")
    for job, addresses in cluster.items():
        if job not in CLUSTER_JOBS:
            raise wrong(f"$TF_CONFIG's cluster has a {job!r} job; strategy multi_worker uses "
                        "only chief and worker tasks")
        if not isinstance(addresses, list) or not addresses or \
                not all(_is_address(a) for a in addresses):
            raise wrong(f"$TF_CONFIG's cluster.{job} must be a list of \"host:port\" "
                        f"addresses, received {addresses!r}")
    everyone = [a for addresses in cluster.values() for a in addresses]
    if len(set(everyone)) < len(everyone):
        raise wrong(f"$TF_CONFIG's cluster lists an address twice: {everyone}")
    kind = task.get("type") if isinstance(task, dict) else None
    if not isinstance(kind, str) or kind not in cluster:
        raise wrong("$TF_CONFIG's \"task\" must name this process's job "
                    f"({' or '.join(cluster)}) as \"type\", received {task!r}")
    index = task.get("index")
    count = len(cluster[kind])
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise wrong(f"$TF_CONFIG's task index must be 0 to {count - 1} for the {count} {kind} "
                    f"addresses, received {index!r}")
    return Cluster(jobs=cluster, task_type=kind, task_index=index)


def _is_address(value: object) -> bool:
    if not isinstance(value, str) or ":" not in value:
        return False
    host, _, port = value.rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536


def cluster_of(strategy: tf.distribute.Strategy) -> Cluster | None:
    """This process's place in the strategy's cluster, or None for a single machine."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return None
    resolver = strategy.cluster_resolver
    jobs = {job: list(tasks) for job, tasks in resolver.cluster_spec().as_dict().items()}
    if not jobs:
        return None
    return Cluster(jobs=jobs, task_type=resolver.task_type, task_index=resolver.task_id)


def _multi_worker_strategy(peer_timeout: float) -> tf.distribute.Strategy:
    cluster = read_tf_config()
    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return tf.distribute.get_strategy()  # the caller's own, already running
    if getattr(context.context(), "_context_handle", None) is not None:
        raise SpecError(Problem("runtime.strategy", "strategy multi_worker must start before "
                                "TensorFlow has run anything in this process (it configures "
                                "the collective ops at start-up); call dlkit.train first in a "
                                "fresh process, or use `dlkit train`"))
    if cluster.size > 1:
        wait_for_peers(cluster, peer_timeout)
    # A collective that waits longer than peer_timeout for a worker fails instead of hanging.
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=peer_timeout)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def wait_for_peers(cluster: Cluster, timeout: float) -> None:
    """Returns once every other worker accepts a connection at its address.

    TensorFlow itself would wait for missing workers forever (and holds the interpreter while
    it waits), so every worker first listens on its own address and knocks on everyone
    else's; a worker already past this point answers from TensorFlow's own server there.

    Raises:
        SpecError: this worker's own address cannot be listened on.
        TrainingError: some worker did not answer within `timeout` seconds.
    """
    host, _, port = cluster.address.rpartition(":")
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host.strip("[]"), int(port)))
    except OSError as exc:
        listener.close()
        raise SpecError(Problem("TF_CONFIG", f"this worker ({cluster}) cannot listen on "
                                f"{cluster.address} ({exc.strerror or exc}); the address must "
                                "be this machine's and the port free")) from None
    listener.listen(64)
    listener.settimeout(0.2)
    stop = threading.Event()
    answering = threading.Thread(target=_answer, args=(listener, stop), daemon=True)
    answering.start()
    try:
        missing = list(cluster.peers)
        deadline = time.monotonic() + timeout
        while missing and time.monotonic() < deadline:
            missing = [peer for peer in missing if not _answers(peer)]
            if missing:
                time.sleep(0.2)
    finally:
        stop.set()
        answering.join()
        listener.close()
    if missing:
        raise TrainingError(
            f"strategy multi_worker: this worker is {cluster}; after {timeout:g} s these "
            f"workers still do not answer: {', '.join(missing)}. Start every worker listed in "
            "$TF_CONFIG (same spec, each with its own task index), check that they can reach "
            "each other on those ports, or wait longer with runtime.peer_timeout")


def _answer(listener: socket.socket, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            connection, _ = listener.accept()
        except (TimeoutError, socket.timeout):
            continue
        except OSError:
            return
        connection.close()


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
            return True
    except OSError:
        return False


def strategy_name(strategy: tf.distribute.Strategy) -> str:
    """The public name of the strategy's class (TensorFlow's own is CollectiveAllReduceStrategy
    for MultiWorkerMirroredStrategy)."""
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return "MultiWorkerMirroredStrategy"
    return type(strategy).__name__


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
