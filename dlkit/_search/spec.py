"""`load_search`: a spec with search spaces, checked at the extremes of every space.

Every problem is reported at once, as `dlkit.load_spec` does: the spaces themselves (pass 1,
`dlkit._spec.spaces`), then the whole spec with every space at its smallest value, at its
largest, and with each other value of each choice, so that a shape error, an unknown name or a
bad combination shows before any trial runs. The objective must be a metric the trials log.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from keras_tuner.engine.metrics_tracking import infer_metric_direction

from dlkit._core.errors import Problem, Problems, SpecError, did_you_mean
from dlkit._plan.callbacks import logged_metrics
from dlkit._plan.load import in_spec_order, load_spec
from dlkit._plan.parts import freeze, make
from dlkit._spec.sections.search import check_search
from dlkit._spec.spaces import Space, find_spaces, flow, with_values
from dlkit._spec.spec import Spec, plan_of, raw_spec


@dataclass(frozen=True)
class SearchSpec:
    """A validated spec whose values may be search spaces.

    Attributes:
        name: the run name.
        spaces: every search space, in spec order.
        settings: the ``search`` section with defaults filled in; ``objective`` is
            ``{"name", "direction"}`` and hyperband's ``max_epochs`` is set.
        smallest, largest: the spec with every space at its smallest and at its largest value
            (validated `Spec`s; a choice's first and last value).
        raw: the spec as written, spaces kept, with its name and ``--set`` values applied.
    """

    name: str
    spaces: tuple[Space, ...]
    settings: Mapping[str, Any]
    smallest: Spec
    largest: Spec
    raw: Mapping[str, Any] = field(repr=False)

    def concrete(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The spec with `values` (spec path -> value) in its spaces, as plain data without
        the ``search`` section: a spec `dlkit train` runs as it is."""
        result = with_values(self.written(), self.spaces, values)
        result.pop("search", None)
        return result

    def written(self) -> dict[str, Any]:
        """The spec as written (spaces kept), as plain data."""
        return make(self.raw)  # plain data again: lists and dicts

    def digest(self) -> str:
        """A short fingerprint of the spec as written: equal specs, equal digests."""
        text = json.dumps(self.written(), sort_keys=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_search(source: str | os.PathLike[str] | Mapping[str, Any] | Spec | SearchSpec, *,
                overrides: list[str] | None = None) -> SearchSpec:
    """Reads and validates a spec with search spaces.

    Args:
        source: a `.yaml`/`.yml`/`.json` path, a dict, a `Spec` or a `SearchSpec`.
        overrides: ``KEY=VALUE`` settings applied first, as ``--set`` takes them.

    Returns:
        A `SearchSpec` (one without spaces is valid: it is then one concrete spec).

    Raises:
        SpecError: listing every problem: malformed spaces, problems of the spec at any
            extreme of its spaces, an objective that will never be logged.

    Example:
        >>> search = dlkit.load_search("examples/digits_search.yaml")
        >>> [space.path for space in search.spaces]
    """
    if isinstance(source, SearchSpec):
        if not overrides:
            return source
        source = source.written()
    raw, default_name = raw_spec(source, overrides)
    raw = {"name": default_name, **raw} if "name" not in raw else raw
    problems = Problems()
    spaces = find_spaces(raw, problems).spaces
    smallest, largest = _at_extremes(raw, spaces, problems)
    searched = bool(spaces) or "search" in raw
    settings = _settings(smallest, spaces, problems) if smallest and searched else {}
    if problems.items or smallest is None or largest is None:
        raise SpecError(in_spec_order(problems.items))
    return SearchSpec(name=smallest.name, spaces=spaces, settings=MappingProxyType(settings),
                      smallest=smallest, largest=largest, raw=freeze(raw))


def _at_extremes(raw: dict, spaces: tuple[Space, ...],
                 problems: Problems) -> tuple[Spec | None, Spec | None]:
    """Validates the spec at the smallest values, the largest, and each choice's other values;
    returns the first two (None where invalid), recording every problem."""
    smallest = {s.path: s.smallest() for s in spaces}
    configurations = [("", smallest)]
    if spaces:
        configurations.append(("at the largest values", {s.path: s.largest() for s in spaces}))
    for space in spaces:
        for index, value in enumerate(space.values[1:-1], start=1):
            configurations.append((f"{space.path}[{index}]", {**smallest, space.path: value}))
    specs: list[Spec | None] = []
    seen = set(problems.items)
    for label, values in configurations:
        try:
            specs.append(load_spec(with_values(raw, spaces, values)))
        except SpecError as exc:
            specs.append(None)
            for problem in exc.errors:
                if problem not in seen:
                    seen.add(problem)
                    problems.items.append(_in_context(problem, label, spaces, values))
    return specs[0], specs[-1]


def _in_context(problem: Problem, label: str, spaces: tuple[Space, ...],
                values: Mapping[str, Any]) -> Problem:
    """Says which values a problem appeared with; a choice's bad value gets its own path."""
    choices = {s.path: s for s in spaces if s.kind == "choice"}
    if problem.path in choices:
        index = list(choices[problem.path].values).index(values[problem.path])
        return Problem(f"{problem.path}.values[{index}]", problem.message)
    if not label:
        return problem
    if label.endswith("]"):  # one value of one choice
        path = label.rpartition("[")[0]
        return Problem(problem.path, f"with {path} = {flow(values[path])}: {problem.message}")
    shown = ", ".join(f"{s.path}={flow(values[s.path])}" for s in spaces)
    return Problem(problem.path, f"{label} ({shown}): {problem.message}")


def _settings(spec: Spec, spaces: tuple[Space, ...], problems: Problems) -> dict[str, Any]:
    """The search section with its defaults, the objective checked against what trials log."""
    data = spec.to_dict()
    settings = data.get("search") or check_search({}, problems)
    if settings["seed"] is None:
        settings["seed"] = data["seed"]
    settings["objective"] = _objective(settings["objective"], spec, problems)
    if settings["algorithm"] == "hyperband":
        settings["max_epochs"] = settings.get("max_epochs") or data["train"]["epochs"]
        if any(s.path == "train.epochs" for s in spaces):
            problems.add("train.epochs", "hyperband chooses each trial's epochs itself (up to "
                         "search.max_epochs): give train.epochs one value")
    if data["runtime"]["strategy"] == "multi_worker":
        problems.add("runtime.strategy", "a search trains each trial on one machine; run trials "
                     "in parallel with --workers, or on several machines as README describes")
    return settings


def _objective(objective: Any, spec: Spec, problems: Problems) -> dict[str, Any]:
    """``{"name", "direction"}``: the name must be logged by every trial."""
    name, direction = (objective, None) if isinstance(objective, str) else \
        (objective.get("name"), objective.get("direction"))
    plan = plan_of(spec)
    logged = logged_metrics(plan.compile.metric_names, plan.callbacks, has_validation=True)
    path = "search.objective" if isinstance(objective, str) else "search.objective.name"
    if name not in logged:
        problems.add(path, f"{name!r} will never be logged, so no trial could be scored"
                     f"{did_you_mean(name, logged)}; trials log: {', '.join(logged)}")
    elif direction is None:
        direction = infer_metric_direction(name)
        if direction is None:
            problems.add(path, f"cannot tell whether {name!r} is better high or low: write "
                         f"objective: {{name: {name}, direction: max}} (or min)")
    return {"name": name, "direction": direction}
