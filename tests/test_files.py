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



def test_a_written_file_gets_the_mode_a_plain_write_gives(tmp_path):
    """Not tempfile's private 0600: a TensorBoard or a server run by another user reads runs."""
    import os

    old = os.umask(0o022)
    try:
        plain = tmp_path / "plain.json"
        plain.write_text("{}")
        write_json_atomic(tmp_path / "run.json", {})
    finally:
        os.umask(old)
    mode = (tmp_path / "run.json").stat().st_mode & 0o777
    assert mode == plain.stat().st_mode & 0o777 == 0o644
