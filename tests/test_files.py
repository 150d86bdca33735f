"""Atomic writes: a reader sees the old file or the whole new one, never a torn one."""

import json

import pytest

from dlkit._core.files import write_atomic, write_json_atomic


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "history.json"
    write_json_atomic(target, {"metrics": {"loss": [1.0]}})

    def half_then_die(tmp):
        tmp.write_text('{"metrics": {"loss": [1.0, 0.')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, half_then_die)
    assert json.loads(target.read_text()) == {"metrics": {"loss": [1.0]}}
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]


def test_a_first_write_that_dies_leaves_nothing(tmp_path):
    def die(tmp):
        tmp.write_bytes(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_atomic(tmp_path / "model.keras", die)
    assert list(tmp_path.iterdir()) == []

