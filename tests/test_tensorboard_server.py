"""The real TensorBoard server over two dlkit runs, read over HTTP and in headless Chromium."""

import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

import dlkit
from conftest import MLP, REPO

ARTIFACTS = REPO / "logs" / "ci"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two runs of one spec that differ in one setting: the first layer's width."""
    root = tmp_path_factory.mktemp("tb") / "logs"
    runs = []
    for units in (8, 24):
        spec = copy.deepcopy(MLP)
        spec["model"]["layers"][0]["units"] = units
        runs.append(dlkit.train(spec, logdir=root, verbose=0))
    return root, runs


@pytest.fixture(scope="module")
def server(two_runs):
    root, runs = two_runs
    port = free_port()
    log = open(root.parent / "tensorboard.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(root), "--host", "127.0.0.1",
         "--port", str(port), "--load_fast", "false", "--reload_interval", "1"],
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if len(get(f"{base}/data/runs")) >= 6:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError("tensorboard did not serve both runs: " +
                                     (root.parent / "tensorboard.log").read_text()[-2000:])
            time.sleep(0.5)
        yield base, root, runs
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def run_name(root, run) -> str:
    return run.log_dir.relative_to(root).as_posix()


def test_epoch_loss_curves_are_served(server):
    base, root, runs = server
    for run in runs:
        for folder, key in (("train", "loss"), ("validation", "val_loss")):
            points = get(f"{base}/data/plugin/scalars/scalars?run={run_name(root, run)}/{folder}"
                         "&tag=epoch_loss")
            assert [step for _, step, _ in points] == [0, 1]  # each epoch once
            np.testing.assert_allclose([v for _, _, v in points], run.history[key], rtol=1e-6)


def test_hparams_experiment_marks_the_changed_setting(server):
    base, _, _ = server
    experiment = get(f"{base}/data/plugin/hparams/experiment", {"experimentName": ""})
    infos = {info["name"]: info for info in experiment["hparamInfos"]}
    assert infos["model.layers[0].units"]["differs"] is True
    assert infos["train.epochs"]["differs"] is False
    assert infos["compile.loss"]["differs"] is False
    metrics = {(m["name"]["group"], m["name"]["tag"]) for m in experiment["metricInfos"]}
    assert {("train", "epoch_loss"), ("validation", "epoch_loss"),
            ("validation", "epoch_accuracy")} <= metrics


def test_hparams_session_groups_hold_both_runs_with_metrics(server):
    base, root, runs = server
    groups = get(f"{base}/data/plugin/hparams/session_groups", {
        "experimentName": "", "startIndex": 0, "sliceSize": 100,
        "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE",
                            "STATUS_RUNNING"]})["sessionGroups"]
    by_units = {group["hparams"]["model.layers[0].units"]: group for group in groups}
    assert sorted(by_units) == [8, 24]
    for run, units in zip(runs, (8, 24)):
        values = {(m["name"]["group"], m["name"]["tag"]): m["value"]
                  for m in by_units[units]["metricValues"]}
        assert values[("validation", "epoch_loss")] == pytest.approx(run.history["val_loss"][-1])
        assert values[("train", "epoch_accuracy")] == pytest.approx(run.history["accuracy"][-1])


def test_hparams_dashboard_renders_in_headless_chromium(server, tmp_path):
    base, _, _ = server
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing; .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "tensorboard-hparams.png"
    shot.unlink(missing_ok=True)
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-quic",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,900",
                    "--virtual-time-budget=15000", f"--screenshot={shot}", f"{base}/#hparams"],
                   capture_output=True, timeout=120, check=True)
    import tensorflow as tf

    pixels = tf.image.decode_png(shot.read_bytes()).numpy()
    assert pixels.shape[:2] == (900, 1400)
    colours = np.unique(pixels.reshape(-1, pixels.shape[-1])[::37], axis=0)
    assert len(colours) > 50, "the page looks blank"
    orange_header = pixels[20, 700, :3]  # TensorBoard's toolbar
    assert orange_header[0] > 200 and 80 < orange_header[1] < 160 and orange_header[2] < 60
