"""This process's place in a multi-worker cluster: ``$TF_CONFIG``, read and checked, and the
wait for the other workers that TensorFlow itself would make forever."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import dataclass

import tensorflow as tf

from dlkit._core.errors import ClusterError, TrainingError

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
    """Parses and checks ``$TF_CONFIG``; every mistake is a `ClusterError` saying what to set."""
    text = os.environ.get("TF_CONFIG") if text is None else text

    def wrong(message: str) -> ClusterError:
        return ClusterError(f"TF_CONFIG: {message}; set it on every worker to JSON like "
                            f"{TF_CONFIG_EXAMPLE}, each with its own task index")

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


def wait_for_peers(cluster: Cluster, timeout: float) -> None:
    """Returns once every other worker accepts a connection at its address.

    TensorFlow itself would wait for missing workers forever (and holds the interpreter while
    it waits), so every worker first listens on its own address and knocks on everyone
    else's; a worker already past this point answers from TensorFlow's own server there.

    Raises:
        ClusterError: this worker's own address cannot be listened on.
        TrainingError: some worker did not answer within `timeout` seconds.
    """
    host, _, port = cluster.address.rpartition(":")
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host.strip("[]"), int(port)))
    except OSError as exc:
        listener.close()
        raise ClusterError(f"TF_CONFIG: this worker ({cluster}) cannot listen on "
                           f"{cluster.address} ({exc.strerror or exc}); the address must be "
                           "this machine's and the port free") from None
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


