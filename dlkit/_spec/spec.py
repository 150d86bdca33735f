"""`Spec`, the validated and immutable form of a spec, and reading what a spec comes from."""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dlkit._core.errors import Problem, SpecError
from dlkit._spec.overrides import apply_overrides
from dlkit._spec.source import read_spec_file

DEFAULT_NAME = "dlkit-run"


class Spec(Mapping[str, Any]):
    """A validated spec with every default filled in; read-only.

    Build one with `dlkit.load_spec`. Sections read like a mapping (``spec["train"]["epochs"]``)
    and come back read-only; `to_dict` gives a plain, independent copy.
    """

    __slots__ = ("_data", "_plan")

    def __init__(self, data: dict[str, Any], *, plan: Any = None,
                 _validated: bool = False) -> None:
        if not _validated:
            raise TypeError("create a Spec with dlkit.load_spec(...), which validates it")
        self._data = data
        self._plan = plan  # what dlkit.build and dlkit.train consume (dlkit._plan)

    def __getitem__(self, key: str) -> Any:
        return _freeze(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Spec) and self._data == other._data

    def __hash__(self) -> int:
        return hash(json.dumps(self._data, sort_keys=True, default=repr))

    def __repr__(self) -> str:
        model = self._data["model"]
        if "kind" in model:
            return f"Spec(name={self.name!r}, kind={model['kind']!r})"
        if "graph" in model:
            return f"Spec(name={self.name!r}, nodes={len(model['graph'])})"
        return f"Spec(name={self.name!r}, layers={len(model['layers'])})"

    def __getstate__(self) -> dict[str, Any]:  # a pickled Spec carries its data, not its plan
        return {"data": self._data}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._data, self._plan = state["data"], None  # load_spec plans it again when used

    @property
    def name(self) -> str:
        """The run name."""
        return self._data["name"]

    def to_dict(self) -> dict[str, Any]:
        """The fully resolved spec as plain data; `load_spec` of it gives an equal `Spec`."""
        return copy.deepcopy(self._data)


def plan_of(spec: Spec) -> Any:
    """The plan `load_spec` made for `spec` (a `dlkit._plan.Plan`), or None once unpickled."""
    return spec._plan


def raw_spec(source: object, overrides: list[str] | None = None) -> tuple[dict, str]:
    """Reads what `load_spec` takes into plain data and the name a run gets by default.

    Raises:
        SpecError: unreadable input, or overrides that cannot be applied.
    """
    if isinstance(source, Spec):
        raw, default_name = source.to_dict(), source.name
    elif isinstance(source, Mapping):
        raw, default_name = copy.deepcopy(dict(source)), DEFAULT_NAME
    elif isinstance(source, (str, os.PathLike)):
        raw, default_name = read_spec_file(source), _name_from_stem(Path(source).stem)
    else:
        raise SpecError(Problem("", "load_spec takes a path (.yaml/.yml/.json), a dict or a Spec;"
                                f" received {type(source).__name__}"))
    if overrides:
        raw = apply_overrides(raw, overrides)
    return raw, default_name


def _name_from_stem(stem: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]", "-", stem).lstrip("._-")[:100]
    return name or DEFAULT_NAME


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value
