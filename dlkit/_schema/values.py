"""The shapes a value may take, shared through ``$defs``: search spaces (any value in a spec),
block parameters (``$name``, any value inside a block's nodes), and plain typed values.

`Defs` collects the schema's ``$defs`` as the parts that use them are built, so each shared
definition is written once and referred to by ``{"$ref": "#/$defs/<name>"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlkit._schema.forms import NO_DEFAULT, Key
from dlkit._schema.keys import SPACE
from dlkit._spec.sections.graph import PARAMETER
from dlkit._spec.spaces import KEYS, SPACE_KEY
from dlkit._spec.spaces import KINDS as SPACE_KINDS

SPACE_DEF = "search_space"
VARIABLE_DEF = "variable"
SPACE_TEST = {"type": "object", "required": [SPACE_KEY]}
PARAMETER_TEST = {"type": "string", "pattern": r"^\$"}


class Defs:
    """The ``$defs`` of one schema, each made once on first use."""

    def __init__(self) -> None:
        self.items: dict[str, Any] = {}
        self.wanted: set[str] = set()

    def ref(self, name: str, make: Callable[[], dict] | None = None) -> dict:
        """``{"$ref": ...}`` to the definition `name`, made by `make` the first time; without
        `make`, one that another part defines (`missing` tells whether all were)."""
        if make is None:
            self.wanted.add(name)
        elif name not in self.items:
            self.items[name] = {}  # a definition may refer to itself (a nested layer)
            self.items[name] = make()
        return {"$ref": f"#/$defs/{name}"}

    def missing(self) -> list[str]:
        """The definitions referred to that nothing defined."""
        return sorted(self.wanted - set(self.items))

    def space(self) -> dict:
        """A search space, ``{search: int, min: 32, max: 256}`` and the like."""
        return self.ref(SPACE_DEF, search_space)

    def variable(self) -> dict:
        """What a layer or component argument may hold besides its value: a search space, or
        inside a block a parameter ``$name``."""
        return self.ref(VARIABLE_DEF, lambda: {
            "anyOf": [self.space(), {"type": "string", "pattern": PARAMETER.pattern,
                                     "description": "A parameter of the block this node is in "
                                     "(model.blocks.<block>.params), set by each instance's "
                                     "`with:`."}]})

    def searchable(self, schema: dict) -> dict:
        """`schema`, or a search space: a mapping with a ``search`` key is checked as a space,
        anything else against `schema` (so an error names what is wrong with the value)."""
        return {"if": SPACE_TEST, "then": self.space(), "else": schema}

    def variable_or(self, schema: dict) -> dict:
        """`schema`, or a variable (a search space or a block parameter)."""
        return {"if": {"anyOf": [SPACE_TEST, PARAMETER_TEST]}, "then": self.variable(),
                "else": schema}

    def typed(self, fragments: list[dict]) -> dict:
        """A plain value of one of the JSON Schema `fragments`, or a variable."""
        name = "value." + "_or_".join(_fragment_name(f) for f in fragments)
        return self.ref(name, lambda: self.variable_or(
            fragments[0] if len(fragments) == 1 else {"anyOf": fragments}))


def _fragment_name(fragment: dict) -> str:
    """``integer``, ``integer_min1``, ``integer_list``, ``number``, ``null``, ``auto_min_max``
    (an enum), ..."""
    if "enum" in fragment:
        return "_".join(str(value) for value in fragment["enum"])
    if fragment.get("type") == "array":
        return f"{fragment['items']['type']}_list"
    suffix = f"_min{fragment['minimum']}" if "minimum" in fragment else ""
    return f"{fragment['type']}{suffix}"


def search_space() -> dict:
    """The four kinds of search space, each with exactly its own keys (`dlkit._spec.spaces`):
    an int space's bounds and step are integers."""
    forms = []
    for kind in SPACE_KINDS:
        owned: dict[str, Any] = {SPACE_KEY: {"const": kind}}
        for key in KEYS[kind]:
            owned[key] = dict(SPACE.keys[key].schema)
            if kind == "int" and key != "log":
                owned[key]["type"] = "integer"
        needed = [SPACE_KEY, *(k for k in ("min", "max", "values") if k in KEYS[kind])]
        forms.append({"if": {"properties": {SPACE_KEY: {"const": kind}},
                             "required": [SPACE_KEY]},
                      "then": {"properties": owned, "required": needed,
                               "additionalProperties": False}})
    return {"type": "object", "description": SPACE.description, "required": [SPACE_KEY],
            "properties": {name: described(key) for name, key in SPACE.keys.items()},
            "allOf": forms}


def described(key: Key, defs: Defs | None = None) -> dict:
    """A key's property: its schema (or a search space, given the `defs` to refer to), its
    description and its default."""
    schema = defs.searchable(key.schema) if defs else dict(key.schema)
    schema["description"] = key.description
    if key.default is not NO_DEFAULT:
        schema["default"] = key.default
    return schema
