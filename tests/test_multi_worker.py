"""``strategy: multi_worker``: real `dlkit train` processes on 127.0.0.1, one per worker."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import pytest
import tensorflow as tf
import yaml

import dlkit
from dlkit._compat import multi_worker as fixes
from dlkit._train.train import weights_digest

SPEC = {
    "name": "two-workers", "seed": 0, "data": {"source": "digits"},
    "model": {"input_shape": [64], "layers": [
        {"type": "Dense", "units": 32, "activation": "relu"},
        {"type": "Dropout", "rate": 0.1},
        {"type": "Dense", "units": 10, "activation": "softmax"}]},
    "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy",
                "metrics": ["accuracy"]},
    "train": {"epochs": 3, "batch_size": 64},
    "callbacks": {"early_stopping": {"patience": 5}, "checkpoint": {}},
    "runtime": {"strategy": "multi_worker", "peer_timeout": 60},
}


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def tf_config(addresses, index):
    return json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker",
                                                                   "index": index}})


def start_worker(spec_file, logdir, addresses, index, tmp, *options):
    env = {**os.environ, "TF_CONFIG": tf_config(addresses, index), "TMPDIR": str(tmp),
           "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.Popen([sys.executable, "-m", "dlkit", "train", str(spec_file),
                             "--logdir", str(logdir), "--quiet", *options], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture
def cluster_dirs(tmp_path):
    (tmp_path / "tmp").mkdir()
    return tmp_path / "logs", tmp_path / "tmp"


def write_spec(tmp_path, spec):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_two_workers_train_one_model_and_only_the_chief_writes(cluster_dirs):
    """The README's two commands (examples/digits_two_workers.yaml), on 3 epochs."""
    logdir, tmp = cluster_dirs
    spec_file = Path(__file__).parents[1] / "examples" / "digits_two_workers.yaml"
    addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
    workers = [start_worker(spec_file, logdir, addresses, i, tmp, "--set", "train.epochs=3")
               for i in (0, 1)]
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
        assert "Traceback" not in err
    digests = [re.search(r"weights digest (\w+)", out).group(1) for out, _ in outputs]
    assert digests[0] == digests[1], "the workers' weights differ"
    assert "worker 0 (" in outputs[0][0] and "worker 1 (" in outputs[1][0]
    assert "written by the chief" in outputs[1][0]

    [run_dir] = (logdir / "digits-two-workers").iterdir()  # the other worker wrote nothing
    status = json.loads((run_dir / "run.json").read_text())
    assert status["status"] == "finished" and status["epochs_run"] == 3
    assert status["strategy"] == "MultiWorkerMirroredStrategy"
    assert status["workers"] == 2 and status["replicas"] == 2
    assert status["steps_per_execution"] == 1
    assert status["weights_digest"] == digests[0]
    for name in ("spec.yaml", "history.json", "model.keras", "checkpoints/best.keras",
                 "learning_curve.png"):
        assert (run_dir / name).is_file(), name
    assert list((run_dir / "train").glob("events.out.tfevents.*"))
    assert list((run_dir / "validation").glob("events.out.tfevents.*"))
    history = json.loads((run_dir / "history.json").read_text())["metrics"]
    assert len(history["loss"]) == 3 and history["loss"][-1] < history["loss"][0]
    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    assert weights_digest(model) == digests[0]
    assert list(tmp.iterdir()) == [], "the other worker left its temporary files"


def test_a_worker_alone_gives_up_after_peer_timeout_naming_the_missing_one(tmp_path,
                                                                            cluster_dirs):
    logdir, tmp = cluster_dirs
    spec_file = write_spec(tmp_path, {**SPEC, "runtime": {"strategy": "multi_worker",
                                                           "peer_timeout": 3}})
    addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
    started = time.monotonic()
    worker = start_worker(spec_file, logdir, addresses, 1, tmp)
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 1, err[-2000:]
    assert time.monotonic() - started < 60
    assert f"after 3 s these workers still do not answer: {addresses[0]}" in err
    assert "runtime.peer_timeout" in err and "Traceback" not in err
    assert not logdir.exists() or not any(logdir.rglob("run.json"))


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGSTOP], ids=["dead", "hung"])
def test_a_worker_lost_mid_training_fails_the_other_instead_of_hanging(tmp_path, cluster_dirs,
                                                                       stop):
    logdir, tmp = cluster_dirs
    spec_file = write_spec(tmp_path, {**SPEC, "train": {"epochs": 10000, "batch_size": 64},
                                      "runtime": {"strategy": "multi_worker",
                                                  "peer_timeout": 20}})
    addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
    chief, other = (start_worker(spec_file, logdir, addresses, i, tmp) for i in (0, 1))
    try:
        deadline = time.monotonic() + 120
        while not list(logdir.glob("two-workers/*/history.json")):  # an epoch has finished
            assert time.monotonic() < deadline and chief.poll() is None, \
                chief.stderr.read()[-2000:]
            time.sleep(0.5)
        other.send_signal(stop)  # SIGSTOP: alive, holding its connections, silent
        lost = time.monotonic()
        _, err = chief.communicate(timeout=120)
    finally:
        other.kill()
        other.communicate()
    assert chief.returncode == 1, err[-2000:]
    assert time.monotonic() - lost < 60
    assert "lost the other workers mid-training" in err and "--resume" in err
    assert "Traceback" not in err
    [run_dir] = (logdir / "two-workers").iterdir()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "failed"



def test_cli_refuses_a_malformed_tf_config(tmp_path):
    env = {**os.environ, "TF_CONFIG": "{not json"}
    result = subprocess.run([sys.executable, "-m", "dlkit", "train",
                             str(write_spec(tmp_path, SPEC)), "--logdir", str(tmp_path / "l")],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "TF_CONFIG: $TF_CONFIG is not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "l").exists()



# --- the compatibility module ----------------------------------------------------------------

def test_fixes_apply_to_the_keras_versions_that_need_them(monkeypatch):
    assert fixes.keras_needs_fixes("3.15.1")  # keras-team/keras#20585 is open upstream
    assert not fixes.keras_needs_fixes("2.15.0")  # tf.keras, another trainer
    monkeypatch.setattr(fixes, "FIXED_IN", (3, 16))
    assert fixes.keras_needs_fixes("3.15.1") and not fixes.keras_needs_fixes("3.16.0")


def test_fixes_change_nothing_outside_multi_worker_training(monkeypatch):
    import importlib

    trainer = importlib.import_module(fixes.TRAINER_MODULE)
    model = dlkit.build(SPEC | {"runtime": {}})
    before = (trainer.reduce_per_replica, model._maybe_symbolic_build)
    with fixes.multi_worker_fixes(model, tf.distribute.get_strategy()):
        assert (trainer.reduce_per_replica, model._maybe_symbolic_build) == before
    monkeypatch.setattr(fixes, "spans_workers", lambda strategy: True)
    with fixes.multi_worker_fixes(model, tf.distribute.get_strategy()):
        assert trainer.reduce_per_replica is not before[0]
        assert model._maybe_symbolic_build != before[1]
    assert (trainer.reduce_per_replica, model._maybe_symbolic_build) == before


def test_the_fixes_module_is_the_only_one_that_patches_keras():
    package = Path(dlkit.__file__).parent
    patching = [path.relative_to(package).as_posix() for path in package.rglob("*.py")
                if re.search(r"^\s*trainer\.\w+ = |_maybe_symbolic_build = ",
                             path.read_text(), re.M)]
    assert patching == ["_compat/multi_worker.py"]


PLAIN_KERAS = """
import json, sys
import keras, numpy as np, tensorflow as tf
from dlkit._compat.multi_worker import _symbolic_build_from_one_replica, multi_worker_fixes
strategy = tf.distribute.MultiWorkerMirroredStrategy()
with strategy.scope():
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
rng = np.random.default_rng(0)
x, y = rng.normal(size=(256, 8)).astype("float32"), rng.integers(0, 3, 256)
try:
    if sys.argv[1] == "fixed":
        with multi_worker_fixes(model, strategy):
            model.fit(x, y, batch_size=32, epochs=2, verbose=0, validation_data=(x, y))
    else:
        if sys.argv[1] == "first fix only":
            model._maybe_symbolic_build = _symbolic_build_from_one_replica(model)
        model.fit(x, y, batch_size=32, epochs=2, verbose=0, validation_data=(x, y))
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:300]}))
else:
    print(json.dumps({"loss": model.history.history["loss"]}))
"""


@pytest.mark.parametrize("mode", ["plain", "first fix only", "fixed"])
def test_keras_fit_needs_the_fixes_with_two_workers(mode):
    """Plain Keras fails under two workers (the upstream bug is still there: when this starts
    passing without the fixes, set FIXED_IN), and still fails with the first fix alone; with
    both fixes both workers log one loss."""
    addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
    workers = [subprocess.Popen(
        [sys.executable, "-c", PLAIN_KERAS, mode], text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env={**os.environ, "TF_CONFIG": tf_config(addresses, i),
                                     "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""})
        for i in (0, 1)]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=180)
        assert out.strip(), err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    if mode == "plain":
        assert all("PerReplica" in r.get("error", "") for r in results), results
    elif mode == "first fix only":
        # fix 2's bug: a scalar log reduced along axis 0
        assert all("Invalid reduction dimension 0" in r.get("error", "") for r in results), \
            results
    else:
        assert results[0] == results[1] and len(results[0]["loss"]) == 2, results


def test_both_workers_killed_then_resumed_finish_the_run_in_sync(tmp_path, cluster_dirs):
    logdir, tmp = cluster_dirs
    spec_file = write_spec(tmp_path, {**SPEC, "train": {"epochs": 4, "batch_size": 8},
                                      "callbacks": {"backup": {"min_interval": 0}},
                                      "runtime": {"strategy": "multi_worker",
                                                  "peer_timeout": 30}})
    addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
    workers = [start_worker(spec_file, logdir, addresses, i, tmp) for i in (0, 1)]
    metadata = logdir / "two-workers"
    deadline = time.monotonic() + 120
    while not any(json.loads(m.read_text()).get("epoch", 0) >= 1
                  for m in metadata.glob("*/backup/training_metadata.json")):
        assert time.monotonic() < deadline and workers[0].poll() is None, \
            workers[0].stderr.read()[-2000:]
        time.sleep(0.1)
    for worker in workers:
        worker.send_signal(signal.SIGKILL)
        worker.communicate()
    resumed = [start_worker(spec_file, logdir, addresses, i, tmp, "--resume") for i in (0, 1)]
    outputs = [w.communicate(timeout=300) for w in resumed]
    for worker, (_, err) in zip(resumed, outputs):
        assert worker.returncode == 0, err[-3000:]
    digests = [re.search(r"weights digest (\w+)", out).group(1) for out, _ in outputs]
    assert digests[0] == digests[1]
    [run_dir] = metadata.iterdir()
    assert len(json.loads((run_dir / "history.json").read_text())["metrics"]["loss"]) == 4
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"


def test_multi_worker_after_tensorflow_started_is_a_clear_error(tmp_path):
    script = """
import sys
import tensorflow as tf
import dlkit
tf.config.list_logical_devices()  # TensorFlow's context is up: too late for collectives
try:
    dlkit.train(sys.argv[1], logdir=sys.argv[2], verbose=0)
except dlkit.SpecError as exc:
    print(exc)
"""
    env = {**os.environ, "TF_CONFIG": tf_config([f"127.0.0.1:{p}" for p in free_ports(2)], 0),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", script, str(write_spec(tmp_path, SPEC)),
                             str(tmp_path / "logs")], env=env, capture_output=True, text=True,
                            timeout=120)
    assert "strategy multi_worker must start before TensorFlow has run anything" in \
        result.stdout, result.stderr[-2000:]
    assert not (tmp_path / "logs").exists()
