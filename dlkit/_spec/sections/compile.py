"""The ``compile`` section: optimizer, loss and metrics."""

from __future__ import annotations

from dlkit._core.errors import Problems
from dlkit._spec.rules import check_component, check_keys, key_path, mapping_or_none

COMPILE_KEYS = ("optimizer", "loss", "metrics")


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
    else:
        check_component(section["loss"], "compile.loss", problems, what="loss")
    check_component(section["optimizer"], "compile.optimizer", problems, what="optimizer")
    metrics = section["metrics"]
    if not isinstance(metrics, list):
        problems.add("compile.metrics", f"expected a list, like [accuracy]; received {metrics!r}")
    else:
        for index, metric in enumerate(metrics):
            check_component(metric, key_path("compile.metrics", index), problems, what="metric")
    return section
