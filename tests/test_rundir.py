"""The run directory: where it goes, names that cannot leave the log root, and run.json."""

import json

import pytest

import dlkit
from dlkit._train import rundir as _rundir


def test_status_marks_merge_details(tmp_path):
    _rundir.mark(tmp_path, "running", strategy="x")
    _rundir.mark(tmp_path, "finished", epochs_run=3)
    status = json.loads((tmp_path / "run.json").read_text())
    assert status["status"] == "finished" and status["strategy"] == "x"
    assert status["epochs_run"] == 3


def test_run_names_cannot_leave_the_log_root(tmp_path, log_root):
    log_root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (log_root / "link").symlink_to(outside)
    for name in ("..", "../x", "/etc", "link", "a/../../x"):
        with pytest.raises(dlkit.SpecError, match="outside the log root"):
            _rundir.run_name_dir(log_root, name)
    assert _rundir.run_name_dir(log_root, "fine-name") == log_root / "fine-name"


def test_an_unwritable_log_root_is_a_clear_error(mlp, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(dlkit.RunDirError, match="cannot create a run directory under .*a-file"):
        dlkit.train(mlp, logdir=blocker / "logs", verbose=0)
    assert blocker.read_text() == "not a folder"

