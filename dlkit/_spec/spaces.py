"""Search spaces in a spec (pass 1): found, checked, and replaced by concrete values.

Any value in a spec may be a space, a mapping with a ``search`` key::

    units: {search: int, min: 32, max: 256, step: 32}        # step multiplies when log: true
    learning_rate: {search: float, min: 1.0e-4, max: 1.0e-2, log: true}
    activation: {search: choice, values: [relu, tanh]}
    use_bias: {search: bool}

`find_spaces` collects every space with its spec path (``model.layers[0].units``) and returns
the spec with each space replaced by a stand-in (its smallest value), so that the rest of
validation runs on concrete values and still reports every other problem. `with_values` puts
chosen values in their places. Nothing here imports Keras.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dlkit._core.errors import Problems, did_you_mean
from dlkit._spec.rules import check_keys, is_int, is_number, key_path, type_name

SPACE_KEY = "search"
KINDS = ("int", "float", "choice", "bool")
KEYS = {"int": ("min", "max", "step", "log"), "float": ("min", "max", "step", "log"),
        "choice": ("values",), "bool": ()}
# Top-level keys whose values are never searched: the run name and the search section.
NOT_SEARCHED = ("name", "search")


@dataclass(frozen=True)
class Space:
    """One search space of a spec.

    Attributes:
        path: where it is, like ``model.layers[0].units``.
        steps: the same place as keys and list indices, ``("model", "layers", 0, "units")``.
        kind: ``int``, ``float``, ``choice`` or ``bool``.
        low, high: the bounds of an int or float space.
        step: an int or float space's step (None: any value); a multiplier when `log`.
        log: sample on a log scale.
        values: a choice's values, in order.
    """

    path: str
    steps: tuple[str | int, ...]
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    step: float | int | None = None
    log: bool = False
    values: tuple[Any, ...] = field(default=())

    def smallest(self) -> Any:
        """The lowest value (a choice's first, false for a bool)."""
        if self.kind == "choice":
            return copy.deepcopy(self.values[0])
        return False if self.kind == "bool" else self.low

    def largest(self) -> Any:
        """The highest value the space can take (on its step), a choice's last, true."""
        if self.kind == "choice":
            return copy.deepcopy(self.values[-1])
        if self.kind == "bool":
            return True
        if self.step is None:
            return self.high
        if self.log:
            count = int(math.log(self.high / self.low, self.step) + 1e-8)
            value = self.low * self.step ** count
        else:
            value = self.low + ((self.high - self.low) // self.step) * self.step
        return round(value) if self.kind == "int" else float(value)

    def definition(self) -> dict[str, Any]:
        """The space as a spec writes it."""
        if self.kind == "choice":
            return {SPACE_KEY: "choice", "values": copy.deepcopy(list(self.values))}
        if self.kind == "bool":
            return {SPACE_KEY: "bool"}
        written = {SPACE_KEY: self.kind, "min": self.low, "max": self.high}
        if self.step is not None:
            written["step"] = self.step
        return {**written, **({"log": True} if self.log else {})}

    def describe(self) -> str:
        """``int 32..256 step 32``, ``float 0.0001..0.01 log``, ``choice relu|tanh``, ``bool``."""
        if self.kind == "choice":
            return "choice " + "|".join(flow(value) for value in self.values)
        if self.kind == "bool":
            return "bool"
        text = f"{self.kind} {self.low:g}..{self.high:g}"
        text += f" step {self.step:g}" if self.step is not None else ""
        return text + (" log" if self.log else "")


@dataclass(frozen=True)
class Found:
    """What `find_spaces` found: the spaces, the spec with stand-ins, and the places of
    malformed spaces (whose stand-ins are guesses, so later passes should not report there)."""

    spaces: tuple[Space, ...]
    stand_in: dict[str, Any]
    malformed: tuple[str, ...]


def find_spaces(raw: dict[str, Any], problems: Problems) -> Found:
    """Collects and checks every space in `raw`; returns them with a copy of `raw` in which each
    space is replaced by its smallest value.

    Example:
        >>> found = find_spaces({"train": {"epochs": {"search": "int", "min": 2, "max": 8}}},
        ...                     Problems())
        >>> found.spaces[0].path, found.stand_in
        ('train.epochs', {'train': {'epochs': 2}})
    """
    spaces: list[Space] = []
    malformed: list[str] = []

    def visit(value: Any, steps: tuple[str | int, ...], path: str) -> Any:
        if steps and is_space(value):  # the spec itself has a `search` section, not a space
            if steps and steps[0] in NOT_SEARCHED:
                problems.add(path, f"the {steps[0]} section cannot be searched; give a value")
                malformed.append(path)
                return None
            space = check_space(value, steps, path, problems)
            if space is None:
                malformed.append(path)
                return _guess(value)
            spaces.append(space)
            return space.smallest()
        if isinstance(value, dict):
            return {k: visit(v, (*steps, k), key_path(path, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [visit(v, (*steps, i), key_path(path, i)) for i, v in enumerate(value)]
        return value

    stand_in = visit(raw, (), "")
    return Found(tuple(spaces), stand_in, tuple(malformed))


def is_space(value: Any) -> bool:
    return isinstance(value, dict) and SPACE_KEY in value


def check_space(value: dict, steps: tuple[str | int, ...], path: str,
                problems: Problems) -> Space | None:
    """Checks one space; returns it, or None after recording what is wrong."""
    before = len(problems.items)
    kind = value[SPACE_KEY]
    if kind not in KINDS:
        problems.add(key_path(path, SPACE_KEY), f"unknown kind of search space {kind!r}"
                     f"{did_you_mean(kind, KINDS)}; expected one of {', '.join(KINDS)}")
        return None
    check_keys(value, (SPACE_KEY, *KEYS[kind]), path, problems)
    if kind == "choice":
        space = _choice(value, steps, path, problems)
    elif kind == "bool":
        space = Space(path, steps, "bool")
    else:
        space = _range(value, kind, steps, path, problems)
    return space if len(problems.items) == before else None


def _choice(value: dict, steps: tuple, path: str, problems: Problems) -> Space | None:
    values = value.get("values")
    where = key_path(path, "values")
    if not isinstance(values, list) or len(values) < 2:
        problems.add(where, "a choice needs a list of at least two values, like [relu, tanh]; "
                     f"received {values!r}")
        return None
    texts = [flow(item) for item in values]
    for index, item in enumerate(values):
        if _contains_space(item):
            problems.add(key_path(where, index), "a choice's values are concrete: a space "
                         "cannot hold another space")
        elif texts.index(texts[index]) != index:
            problems.add(key_path(where, index), f"{texts[index]} is listed twice")
    return Space(path, steps, "choice", values=tuple(values))


def _range(value: dict, kind: str, steps: tuple, path: str, problems: Problems) -> Space | None:
    accepts, what = (is_int, "an integer") if kind == "int" else (is_number, "a number")
    bounds = {}
    for key in ("min", "max"):
        if key not in value:
            problems.add(key_path(path, key), f"missing: an {kind} space needs min and max")
        elif not accepts(value[key]):
            problems.add(key_path(path, key), f"expected {what}, received "
                         f"{type_name(value[key])}: {value[key]!r}")
        else:
            bounds[key] = value[key]
    log = value.get("log", False)
    if not isinstance(log, bool):
        problems.add(key_path(path, "log"), f"expected true or false, received {log!r}")
        return None
    if len(bounds) < 2:
        return None
    low, high = bounds["min"], bounds["max"]
    if not low < high:
        problems.add(path, f"min must be below max, received min {low!r} and max {high!r} "
                     "(a space of one value is just that value: write it)")
    elif log and low <= 0:
        problems.add(key_path(path, "min"), f"a log scale needs min > 0, received {low!r}")
    step = value.get("step")
    if step is not None:
        _check_step(step, kind, log, high - low, key_path(path, "step"), problems)
    return Space(path, steps, kind, low=low, high=high, step=step, log=log)


def _check_step(step: Any, kind: str, log: bool, span: float, path: str,
                problems: Problems) -> None:
    accepts = is_int if kind == "int" else is_number
    if log and not (accepts(step) and step > 1):
        problems.add(path, "with log: true the step multiplies (2 gives 32, 64, 128, ...): "
                     f"expected a number above 1, received {step!r}")
    elif not log and not (accepts(step) and 0 < step <= span):
        problems.add(path, f"expected a positive {kind} no larger than max - min ({span:g}), "
                     f"received {step!r}")


def _contains_space(value: Any) -> bool:
    if is_space(value):
        return True
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) \
        else ()
    return any(_contains_space(item) for item in items)


def _guess(value: dict) -> Any:
    """A stand-in for a malformed space, so that the rest of the spec can still be checked."""
    values = value.get("values")
    if isinstance(values, list) and values:
        return copy.deepcopy(values[0])
    number = value.get("min", value.get("max"))
    return number if is_number(number) else None


def with_values(raw: Mapping[str, Any], spaces: tuple[Space, ...],
                values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `raw` with each space replaced by ``values[space.path]`` (its smallest value
    where `values` has none)."""
    result = copy.deepcopy(dict(raw))
    for space in spaces:
        node: Any = result
        for step in space.steps[:-1]:
            node = node[step]
        value = values[space.path] if space.path in values else space.smallest()
        node[space.steps[-1]] = copy.deepcopy(value)
    return result


def flow(value: Any) -> str:
    """A value as one line of YAML-like text: ``relu``, ``0.001``, ``{type: SGD, momentum: 0.9}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and (value != value.strip() or value == "" or
                                   _looks_like_other(value)):
        return repr(value)
    return str(value)


def _looks_like_other(text: str) -> bool:
    """A string that YAML would read as something else (a number, true, null)."""
    if text.lower() in ("true", "false", "null", "yes", "no", "on", "off", "~"):
        return True
    try:
        float(text)
    except ValueError:
        return any(c in text for c in ":{}[],#")
    return True
