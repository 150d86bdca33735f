"""A Keras class's constructor arguments as JSON Schema properties: the names validation
accepts (`dlkit._plan.registry.accepted_arguments`), each typed where its signature's default
or its docstring says what it is, described by the docstring, with its default.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from dlkit._schema.docstrings import argument_docs, brief, stated_types
from dlkit._schema.values import Defs

EMPTY = inspect.Parameter.empty
NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
# Words in a description that say a value may be something its default is not.
OTHER_FORMS = (" or ", "tuple", "list", "callable")


@cache
def parameters(cls: type) -> dict[str, inspect.Parameter]:
    """Each named constructor argument along `cls`'s hierarchy, as the nearest ``__init__``
    that names it declares it."""
    found: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        try:
            signature = inspect.signature(init)
        except (TypeError, ValueError):
            continue
        for parameter in list(signature.parameters.values())[1:]:
            if parameter.kind in NAMED:
                found.setdefault(parameter.name, parameter)
    return found


def required(cls: type, names: Iterable[str]) -> list[str]:
    """The arguments among `names` that `cls`'s own constructor needs (no default)."""
    try:
        own = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return []
    wanted = set(names)
    return [p.name for p in own if p.kind in NAMED and p.default is EMPTY and p.name in wanted]


def properties(cls: type, names: Iterable[str], defs: Defs,
               special: Callable[[str, Any], dict | None] = lambda name, default: None
               ) -> dict[str, dict]:
    """Schema properties for `names`, arguments of `cls`.

    Args:
        special: the schema of an argument that holds a spec component (an activation, an
            initializer, a nested layer, ...), given its name and default; None for a plain
            value, typed from the docstring and the default.
    """
    docs, found = argument_docs(cls), parameters(cls)
    result = {}
    for name in names:
        default = found[name].default if name in found else EMPTY
        result[name] = argument(docs.get(name, ""), default, defs, special(name, default))
    return result


def argument(doc: str, default: Any, defs: Defs, schema: dict | None = None) -> dict:
    """One argument's property: `schema` (a component's), or its type as `doc` or `default`
    says, described by `doc`, with its default."""
    if schema is None:
        fragments = value_types(doc, default)
        schema = dict(defs.typed(fragments)) if fragments else {}
    if doc:
        schema["description"] = brief(doc)
    if json_value(default) is not EMPTY:
        schema["default"] = json_value(default)
    return schema


def value_types(doc: str, default: Any) -> list[dict] | None:
    """The JSON Schema types of a plain argument: what its description states (and null when
    it defaults to None), else what its default is when nothing says it may be more (a bool
    default: boolean; a float default: number); None when unknown."""
    stated = stated_types(doc) if doc else None
    if stated is None:
        if any(word in f" {doc.lower()} " for word in OTHER_FORMS):
            return None
        if isinstance(default, bool):
            return [{"type": "boolean"}]
        return [{"type": "number"}] if isinstance(default, float) else None
    if default not in (EMPTY, None) and not any(_fits(default, f) for f in stated):
        return None  # the docstring and the signature disagree: claim nothing
    if default is None and {"type": "null"} not in stated:
        stated = [*stated, {"type": "null"}]
    return stated


def _fits(value: Any, fragment: dict) -> bool:
    kind = fragment["type"]
    if kind == "boolean" or isinstance(value, bool):
        return kind == "boolean" and isinstance(value, bool)
    if kind in ("integer", "number"):
        number = isinstance(value, int) or (kind == "number" and isinstance(value, float))
        return number and value >= fragment.get("minimum", -math.inf)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value)
    return value is None


def json_value(value: Any) -> Any:
    """A default as JSON (tuples as lists), or EMPTY when it is not plain data."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else EMPTY
    if isinstance(value, (list, tuple)):
        items = [json_value(v) for v in value]
        return EMPTY if any(v is EMPTY for v in items) else items
    return EMPTY
