"""``--resume``: which run continues, and whether its backup can be read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import yaml

from dlkit._callbacks.backup import backup_weights
from dlkit._core.errors import RunDirError, first_line
from dlkit._train.rundir import read_status, run_name_dir


def unfinished_run(root: Path, name: str, settings: dict[str, Any]) -> Path:
    """The newest run of `name` not marked finished, which must have started with `settings`.

    Raises:
        RunDirError: there is none, or it started with another spec.
    """
    base = run_name_dir(root, name)
    for run_dir in sorted(base.glob("*/"), reverse=True) if base.is_dir() else []:
        if read_status(run_dir).get("status") == "finished":
            continue
        saved = run_dir / "spec.yaml"
        if saved.is_file() and yaml.safe_load(saved.read_text()) != settings:
            raise RunDirError(f"--resume: the spec differs from the one {run_dir} started with; "
                              "resume with the same spec and --set values")
        return run_dir
    raise RunDirError(f"--resume: no unfinished run of {name!r} under {base}; start a new run "
                      "without --resume")


def check_backup(backup: Path, model: keras.Model) -> None:
    """Refuses a corrupt backup before --resume touches anything; deletes nothing.

    Raises:
        RunDirError: the backup's weights cannot be read into `model`.
    """
    weights = backup_weights(backup)
    if weights is None:
        return
    try:
        model.load_weights(weights)
    except Exception as exc:  # noqa: BLE001 - any failure to read it means the same to a user
        raise RunDirError(f"--resume: the backup {weights} cannot be read "
                          f"({type(exc).__name__}: {first_line(exc)[:200]}); nothing was changed "
                          "or deleted. Move the backup folder away to restart that run from its "
                          "beginning, or train without --resume") from None
