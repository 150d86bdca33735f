"""The ``compile`` section: optimizer, loss and metrics, and for a model of several named
outputs a loss, metrics and a loss weight per output (``loss: {label: ..., score: ...}``)."""

from __future__ import annotations

from dlkit._core.errors import Problems
from dlkit._spec.rules import check_component, check_keys, is_number, key_path, mapping_or_none

COMPILE_KEYS = ("optimizer", "loss", "metrics", "loss_weights")


def per_output(value: object) -> bool:
    """Whether a loss (or metrics) setting is keyed by output name: a mapping that is not
    one component ``{type: Name, ...}``."""
    return isinstance(value, dict) and "type" not in value


def check_compile(value: object, problems: Problems) -> object:
    if value is None:
        problems.add("compile", "missing: a spec needs a compile section with at least a loss")
        return None
    section = mapping_or_none(value, "compile", problems)
    if section is None:
        return value
    check_keys(section, COMPILE_KEYS, "compile", problems)
    section = {"optimizer": "adam", "metrics": [], **section}
    if "loss" not in section:
        problems.add("compile.loss", "missing: name a loss, like mse or "
                     "sparse_categorical_crossentropy")
    elif per_output(section["loss"]):
        if not section["loss"]:
            problems.add("compile.loss", "name a loss per output, like {label: "
                         "sparse_categorical_crossentropy, score: mse}")
        for output, loss in section["loss"].items():
            check_component(loss, key_path("compile.loss", str(output)), problems, what="loss")
    else:
        check_component(section["loss"], "compile.loss", problems, what="loss")
    check_component(section["optimizer"], "compile.optimizer", problems, what="optimizer")
    metrics = section["metrics"]
    if isinstance(metrics, dict):
        for output, listed in metrics.items():
            _metric_list(listed, key_path("compile.metrics", str(output)), problems)
    else:
        _metric_list(metrics, "compile.metrics", problems)
    weights = section.get("loss_weights")
    if weights is not None and mapping_or_none(weights, "compile.loss_weights", problems):
        for output, weight in weights.items():
            if not (is_number(weight) and weight >= 0):
                problems.add(key_path("compile.loss_weights", str(output)), "expected a number "
                             f">= 0, received {weight!r}")
    return section


def _metric_list(metrics: object, path: str, problems: Problems) -> None:
    if not isinstance(metrics, list):
        problems.add(path, f"expected a list, like [accuracy]; received {metrics!r}")
        return
    for index, metric in enumerate(metrics):
        check_component(metric, key_path(path, index), problems, what="metric")
