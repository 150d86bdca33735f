"""Trials in parallel through KerasTuner's distributed mode: a chief serving the oracle and
workers on 127.0.0.1, started by dlkit (``--workers``) or by hand as on several machines."""

import copy
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

import dlkit
from conftest import SEARCH
from dlkit._search.chief import Watch, drop
from dlkit._search.oracles import make_oracle
from dlkit._search.tuner import SpecTuner
from test_tensorboard_server import free_port


def parallel_spec(trials=4, epochs=1):
    spec = copy.deepcopy(SEARCH)
    spec["compile"]["optimizer"]["learning_rate"] = {"search": "float", "min": 0.01,
                                                     "max": 0.2, "log": True}
    spec["train"]["epochs"] = epochs
    spec["search"] = {"algorithm": "random", "max_trials": trials, "objective": "val_accuracy",
                      "worker_timeout": 4}
    return spec


class Oracle:
    """What `Watch` reads of an oracle: the workers it counts on and their running trials."""

    def __init__(self, tuner_ids, ongoing):
        self.tuner_ids, self.ongoing_trials = set(tuner_ids), ongoing


class Trial:
    def __init__(self, trial_id):
        self.trial_id = trial_id


def test_a_worker_is_lost_after_the_timeout_without_a_word():
    now = [0.0]
    watch = Watch(10, clock=lambda: now[0])
    oracle = Oracle({"w0", "w1"}, {"w0": Trial("3")})
    watch.heard("tuner", "w0")
    watch.heard("tuner", "w1")
    now[0] = 5.0
    watch.heard("trial", "3")  # w0's heartbeat during its trial
    now[0] = 12.0
    assert watch.lost(oracle) == ["w1"]
    now[0] = 15.5
    assert sorted(watch.lost(oracle)) == ["w0", "w1"]
    late = Oracle({"w2"}, {})  # never heard of: the clock starts at first sight
    assert watch.lost(late) == []
    now[0] = 26.0
    assert watch.lost(late) == ["w2"]


def test_a_lost_workers_trial_fails_and_the_search_stops_counting_on_it(tmp_path):
    search = dlkit.load_search(parallel_spec())
    oracle = SpecTuner(make_oracle(search, {}), None, directory=tmp_path / "state").oracle
    trial = oracle.create_trial("worker1")
    drop(oracle, "worker1", "worker worker1 was not heard from", tmp_path)
    assert oracle.get_trial(trial.trial_id).status == "FAILED"
    assert "worker1" not in oracle.tuner_ids and not oracle.ongoing_trials
    status = json.loads((tmp_path / "trials" / trial.trial_id / "run.json").read_text())
    assert status == {**status, "status": "failed", "error": "worker worker1 was not heard from"}


def started(spec_path, root, tuner_id, port, log):
    env = {**{k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
           "KERASTUNER_TUNER_ID": tuner_id, "KERASTUNER_ORACLE_IP": "127.0.0.1",
           "KERASTUNER_ORACLE_PORT": str(port)}
    return subprocess.Popen([sys.executable, "-m", "dlkit", "search", str(spec_path),
                             "--logdir", str(root)], env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def ongoing(root):
    """KerasTuner's record of which worker runs which trial (the chief saves it)."""
    found = list(root.glob("tiny-search/*/tuner/oracle.json"))
    return json.loads(found[0].read_text())["ongoing_trials"] if found else {}


@pytest.mark.slow
def test_a_chief_and_two_workers_on_loopback_survive_a_killed_worker(tmp_path):
    spec_path, root = tmp_path / "search.yaml", tmp_path / "logs"
    spec_path.write_text(yaml.safe_dump(parallel_spec(trials=3, epochs=2)))
    port = free_port()
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("chief", "tuner0", "tuner1")}
    processes = {name: started(spec_path, root, name, port, log) for name, log in logs.items()}
    try:
        deadline = time.monotonic() + 180
        while "tuner1" not in ongoing(root):
            assert time.monotonic() < deadline, (tmp_path / "chief.log").read_text()[-3000:]
            time.sleep(0.1)
        killed = ongoing(root)["tuner1"]
        processes["tuner1"].send_signal(signal.SIGKILL)  # mid-trial
        assert processes["chief"].wait(timeout=240) == 0, (tmp_path / "chief.log").read_text()
        assert processes["tuner0"].wait(timeout=60) == 0, (tmp_path / "tuner0.log").read_text()
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
            process.wait()
        for log in logs.values():
            log.close()
    search_dir = next(root.glob("tiny-search/*"))
    trials = json.loads((search_dir / "search.json").read_text())["trials"]
    assert [t["id"] for t in trials] == ["0", "1", "2"]  # each trial once
    by_id = {t["id"]: t for t in trials}
    assert by_id[killed]["status"] == "failed"
    assert "tuner1 was not heard from" in by_id[killed]["error"]
    assert all(t["status"] == "completed" for i, t in by_id.items() if i != killed)
    for trial in trials:
        if trial["status"] == "completed":  # trained once: two epochs, not four
            history = json.loads((search_dir / "trials" / trial["id"] / "history.json")
                                 .read_text())
            assert len(history["metrics"]["loss"]) == 2
    chief_output = (tmp_path / "chief.log").read_text()
    assert sum(line.startswith("trial ") for line in chief_output.splitlines()) == 3
    assert "tuner0: ran " in (tmp_path / "tuner0.log").read_text()  # and then stopped


@pytest.mark.slow
def test_workers_option_runs_trials_in_worker_processes_it_starts_and_stops(tmp_path):
    result = dlkit.search(parallel_spec(trials=3), logdir=tmp_path, workers=2, verbose=0)
    assert [t.status for t in result.trials] == ["completed"] * 3
    ran = []
    for name in ("worker0", "worker1"):  # each started, asked for trials, and ended
        output = (result.log_dir / "workers" / f"{name}.log").read_text()
        ran.append(int(output.split(f"{name}: ran ")[1].split()[0]))
    assert sum(ran) == 3
    children = subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True,
                              text=True).stdout.split()
    assert children == []  # every worker process stopped
