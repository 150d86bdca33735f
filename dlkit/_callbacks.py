"""The Keras callbacks a spec's ``callbacks`` section asks for."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from dlkit._errors import did_you_mean
from dlkit._resolve import accepted_arguments
from dlkit._schema import Problems
from dlkit._spec import Spec, load_spec

# Settings dlkit owns: where logs go is the run directory's business.
OWNED = {"tensorboard": ("log_dir",), "early_stopping": ()}
CLASSES = {"early_stopping": "EarlyStopping", "tensorboard": "TensorBoard"}


def check_callbacks(spec: dict, problems: Problems) -> None:
    """Checks each callback's settings against the Keras class that receives them."""
    section = spec.get("callbacks")
    if not isinstance(section, dict):
        return
    for key, class_name in CLASSES.items():
        settings = section.get(key)
        if not isinstance(settings, dict):
            continue
        accepted = [a for a in accepted_arguments(getattr(keras.callbacks, class_name))
                    if a not in OWNED[key]]
        for name in settings:
            if name in OWNED[key]:
                problems.add(f"callbacks.{key}.{name}", f"set by dlkit (logs go to the run "
                             "directory); choose the log root with --logdir or DLKIT_LOGDIR")
            elif name not in accepted:
                problems.add(f"callbacks.{key}.{name}", f"unknown setting '{name}' for "
                             f"keras.callbacks.{class_name}{did_you_mean(name, accepted)}")


def callbacks(spec: Spec | Mapping[str, Any] | str | os.PathLike[str], *,
              log_dir: str | os.PathLike[str] | None = None) -> list[keras.callbacks.Callback]:
    """The Keras callbacks a spec asks for, ready for ``model.fit(..., callbacks=...)``.

    Args:
        spec: a `Spec`, or anything `dlkit.load_spec` takes.
        log_dir: where TensorBoard writes; by default a new run directory under the log root
            (``logs/`` or ``$DLKIT_LOGDIR``), ``<root>/<name>/<YYYYmmdd-HHMMSS>``.

    Returns:
        New callback objects: `EarlyStopping` (``restore_best_weights`` true unless the spec
        says otherwise) and `TensorBoard`, each if the spec turns it on.
    """
    section = load_spec(spec).to_dict()["callbacks"]
    made: list[keras.callbacks.Callback] = []
    if isinstance(section["early_stopping"], dict):
        settings = {"restore_best_weights": True, **section["early_stopping"]}
        made.append(keras.callbacks.EarlyStopping(**settings))
    if isinstance(section["tensorboard"], dict):
        if log_dir is None:
            from dlkit._rundir import log_root, new_run_path
            log_dir = new_run_path(log_root(), load_spec(spec).name)
        made.append(keras.callbacks.TensorBoard(log_dir=str(Path(log_dir)),
                                                **section["tensorboard"]))
    return made
