"""`Spec`, the validated and immutable form of a spec, and `load_spec`, its only door."""

from __future__ import annotations

import copy
import json
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dlkit._errors import Problem, SpecError
from dlkit._overrides import apply_overrides
from dlkit._schema import TOP_KEYS, Problems, check_schema
from dlkit._source import read_spec_file

DEFAULT_NAME = "dlkit-run"


class InitializationWarning(UserWarning):
    """A spec's initialization is legal but defeats learning (e.g. symmetric neurons)."""


class Spec(Mapping[str, Any]):
    """A validated spec with every default filled in; read-only.

    Build one with `dlkit.load_spec`. Sections read like a mapping (``spec["train"]["epochs"]``)
    and come back read-only; `to_dict` gives a plain, independent copy.
    """

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any], *, _validated: bool = False) -> None:
        if not _validated:
            raise TypeError("create a Spec with dlkit.load_spec(...), which validates it")
        self._data = data

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
        return f"Spec(name={self.name!r}, layers={len(self._data['model']['layers'])})"

    @property
    def name(self) -> str:
        """The run name."""
        return self._data["name"]

    def to_dict(self) -> dict[str, Any]:
        """The fully resolved spec as plain data; `load_spec` of it gives an equal `Spec`."""
        return copy.deepcopy(self._data)


def load_spec(source: str | os.PathLike[str] | Mapping[str, Any] | Spec, *,
              overrides: list[str] | None = None) -> Spec:
    """Reads and validates a spec.

    Args:
        source: a `.yaml`/`.yml`/`.json` path, a dict, or a `Spec`.
        overrides: ``KEY=VALUE`` settings applied before validation, as `dlkit train --set`
            takes them, e.g. ``["train.epochs=3", "model.layers[1].units=128"]``.

    Returns:
        A validated `Spec` with defaults filled in.

    Raises:
        SpecError: listing every problem found, each with its path.

    Example:
        >>> spec = dlkit.load_spec("examples/digits_mlp.yaml", overrides=["train.epochs=2"])
    """
    if isinstance(source, Spec) and not overrides:
        return source
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
    return Spec(validate(raw, default_name=default_name), _validated=True)


def validate(raw: dict[str, Any], *, default_name: str = DEFAULT_NAME) -> dict[str, Any]:
    """Every validation pass over plain data; returns it with defaults filled in.

    Pass 1 checks structure without Keras; pass 2 resolves every name through Keras, on every
    part whose structure is sound, so that one `SpecError` lists all problems; pass 3, once
    all names resolve, assembles the model without weights to check shapes and size.
    """
    from dlkit import _callbacks, _checks, _resolve, _shapes  # passes 2 and 3 need Keras

    problems = Problems()
    spec = check_schema(raw, default_name, problems)
    _checks.run_checks(spec, problems)
    # Validating must not shift the random draws of a later build, nor allocate weights.
    with _resolve.random_state_kept(), _shapes.scratch_graph():
        layers = _resolve.model_parts(spec, problems).layers
        _callbacks.check_callbacks(spec, problems)
        if not problems.items:
            _shapes.check_shapes(spec, layers, problems)
    if problems.items:
        raise SpecError(_in_spec_order(problems.items))
    for path, message in _checks.symmetric_initializer_warnings(spec):
        warnings.warn(f"{path}: {message}", InitializationWarning, stacklevel=3)
    return spec


def _in_spec_order(items: list[Problem]) -> list[Problem]:
    """Drops repeats and sorts problems as their places appear in a spec: section, then layer."""
    def place(problem: Problem) -> tuple[int, int]:
        section = re.split(r"[.\[]", problem.path, maxsplit=1)[0]
        rank = TOP_KEYS.index(section) if section in TOP_KEYS else -1
        layer = re.match(r"model\.layers\[(\d+)\]", problem.path)
        return rank, int(layer.group(1)) if layer else -1
    return sorted(dict.fromkeys(items), key=place)


def _name_from_stem(stem: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]", "-", stem).lstrip("._-")[:100]
    return name or DEFAULT_NAME


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value
