"""The run's backup: crash-safe saves, and saving that never costs more than 5% of the time."""

from pathlib import Path

import pytest

from conftest import tiny_model
from dlkit._callbacks.backup import Backup, backup_epoch, backup_weights


class Clock:
    """A clock the test moves by hand: timing without sleeps or margins."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_backup_saves_at_most_once_per_interval(tmp_path):
    model = tiny_model()
    saves = []
    for interval, expected in ((0, [1, 2, 3]), (3600, [])):
        backup = Backup(str(tmp_path / f"b{interval}"), min_interval=interval)
        backup.clock = clock = Clock()
        backup.set_model(model)
        backup.on_train_begin()  # the interval counts from here: a crash loses less than it
        backup.save_backup = lambda b=backup: saves.append(b.epochs_done)
        for epoch in range(3):
            clock.now += 60.0
            backup.on_epoch_end(epoch)
        assert saves == expected
        saves.clear()


def test_backup_spends_at_most_a_twentieth_of_the_time_saving(tmp_path):
    backup = Backup(str(tmp_path / "b"), min_interval=0.01)
    backup.clock = clock = Clock()
    backup.set_model(tiny_model())
    saves = []

    def slow_save():  # a save that takes 0.05 s: the next may come 20 x 0.05 = 1 s later
        saves.append(backup.epochs_done)
        clock.now += 0.05

    backup.save_backup = slow_save
    for epoch in range(4):
        clock.now += 0.02
        backup.on_epoch_end(epoch)
    assert saves == [1]
    clock.now += 0.93  # 0.99 s after the first save ended: not yet
    backup.on_epoch_end(4)
    assert saves == [1]
    clock.now += 0.01
    backup.on_epoch_end(5)
    assert saves == [1, 6]


def test_a_backup_killed_mid_save_still_restores_a_matching_epoch(tmp_path):
    """The save commits by renaming the metadata: weights and epoch always belong together."""
    model = tiny_model()
    backup = Backup(str(tmp_path), min_interval=0)
    backup.set_model(model)
    model.layers[0].kernel.assign([[1.0]])
    backup.on_epoch_end(0)
    original_save_weights = model.save_weights

    def die_halfway(path, overwrite=True):
        Path(path).write_bytes(b"\x89HDF half")
        raise KeyboardInterrupt

    model.save_weights = die_halfway
    model.layers[0].kernel.assign([[2.0]])
    with pytest.raises(KeyboardInterrupt):
        backup.on_epoch_end(1)
    model.save_weights = original_save_weights
    assert backup_epoch(tmp_path) == 1
    assert [p.name for p in tmp_path.glob("*.weights.h5")] == ["epoch-000001.weights.h5"]
    restored = tiny_model()
    restored.load_weights(backup_weights(tmp_path))
    assert float(restored.layers[0].kernel.numpy()[0, 0]) == 1.0

