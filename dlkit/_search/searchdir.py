"""The search directory ``<root>/<name>/<YYYYmmdd-HHMMSS>/``: made, found again, compared.

It holds ``spec.yaml`` (the spec as written, spaces kept), ``search.json``, ``best.yaml``,
``trials/<id>/`` and KerasTuner's state in ``tuner/``. A search directory is told from a
training run of the same name by its ``search.json``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from dlkit._core.errors import RunDirError
from dlkit._core.files import read_json, write_text_atomic
from dlkit._search.report import SUMMARY_FILE
from dlkit._search.spec import SearchSpec
from dlkit._spec.rules import key_path
from dlkit._train import rundir

SPEC_FILE = "spec.yaml"
BEST_FILE = "best.yaml"


def prepare(root: Path, search: SearchSpec, *, resume: bool,
            overwrite: bool) -> tuple[Path, bool]:
    """The search directory and whether it resumes: a new directory, or with `resume` the
    newest unfinished search of this name (started over when its spec changed and
    `overwrite` says so).

    Raises:
        RunDirError: nothing to resume, a changed spec without `overwrite`, `overwrite`
            without `resume`, or an unwritable log root.
    """
    if overwrite and not resume:
        raise RunDirError("--overwrite goes with --resume: it lets a changed spec start the "
                          "search being resumed over (its trials are deleted)")
    if not resume:
        search_dir = rundir.create_run_dir(root, search.name)
        write_spec(search_dir, search)
        return search_dir, False
    found = unfinished_search(root, search.name)
    saved = yaml.safe_load((found / SPEC_FILE).read_text()) if (found / SPEC_FILE).is_file() \
        else None
    changed = differences(saved, search.written())
    if not changed:
        return found, True
    if not overwrite:
        raise RunDirError(f"--resume: the spec changed since {found} started (at "
                          f"{', '.join(changed[:5])}{', ...' if len(changed) > 5 else ''}); "
                          "resume with the same spec and --set values, or add --overwrite to "
                          "delete its trials and start that search over")
    for child in found.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    write_spec(found, search)
    return found, False


def unfinished_search(root: Path, name: str) -> Path:
    """The newest search of `name` under `root` that did not finish.

    Raises:
        RunDirError: there is none.
    """
    base = rundir.run_name_dir(root, name)
    for candidate in sorted(base.glob("*/"), reverse=True) if base.is_dir() else []:
        summary = read_json(candidate / SUMMARY_FILE)
        if summary is not None and summary.get("status") != "finished":
            return candidate
    raise RunDirError(f"--resume: no unfinished search of {name!r} under {base}; start a new "
                      "search without --resume")


def differences(old: Any, new: Any, path: str = "") -> list[str]:
    """The spec paths where two plain specs differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in [*old, *(k for k in new if k not in old)]:
            found += differences(old.get(key), new.get(key), key_path(path, str(key)))
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [p for i, (a, b) in enumerate(zip(old, new))
                for p in differences(a, b, key_path(path, i))]
    return [] if old == new else [path or "the whole spec"]


def write_spec(search_dir: Path, search: SearchSpec) -> None:
    write_text_atomic(search_dir / SPEC_FILE, yaml.safe_dump(search.written(), sort_keys=False))


def write_best(search_dir: Path, spec: dict[str, Any]) -> Path:
    """Writes ``best.yaml``, the best trial's concrete spec; returns its path."""
    path = search_dir / BEST_FILE
    write_text_atomic(path, yaml.safe_dump(spec, sort_keys=False))
    return path
