"""`--resume`: the newest unfinished run continues where its backup left it."""

import json

import keras
import pytest

import dlkit


class Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt


def test_resume_continues_the_interrupted_run(mlp, log_root):
    mlp["train"]["epochs"] = 4
    with pytest.raises(KeyboardInterrupt):
        dlkit.train(mlp, callbacks=[Interrupt(at_epoch=1)], verbose=0)
    [run_dir] = (log_root / "tiny-mlp").iterdir()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    assert len(json.loads((run_dir / "history.json").read_text())["metrics"]["loss"]) == 2
    assert (run_dir / "initial.weights.h5").is_file()
    (run_dir / "initial.weights.h5").write_bytes(b"the first start's")  # to see it kept

    run = dlkit.train(mlp, resume=True, verbose=0)
    assert run.log_dir == run_dir
    assert (run_dir / "initial.weights.h5").read_bytes() == b"the first start's"
    assert len(run.history["loss"]) == 4  # every epoch exactly once
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
    with pytest.raises(dlkit.RunDirError, match="no unfinished run of 'tiny-mlp'"):
        dlkit.train(mlp, resume=True, verbose=0)


def test_resume_refuses_a_changed_spec(mlp, log_root):
    with pytest.raises(KeyboardInterrupt):
        dlkit.train(mlp, callbacks=[Interrupt(at_epoch=0)], verbose=0)
    mlp["model"]["layers"][0]["units"] = 32
    with pytest.raises(dlkit.RunDirError, match="differs from the one"):
        dlkit.train(mlp, resume=True, verbose=0)



def test_a_corrupt_backup_on_resume_is_refused_and_nothing_is_deleted(mlp, log_root):
    mlp["callbacks"] = {"backup": {"min_interval": 0}}  # a backup at every epoch's end
    with pytest.raises(KeyboardInterrupt):
        dlkit.train(mlp, callbacks=[Interrupt(at_epoch=0)], verbose=0)
    [run_dir] = (log_root / "tiny-mlp").iterdir()
    weights = run_dir / "backup" / "epoch-000001.weights.h5"
    weights.write_bytes(b"garbage")
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    with pytest.raises(dlkit.RunDirError, match=r"--resume: the backup .*epoch-000001.weights.h5 "
                       r"cannot be read .*nothing was changed or deleted"):
        dlkit.train(mlp, resume=True, verbose=0)
    after = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    assert after == before

