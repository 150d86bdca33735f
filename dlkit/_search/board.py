"""One TensorBoard HPARAMS view of a whole search.

At the search directory's top, an experiment (`tensorboard.plugins.hparams.api`) names the
searched values (by spec path, with their domains) and the metrics: ``score`` (the trial's
objective at its best epoch, written at the top of each trial's run directory) and the
objective's epoch curve. Each trial's run directory is a session with the spec as hparams (as
every dlkit run has), plus the searched values as shown here, so the table and the parallel
coordinates view line up one row per trial. Open it with ``tensorboard --logdir <search dir>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tensorflow as tf

from dlkit._search.space import board_value, choice_values
from dlkit._search.spec import SearchSpec
from dlkit._spec.spaces import Space

SCORE_TAG = "score"
EPOCHS_PATH = "train.epochs"  # hyperband sets each trial's epochs


def write_experiment(search_dir: Path, search: SearchSpec) -> None:
    """Writes the experiment: which hparams and metrics the HPARAMS view shows."""
    from tensorboard.plugins.hparams import api as hp

    hparams = [hp.HParam(space.path, _domain(space, hp)) for space in search.spaces]
    if search.settings["algorithm"] == "hyperband":
        hparams.append(hp.HParam(EPOCHS_PATH, hp.IntInterval(1, search.settings["max_epochs"])))
    name = search.settings["objective"]["name"]
    group, tag = ("validation", name[4:]) if name.startswith("val_") else ("train", name)
    metrics = [hp.Metric(SCORE_TAG, display_name=f"score ({name}, best epoch)"),
               hp.Metric(f"epoch_{tag}", group=group, display_name=f"{name} (last epoch)")]
    with tf.summary.create_file_writer(str(search_dir)).as_default() as writer:
        hp.hparams_config(hparams=hparams, metrics=metrics)
        writer.flush()
    writer.close()


def _domain(space: Space, hp: Any) -> Any:
    if space.kind == "int":
        return hp.IntInterval(int(space.low), int(space.high))
    if space.kind == "float":
        return hp.RealInterval(float(space.low), float(space.high))
    if space.kind == "bool":
        return hp.Discrete([False, True])
    return hp.Discrete(choice_values(space))


def session_values(search: SearchSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """A trial's searched values as its TensorBoard session shows them."""
    by_path = {space.path: space for space in search.spaces}
    return {path: board_value(by_path[path], value) for path, value in values.items()}


def write_score(run_dir: Path, score: float, *, step: int) -> None:
    """Writes a trial's score at the top of its run directory, for the HPARAMS view."""
    writer = tf.summary.create_file_writer(str(run_dir))
    with writer.as_default():
        tf.summary.scalar(SCORE_TAG, score, step=step)
        writer.flush()
    writer.close()
