"""A base's ``keras.applications`` models in the schema: their names as an enum, and each
one's own arguments (``alpha``, ``minimalistic``, ...) from its signature and docstring, less
the ones dlkit decides (`dlkit._plan.applications.DECIDED`) and dlkit's own base keys."""

from __future__ import annotations

import inspect

from dlkit._plan.applications import DECIDED, application_functions
from dlkit._schema.arguments import argument
from dlkit._schema.docstrings import parse_args
from dlkit._schema.values import Defs
from dlkit._spec.sections.base import APPLICATION_KEYS


def with_applications(schema: dict, defs: Defs) -> dict:
    """The application base's section `schema` with ``application`` an enum of the names Keras
    exports, and one ``if``/``then`` per application: the arguments it takes besides dlkit's
    keys, nothing else."""
    functions = application_functions()
    properties = dict(schema["properties"])
    properties["application"] = {**properties["application"], "enum": sorted(functions)}
    forms = []
    for name, function in sorted(functions.items()):
        own = arguments(function, defs)
        forms.append({"if": {"properties": {"application": {"const": name}},
                             "required": ["application"]},
                      "then": {"properties": own,
                               "propertyNames": {"enum": [*APPLICATION_KEYS, *own]}}})
    return {**schema, "properties": properties, "allOf": forms}


def arguments(function: object, defs: Defs) -> dict[str, dict]:
    """An application's own keyword arguments as schema properties, typed where the docstring
    or the default says, described by the docstring's ``Args:`` entry."""
    docs = parse_args(inspect.getdoc(function) or "")
    return {p.name: argument(docs.get(p.name, ""), p.default, defs)
            for p in inspect.signature(function).parameters.values()
            if p.name not in DECIDED and p.name not in APPLICATION_KEYS}
