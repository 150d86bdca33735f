"""`Part`: a Keras object to make, its class resolved once and its arguments frozen.

A plan holds parts, not Keras objects: a Keras layer or optimizer belongs to one model, so
every build makes new ones from the same parts, and no name is looked up again. Arguments are
plain values (lists kept as tuples while frozen and handed to Keras as lists again), names
that Keras itself resolves the way a hand-written script would pass them (``"relu"``,
``"mse"``), or other parts (an activation layer, an initializer with settings, a nested layer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from dlkit._core.errors import first_line


class PartError(Exception):
    """Keras refused a part's arguments; `path` says where in the spec."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


@dataclass(frozen=True)
class Part:
    """A Keras object to make: ``cls(**args)``.

    Attributes:
        cls: the class a spec's name resolved to.
        args: its keyword arguments, frozen.
        path: where in the spec it comes from, for messages.
    """

    cls: type
    args: Mapping[str, Any]
    path: str

    @classmethod
    def of(cls, klass: type, args: Mapping[str, Any], path: str) -> Part:
        return cls(klass, MappingProxyType({k: freeze(v) for k, v in args.items()}), path)

    def with_args(self, **changes: Any) -> Part:
        """The same part with some arguments set."""
        return Part.of(self.cls, {**self.args, **changes}, self.path)

    def make(self) -> Any:
        """A new Keras object.

        Raises:
            PartError: Keras refused the arguments (of this part or a part inside it).
        """
        args = {key: make(value) for key, value in self.args.items()}
        try:
            return self.cls(**args)
        except Exception as exc:  # noqa: BLE001 - Keras' own check of a value, with our path
            raise PartError(self.path, f"{self.cls.__name__} refused its arguments: "
                            f"{first_line(exc)}") from None


def make(value: Any) -> Any:
    """Makes parts (also inside tuples and mappings); plain values come back as plain data."""
    if isinstance(value, Part):
        return value.make()
    if isinstance(value, tuple):
        return [make(item) for item in value]
    if isinstance(value, Mapping):
        return {key: make(item) for key, item in value.items()}
    return value


def freeze(value: Any) -> Any:
    """Plain data made read-only: lists become tuples, mappings read-only mappings."""
    if isinstance(value, list):
        return tuple(freeze(item) for item in value)
    if isinstance(value, dict):
        return MappingProxyType({key: freeze(item) for key, item in value.items()})
    return value


def name_of(value: Any) -> str:
    """The spec's name for a part or a plain name: ``Adam`` for a part, ``mse`` for a name."""
    return value.cls.__name__ if isinstance(value, Part) else str(value)
