"""The run directory: where it goes, and its state in ``run.json``."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from dlkit._core.errors import RunDirError, SpecError, Problem
from dlkit._core.files import read_json, write_json_atomic

LOGDIR_VARIABLE = "DLKIT_LOGDIR"
STATUS_FILE = "run.json"
INITIAL_WEIGHTS = "initial.weights.h5"  # the weights before the first step (landscapes)


def log_root(logdir: str | os.PathLike[str] | None = None) -> Path:
    """The log root: `logdir`, else ``$DLKIT_LOGDIR``, else ``logs``."""
    return Path(logdir or os.environ.get(LOGDIR_VARIABLE) or "logs")


def new_run_path(root: Path, name: str) -> Path:
    """``<root>/<name>/<YYYYmmdd-HHMMSS>`` (with ``-2``, ``-3``... if taken); not yet created.

    Raises:
        SpecError: the run name would put the run outside the log root.
    """
    base = run_name_dir(root, name)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, count = base / stamp, 1
    while path.exists():
        count += 1
        path = base / f"{stamp}-{count}"
    return path


def run_name_dir(root: Path, name: str) -> Path:
    """``<root>/<name>``, refusing any name that resolves outside the root (``..``, symlinks).

    Raises:
        SpecError: at ``name``, the spec's run name being what is wrong.
    """
    candidate = root / name
    inside = Path(os.path.realpath(root))
    resolved = Path(os.path.realpath(candidate))
    if not name or Path(name).is_absolute() or inside not in (resolved, *resolved.parents) \
            or resolved == inside:
        raise SpecError(Problem("name", f"run name {name!r} would write outside the log root "
                                f"{root}; use letters, digits, '.', '_' and '-' only"))
    return candidate


def create_run_dir(root: Path, name: str) -> Path:
    """Creates and returns a new, empty run directory.

    Raises:
        RunDirError: the log root cannot be written.
    """
    for _ in range(100):
        path = new_run_path(root, name)
        try:
            path.mkdir(parents=True)
        except FileExistsError:  # another run took this second; try the next name
            continue
        except OSError as exc:
            raise RunDirError(f"cannot create a run directory under {root} "
                              f"({exc.strerror or exc}); choose a writable log root with "
                              "--logdir or DLKIT_LOGDIR") from None
        return path
    raise RunDirError(f"could not create a new run directory under {root / name}: 100 names "
                      "were taken within one second")


def read_status(run_dir: Path) -> dict[str, Any]:
    """The run's ``run.json`` (empty if not written yet)."""
    return read_json(run_dir / STATUS_FILE, {})


def mark(run_dir: Path, status: str, **details: Any) -> None:
    """Records the run's state in ``run.json``: running, finished, failed or interrupted."""
    current = read_status(run_dir)
    current.update(details, status=status, updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    write_json_atomic(run_dir / STATUS_FILE, current)
