"""The ``search`` section: how `dlkit search` tries the values of a spec's search spaces."""

from __future__ import annotations

from dlkit._core.errors import Problems, did_you_mean
from dlkit._spec.rules import check_keys, is_int, is_number, mapping_or_none

ALGORITHMS = ("grid", "random", "bayesian", "hyperband")
SEARCH_KEYS = ("algorithm", "max_trials", "objective", "seed", "executions_per_trial",
               "max_epochs", "factor", "worker_timeout")
HYPERBAND_KEYS = ("max_epochs", "factor")
DIRECTIONS = ("min", "max")
DEFAULT_TRIALS = 10  # random and bayesian; grid tries the whole grid unless told
# Seconds a distributed search waits for word from a worker before its trial counts as lost.
WORKER_TIMEOUT = 60


def check_search(value: object, problems: Problems) -> dict | None:
    if value is None:
        return None
    section = mapping_or_none(value, "search", problems)
    if section is None:
        return value  # type: ignore[return-value]
    check_keys(section, SEARCH_KEYS, "search", problems)
    algorithm = section.get("algorithm", "random")
    if algorithm not in ALGORITHMS:
        problems.add("search.algorithm", f"expected one of {', '.join(ALGORITHMS)}; received "
                     f"{algorithm!r}{did_you_mean(algorithm, ALGORITHMS)}")
    hyperband = algorithm == "hyperband"
    section = {"algorithm": algorithm, "objective": "val_loss", "seed": None,
               "executions_per_trial": 1, "worker_timeout": WORKER_TIMEOUT,
               **({"max_epochs": None, "factor": 3} if hyperband else
                  {"max_trials": None if algorithm == "grid" else DEFAULT_TRIALS}),
               **section}
    _check_counts(section, hyperband, problems)
    _check_objective(section["objective"], problems)
    seed = section["seed"]
    if seed is not None and not (is_int(seed) and 0 <= seed < 2**32):
        problems.add("search.seed", f"expected an integer in [0, 2**32) or null, received {seed!r}")
    timeout = section["worker_timeout"]
    if not (is_number(timeout) and 0 < timeout <= 86400):
        problems.add("search.worker_timeout", "expected seconds, more than 0 and at most 86400, "
                     f"received {timeout!r}")
    return section


def _check_counts(section: dict, hyperband: bool, problems: Problems) -> None:
    """Trial counts, and the settings that belong to hyperband only (or never to it)."""
    if hyperband and "max_trials" in section:
        problems.add("search.max_trials", "hyperband decides how many trials to run from "
                     "max_epochs and factor; remove max_trials")
    for key in HYPERBAND_KEYS:
        if key in section and not hyperband:
            problems.add(f"search.{key}", f"{key} is a setting of algorithm hyperband, not "
                         f"{section['algorithm']}")
    least_of = {"max_trials": 1, "executions_per_trial": 1, "max_epochs": 1, "factor": 2}
    for key, least in least_of.items():
        value = section.get(key)
        if value is None and key in ("max_trials", "max_epochs"):
            continue  # grid: the whole grid; hyperband: train.epochs
        if key in section and not (is_int(value) and least <= value <= 10**6):
            problems.add(f"search.{key}", f"expected an integer >= {least}, received {value!r}")


def _check_objective(objective: object, problems: Problems) -> None:
    """A metric name (its direction inferred), or ``{name, direction: min | max}``."""
    if isinstance(objective, str) and objective:
        return
    if isinstance(objective, dict):
        check_keys(objective, ("name", "direction"), "search.objective", problems)
        if not isinstance(objective.get("name"), str) or not objective.get("name"):
            problems.add("search.objective.name", "name the metric to optimize, like "
                         "val_accuracy")
        direction = objective.get("direction")
        if direction is not None and direction not in DIRECTIONS:
            problems.add("search.objective.direction", f"expected min or max, received "
                         f"{direction!r}")
        return
    problems.add("search.objective", "expected a metric name (like val_accuracy) or {name, "
                 f"direction: min | max}}, received {objective!r}")
