"""``KEY=VALUE`` overrides (``dlkit train --set``) applied to a raw spec before validation."""

from __future__ import annotations

import copy
import re
from typing import Any

from dlkit._core.errors import Problem, SpecError
from dlkit._spec.source import parse_yaml

_STEP = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")


def parse_key(key: str) -> list[str | int]:
    """``model.layers[1].units`` -> ``["model", "layers", 1, "units"]``.

    Raises:
        SpecError: the key is not a dotted path with optional ``[index]`` steps.
    """
    steps: list[str | int] = []
    position = 0
    while position < len(key):
        match = _STEP.match(key, position)
        if not match or (position == 0 and key.startswith(".")):
            raise SpecError(Problem(key, "an override key is a dotted path with list indices, "
                                         "like model.layers[1].units"))
        steps.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if not steps:
        raise SpecError(Problem(key, "empty override key"))
    return steps


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Returns a copy of `raw` with each ``KEY=VALUE`` set; VALUE is read as a YAML scalar.

    Example:
        >>> apply_overrides({"train": {"epochs": 30}}, ["train.epochs=3"])
        {'train': {'epochs': 3}}
    """
    result = copy.deepcopy(raw)
    problems = []
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            problems.append(Problem(item, "an override is KEY=VALUE, like train.epochs=3"))
            continue
        try:
            _set(result, parse_key(key.strip()), parse_yaml(text, f"--set {key}"), key.strip())
        except SpecError as exc:
            problems.extend(exc.errors)
    if problems:
        raise SpecError(problems)
    return result


def _set(root: dict, steps: list[str | int], value: Any, key: str) -> None:
    node: Any = root
    for depth, (step, following) in enumerate(zip(steps, steps[1:] + [None])):
        where = key if following is None else _render(steps[: depth + 1])
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                size = f"a list of {len(node)}" if isinstance(node, list) else "not a list"
                raise SpecError(Problem(where, f"no item [{step}] to set: the spec has {size} here"))
        elif not isinstance(node, dict):
            raise SpecError(Problem(where, "cannot set a key inside a value that is not a mapping"))
        if following is None:
            node[step] = value
        else:
            if isinstance(node, dict) and node.get(step) is None:
                node[step] = [] if isinstance(following, int) else {}
            node = node[step]


def _render(steps: list[str | int]) -> str:
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text
