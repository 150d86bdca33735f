"""The building blocks of `dlkit._schema.keys`: a `Key`, a `Section`, and the value forms
several sections share (seeds, shapes, counts, a network's layers or graph)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dlkit._spec.sections.graph import NAME

NO_DEFAULT = object()


@dataclass(frozen=True)
class Key:
    """One key: what it means, the schema of its value, its default (if it has one)."""

    description: str
    schema: dict[str, Any]
    default: Any = NO_DEFAULT


@dataclass(frozen=True)
class Section:
    """A mapping of dlkit's keys, and the pass-1 tuple of the keys it accepts (None: pass 1
    checks these keys one by one, with no tuple)."""

    description: str
    keys: dict[str, Key]
    pass_1: tuple[str, ...] | None
    required: tuple[str, ...] = field(default=())


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def integer(low: int, high: int | None = None) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, **({"maximum": high} if high else {})}


def name_pattern(what: str) -> dict[str, Any]:
    return {"type": "string", "pattern": NAME.pattern,
            "description": f"A {what} name: 1-64 letters, digits, '_' or '-', starting with a "
                           "letter or '_'."}


def or_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` or null; an error in a value that is not null is about `schema` alone (and
    points inside it), unlike ``anyOf``."""
    return {"if": {"type": "null"}, "else": schema}


SEED = or_null(integer(0, 2**32 - 1))
SECONDS = {"type": "number", "exclusiveMinimum": 0, "maximum": 86400}
COUNT = integer(1, 10**6)
SHAPE = {"type": "array", "minItems": 1, "items": {"anyOf": [integer(1, 10**7), {"type": "null"}]},
         "description": "A shape without the batch dimension, like [8, 8, 1]; null for a "
                        "dimension of any size."}
NODE_INPUTS = {"anyOf": [{"type": "string"}, {"type": "array", "minItems": 1,
                                               "items": {"type": "string"}}]}
# A kind's network: a list of layers, or a graph {inputs: [x], graph, output}.
STACK = {"if": {"type": "array"},
         "then": {"type": "array", "minItems": 1, "items": ref("stack_layer")},
         "else": ref("section.network")}


def union(*tuples: tuple[str, ...]) -> tuple[str, ...]:
    """The keys of several pass-1 tuples, each once, in order."""
    return tuple(dict.fromkeys(key for keys in tuples for key in keys))
