"""One HPARAMS view of a whole search, read from the real TensorBoard server over HTTP."""

import json
import subprocess
import sys
import time

import pytest

from test_tensorboard_server import free_port, get

ALL_STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]


@pytest.fixture(scope="module")
def board(grid_search):
    """TensorBoard serving the search directory, as a user opens it."""
    result, _, _ = grid_search
    port = free_port()
    log = open(result.log_dir.parent / "tensorboard-search.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(result.log_dir), "--host",
         "127.0.0.1", "--port", str(port), "--load_fast", "false", "--reload_interval", "1"],
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wanted = {".", *(f"trials/{t.id}" for t in result.trials)}
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if wanted <= set(get(f"{base}/data/runs")):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError("tensorboard did not serve the search: " +
                                     (result.log_dir.parent /
                                      "tensorboard-search.log").read_text()[-2000:])
            time.sleep(0.5)
        yield base, result
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_the_experiment_names_the_searched_values_and_the_objective(board):
    base, _ = board
    experiment = get(f"{base}/data/plugin/hparams/experiment", {"experimentName": ""})
    infos = {info["name"]: info for info in experiment["hparamInfos"]}
    assert set(infos) == {"model.layers[0].units", "compile.optimizer.learning_rate"}
    assert infos["model.layers[0].units"]["domainInterval"] == {"minValue": 8, "maxValue": 16}
    assert sorted(infos["compile.optimizer.learning_rate"]["domainDiscrete"]) == [0.1, 1e30]
    metrics = {(m["name"]["group"], m["name"]["tag"]) for m in experiment["metricInfos"]}
    assert metrics == {("", "score"), ("validation", "epoch_accuracy")}


def test_every_trial_is_a_row_with_its_values_and_score(board):
    base, result = board
    groups = get(f"{base}/data/plugin/hparams/session_groups", {
        "experimentName": "", "startIndex": 0, "sliceSize": 100,
        "allowedStatuses": ALL_STATUSES})["sessionGroups"]
    summary = json.loads((result.log_dir / "search.json").read_text())
    by_id = {group["name"].split()[1]: group for group in groups}  # "trial <id> (<stamp>)"
    assert sorted(by_id) == [t["id"] for t in summary["trials"]]  # one row per trial
    for trial in summary["trials"]:
        group = by_id[trial["id"]]
        assert group["hparams"]["model.layers[0].units"] == trial["values"][
            "model.layers[0].units"]
        assert group["hparams"]["compile.optimizer.learning_rate"] == pytest.approx(
            trial["values"]["compile.optimizer.learning_rate"])
        scores = [m["value"] for m in group["metricValues"] if m["name"]["tag"] == "score"]
        if trial["status"] == "completed":
            assert scores == [pytest.approx(trial["score"])]
        else:
            assert scores == []  # a diverged trial has no score
