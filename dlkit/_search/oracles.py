"""The KerasTuner oracle a search's ``algorithm`` names: dlkit writes no optimizer of its own.

``grid`` -> `GridSearchOracle` (every combination; a float space without a step is tried at
10 evenly spread values, as KerasTuner does), ``random`` -> `RandomSearchOracle`, ``bayesian``
-> `BayesianOptimizationOracle` (a Gaussian process, scikit-learn and SciPy), ``hyperband`` ->
`HyperbandOracle` (``max_epochs``, ``factor``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import keras_tuner

from dlkit._search.space import hyperparameters
from dlkit._search.spec import SearchSpec

# KerasTuner stops a search after 3 failed trials in a row by default; a failed trial is only
# that trial's problem here (a problem that dooms every trial is found before the first).
NEVER = 10**9


def make_oracle(search: SearchSpec, fixed: Mapping[str, str]) -> Any:
    """A new oracle for `search`, its space carrying the `fixed` values too."""
    settings = search.settings
    common = {"objective": keras_tuner.Objective(**settings["objective"]),
              "hyperparameters": hyperparameters(search.spaces, fixed),
              "allow_new_entries": False, "tune_new_entries": False, "seed": settings["seed"],
              "max_consecutive_failed_trials": NEVER}
    algorithm = settings["algorithm"]
    oracles = keras_tuner.oracles
    if algorithm == "hyperband":
        oracle = oracles.HyperbandOracle(max_epochs=settings["max_epochs"],
                                         factor=settings["factor"], **common)
    else:
        kind = {"grid": oracles.GridSearchOracle, "random": oracles.RandomSearchOracle,
                "bayesian": oracles.BayesianOptimizationOracle}[algorithm]
        oracle = kind(max_trials=settings["max_trials"], **common)
    oracle.verbose = 0  # dlkit prints its own line per trial
    return oracle


def trial_count(search: SearchSpec, oracle: Any) -> int | None:
    """How many trials the search runs: ``max_trials``, at most the grid's size; None for
    hyperband, whose count depends on its rounds."""
    settings = search.settings
    if settings["algorithm"] == "hyperband":
        return None
    if settings["algorithm"] != "grid":
        return settings["max_trials"]
    size = math.prod(len(list(hp.values)) for hp in oracle.hyperparameters.space
                     if hp.name in {space.path for space in search.spaces})
    return min(size, settings["max_trials"] or size)
