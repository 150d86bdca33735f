"""Crash safety: SIGKILL mid-run, then --resume finishes in the same run directory."""

import copy
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

import dlkit
from conftest import MLP, cli

EPOCHS = 16


def crash_spec():
    spec = copy.deepcopy(MLP)
    spec.update(name="crash", seed=7, deterministic=True)
    spec["train"] = {"epochs": EPOCHS, "batch_size": 32}
    spec["model"]["layers"].insert(1, {"type": "Dropout", "rate": 0.2})
    spec["callbacks"] = {"backup": {"min_interval": 0}}  # a backup at every epoch's end
    return spec


def epochs_done(run_dir) -> int:
    try:
        return len(json.loads((run_dir / "history.json").read_text())["metrics"]["loss"])
    except (OSError, ValueError, KeyError):
        return 0


def epoch_steps(folder) -> dict[str, list[int]]:
    # The accumulator the TensorBoard server itself uses; keep every event.
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return {tag: [event.step for event in accumulator.Tensors(tag)]
            for tag in accumulator.Tags()["tensors"] if tag.startswith("epoch_")}


@pytest.mark.slow
def test_sigkill_then_resume_finishes_with_every_epoch_once(tmp_path):
    path = tmp_path / "crash.yaml"
    path.write_text(yaml.safe_dump(crash_spec()))
    logs = tmp_path / "logs"
    env = {**os.environ}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    process = subprocess.Popen([sys.executable, "-m", "dlkit", "train", str(path), "--logdir",
                                str(logs), "--quiet"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        run_dir = None
        while time.monotonic() < deadline:
            found = list((logs / "crash").glob("*/")) if (logs / "crash").is_dir() else []
            if found and epochs_done(found[0]) >= 5:
                run_dir = found[0]
                break
            time.sleep(0.05)
        assert run_dir is not None, "training never got to epoch 5"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    killed_at = epochs_done(run_dir)
    assert 5 <= killed_at < EPOCHS
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"
    assert not (run_dir / "model.keras").exists()
    yaml.safe_load((run_dir / "spec.yaml").read_text())  # complete, not torn

    result = cli("train", str(path), "--logdir", str(logs), "--resume", "--quiet")
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (logs / "crash").iterdir()] == [run_dir.name]  # same directory
    history = json.loads((run_dir / "history.json").read_text())["metrics"]
    assert all(len(values) == EPOCHS for values in history.values()), history
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
    for folder in ("train", "validation"):
        for tag, steps in epoch_steps(run_dir / folder).items():
            assert steps == list(range(EPOCHS)), (folder, tag, steps)

    # Beyond Keras: the resumed run against an uninterrupted one, same seed.
    straight = dlkit.train(crash_spec(), logdir=tmp_path / "straight", verbose=0)
    resumed = dlkit.load_model(run_dir / "model.keras")
    difference = max(float(np.max(np.abs(a - b))) for a, b in
                     zip(resumed.get_weights(), straight.model.get_weights()))
    print(f"killed after epoch {killed_at}; max |resumed - uninterrupted| = {difference:.3g}")
    assert difference == 0.0  # data order and dropout come from (seed, epoch) alone
