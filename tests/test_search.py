"""`dlkit.search` and `dlkit search`: trials, scores, failures, best.yaml, the printed report,
hyperband's continued rounds, and resuming a killed search."""

import copy
import json
import os
import subprocess
import sys
import time

import pytest
import yaml

import dlkit
from conftest import SEARCH
from dlkit._search.oracles import make_oracle
from dlkit._search.space import spec_values
from dlkit._search.trial import TrialFailed, TrialRunner, round_of
from dlkit._search.tuner import SpecTuner


def summary_of(search_dir):
    return json.loads((search_dir / "search.json").read_text())


def history_of(run_dir):
    return json.loads((run_dir / "history.json").read_text())["metrics"]


def test_grid_search_tries_every_combination_once(grid_search):
    result, _, _ = grid_search
    summary = summary_of(result.log_dir)
    assert summary["status"] == "finished" and summary["algorithm"] == "grid"
    assert summary["objective"] == {"name": "val_accuracy", "direction": "max"}
    trials = summary["trials"]
    assert [t["id"] for t in trials] == ["0000", "0001", "0002", "0003"]  # KerasTuner's ids
    combinations = {(t["values"]["model.layers[0].units"],
                     t["values"]["compile.optimizer.learning_rate"]) for t in trials}
    assert combinations == {(8, 0.1), (8, 1e30), (16, 0.1), (16, 1e30)}
    for trial in trials:
        diverged = trial["values"]["compile.optimizer.learning_rate"] == 1e30
        assert trial["status"] == ("failed" if diverged else "completed")
        assert (trial["score"] is None) == diverged
        if diverged:  # recorded with its reason; the search went on
            assert "the loss became nan" in trial["error"]
            assert json.loads((result.log_dir / trial["run_dir"] / "run.json").read_text())[
                "status"] == "failed"


def test_each_trial_is_a_run_directory_scored_at_its_best_epoch(grid_search):
    result, _, _ = grid_search
    for trial in summary_of(result.log_dir)["trials"]:
        run_dir = result.log_dir / "trials" / trial["id"]
        spec = yaml.safe_load((run_dir / "spec.yaml").read_text())
        assert spec["model"]["layers"][0]["units"] == trial["values"]["model.layers[0].units"]
        assert "search" not in spec
        if trial["status"] == "completed":
            assert (run_dir / "model.keras").is_file()
            assert trial["score"] == pytest.approx(max(history_of(run_dir)["val_accuracy"]))


def test_best_yaml_is_a_concrete_spec_that_trains_to_the_best_score(grid_search, tmp_path):
    result, _, _ = grid_search
    scores = [t.score for t in result.trials if t.score is not None]
    assert result.best_score == max(scores)
    best = yaml.safe_load((result.log_dir / "best.yaml").read_text())
    assert dlkit.load_spec(best) == result.best_spec
    run = dlkit.train(result.log_dir / "best.yaml", logdir=tmp_path, verbose=0)
    assert max(run.history["val_accuracy"]) == pytest.approx(result.best_score, abs=1e-6)


def test_a_line_per_trial_and_a_ranked_table(grid_search):
    _, printed, _ = grid_search
    lines = printed.splitlines()
    trial_lines = [line for line in lines if line.startswith("trial ")]
    assert [line.split("  ")[0] for line in trial_lines] == [
        "trial 0000 [1/4]", "trial 0001 [2/4]", "trial 0002 [3/4]", "trial 0003 [4/4]"]
    assert "units=8  learning_rate=0.1  val_accuracy 0." in trial_lines[0]
    assert "failed: the loss became nan" in trial_lines[1]
    header = lines.index("rank  trial  val_accuracy  units  learning_rate")
    ranks = [line.split()[:2] for line in lines[header + 1: header + 3]]
    assert [r[0] for r in ranks] == ["1", "2"] and {r[1] for r in ranks} == {"0000", "0002"}
    assert "failed (2):" in lines
    assert any(line.startswith("best: trial ") for line in lines)


def test_an_objective_never_logged_stops_before_anything_is_written(tmp_path):
    spec = copy.deepcopy(SEARCH)
    spec["data"]["validation_split"] = None
    with pytest.raises(dlkit.SpecError, match="no validation data") as info:
        dlkit.search(spec, logdir=tmp_path / "logs", verbose=0)
    assert info.value.errors[0].path == "search.objective"
    assert not (tmp_path / "logs").exists()
    spec["model"]["layers"][0]["units"], spec["compile"]["optimizer"]["learning_rate"] = 8, 0.1
    with pytest.raises(dlkit.SpecError, match="nothing to search"):
        dlkit.search(spec, logdir=tmp_path / "logs", verbose=0)


def test_a_bad_combination_fails_its_trial_with_the_reason(tmp_path):
    raw = copy.deepcopy(SEARCH)
    raw["model"] = {"input_shape": [8, 8, 1], "layers": [
        {"type": "Conv2D", "filters": 2, "kernel_size": 5,
         "padding": {"search": "choice", "values": ["valid", "same"]}},
        {"type": "MaxPooling2D", "pool_size": {"search": "choice", "values": [2, 8]}},
        {"type": "Flatten"}, {"type": "Dense", "units": 10, "activation": "softmax"}]}
    search = dlkit.load_search(raw)  # fine at the smallest and at the largest values
    runner = TrialRunner(search, tmp_path)
    with pytest.raises(TrialFailed, match="MaxPooling2D cannot take its input of shape"):
        runner.run("7", {"model.layers[0].padding": "valid", "model.layers[1].pool_size": 8,
                         "compile.optimizer.learning_rate": 0.1})
    status = json.loads((tmp_path / "trials" / "7" / "run.json").read_text())
    assert status["status"] == "failed" and "MaxPooling2D" in status["error"]


def test_a_trial_id_never_names_a_folder_outside_trials(tmp_path):
    runner = TrialRunner(dlkit.load_search(copy.deepcopy(SEARCH)), tmp_path)
    for trial_id in ("../escape", "a/b", ""):
        with pytest.raises(TrialFailed, match="refused trial id"):
            runner.run(trial_id, {})
    assert list(tmp_path.iterdir()) == []


def test_executions_per_trial_train_with_new_seeds_and_score_their_mean(tmp_path):
    spec = copy.deepcopy(SEARCH)
    spec["train"]["epochs"] = 1
    spec["search"]["executions_per_trial"] = 2
    runner = TrialRunner(dlkit.load_search(spec), tmp_path)
    score = runner.run("t", {"model.layers[0].units": 8, "compile.optimizer.learning_rate": 0.1})
    runs = [tmp_path / "trials" / "t" / f"execution-{k}" for k in (1, 2)]
    bests = [max(history_of(run)["val_accuracy"]) for run in runs]
    assert score == pytest.approx(sum(bests) / 2)
    seeds = [yaml.safe_load((run / "spec.yaml").read_text())["seed"] for run in runs]
    assert seeds == [1, 2]


def hyperband_spec():
    spec = copy.deepcopy(SEARCH)
    spec["compile"]["optimizer"]["learning_rate"]["values"] = [0.05, 0.1]
    spec["search"] = {"algorithm": "hyperband", "max_epochs": 2, "factor": 2,
                      "objective": "val_accuracy"}
    return dlkit.load_search(spec)


def test_hyperband_rounds_continue_a_trial_of_the_round_before(tmp_path):
    search = hyperband_spec()
    tuner = SpecTuner(make_oracle(search, {}), None, directory=tmp_path)
    oracle, rounds, values = tuner.oracle, {}, {}
    for score in (0.3, 0.5, 0.9, 0.4, 0.6):  # what each trial would have scored
        trial = oracle.create_trial("tuner0")
        rounds[trial.trial_id] = round_of(trial.hyperparameters.values)
        values[trial.trial_id] = spec_values(search.spaces, trial.hyperparameters.values)
        oracle.update_trial(trial.trial_id, {"val_accuracy": score})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    continued = [(i, r) for i, r in rounds.items() if r.parent is not None]
    assert len(continued) == 1
    child, plan = continued[0]
    assert (plan.initial_epoch, plan.epochs, rounds[plan.parent].epochs) == (1, 2, 1)
    assert plan.parent == "0001"  # the better of the first round's two (0.3, 0.5)
    assert values[child] == values[plan.parent]


def test_a_continued_round_starts_from_its_parents_best_weights(tmp_path):
    search = hyperband_spec()
    runner = TrialRunner(search, tmp_path)
    chosen = {"model.layers[0].units": 16, "compile.optimizer.learning_rate": 0.1}
    runner.run("a", {**chosen, "tuner/epochs": 1, "tuner/initial_epoch": 0})
    assert (tmp_path / "trials" / "a" / "checkpoint.weights.h5").is_file()
    runner.run("b", {**chosen, "tuner/epochs": 2, "tuner/initial_epoch": 1,
                     "tuner/trial_id": "a"})
    parent, child = history_of(tmp_path / "trials" / "a"), history_of(tmp_path / "trials" / "b")
    assert len(child["loss"]) == 1  # only the epoch this round adds
    # Deterministic: started afresh, it would repeat the parent's first epoch exactly.
    assert child["loss"][0] < parent["loss"][0]
    assert yaml.safe_load((tmp_path / "trials" / "b" / "spec.yaml").read_text())["train"][
        "epochs"] == 2


def wait_for(condition, what, timeout=180):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def ended_trials(root):
    found = list(root.glob("tiny-search/*/search.json"))
    return len(json.loads(found[0].read_text())["trials"]) if found else 0


@pytest.mark.slow
def test_resume_after_a_kill_runs_only_the_unfinished_trials(tmp_path):
    spec = copy.deepcopy(SEARCH)
    spec["compile"]["optimizer"]["learning_rate"] = {"search": "float", "min": 0.01,
                                                     "max": 0.2, "log": True}
    spec["train"]["epochs"] = 1
    spec["search"] = {"algorithm": "random", "max_trials": 3, "objective": "val_accuracy"}
    path, root = tmp_path / "search.yaml", tmp_path / "logs"
    path.write_text(yaml.safe_dump(spec))
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    process = subprocess.Popen([sys.executable, "-m", "dlkit", "search", str(path), "--logdir",
                                str(root)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: ended_trials(root) >= 1, "a trial")
    finally:
        process.kill()
        process.wait()
    search_dir = next(root.glob("tiny-search/*"))
    ended = {t["id"]: (search_dir / "trials" / t["id"] / "history.json").stat().st_mtime_ns
             for t in summary_of(search_dir)["trials"]}

    changed = copy.deepcopy(spec)
    changed["model"]["layers"][0]["units"]["max"] = 24
    with pytest.raises(dlkit.RunDirError, match=r"model\.layers\[0\]\.units\.max.*--overwrite"):
        dlkit.search(changed, logdir=root, resume=True, verbose=0)

    result = dlkit.search(path, logdir=root, resume=True, verbose=0)
    assert result.log_dir == search_dir
    assert [t.id for t in result.trials] == ["0", "1", "2"]
    for trial_id, mtime in ended.items():  # not run again
        assert (search_dir / "trials" / trial_id / "history.json").stat().st_mtime_ns == mtime
    assert summary_of(search_dir)["status"] == "finished"

    summary = summary_of(search_dir)
    (search_dir / "search.json").write_text(json.dumps({**summary, "status": "interrupted"}))
    changed["search"]["max_trials"] = 1
    result = dlkit.search(changed, logdir=root, resume=True, overwrite=True, verbose=0)
    assert result.log_dir == search_dir and [t.id for t in result.trials] == ["0"]
    assert not (search_dir / "trials" / "2").exists()
    assert yaml.safe_load((search_dir / "spec.yaml").read_text())["model"]["layers"][0][
        "units"]["max"] == 24
