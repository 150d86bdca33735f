"""The spec's sections as ``$defs``, from dlkit's own keys (`dlkit._schema.keys`); callback
settings from the classes that receive them (`dlkit._plan.callbacks`).

Any value may be a search space, except the run name and the search section; a key whose
value is a component or a section already says so where it is defined.
"""

from __future__ import annotations

from dlkit._data.keras_datasets import keras_dataset_names
from dlkit._plan.callbacks import CLASSES, settable_arguments
from dlkit._schema.applications import with_applications
from dlkit._schema.arguments import properties
from dlkit._schema.conditions import data_rules, kind_rules
from dlkit._schema.forms import Key, Section, integer
from dlkit._schema.keys import DEFINITIONS, SECTIONS
from dlkit._schema.values import Defs, described
from dlkit._spec.checks import EARLY_STOPPING_MODES, PATIENCE_MINIMUM
from dlkit._spec.sections.data import DATA_SOURCES, ONLINE_PREFIXES
from dlkit._spec.spaces import NOT_SEARCHED

# A key pass 1 takes that dlkit._schema.keys does not describe.
UNDESCRIBED = {"description": "Not described in the schema yet; `dlkit validate` checks it."}
# Sections whose values are never searched (`dlkit._spec.spaces.NOT_SEARCHED`).
UNSEARCHED = ("search", "search.objective", "<search space>")
# Sections that take keys beyond dlkit's (an application's own arguments, in its own rules).
OPEN = ("model.base (application)",)


def add_sections(defs: Defs) -> dict:
    """Adds every section's definition; returns the top level's schema (properties, required)."""
    for path, name in DEFINITIONS.items():
        if name and name not in ("search_space", "layer_node"):
            defs.ref(name, lambda path=path: section(defs, path, SECTIONS[path],
                                                     closed=path not in OPEN))
    defs.ref("layer_node", lambda: {
        "$ref": "#/$defs/layer", "unevaluatedProperties": False,
        **section(defs, "model.graph[<layer>]", SECTIONS["model.graph[<layer>]"],
                  closed=False)})
    defs.ref("node", lambda: {"if": {"required": ["block"]}, "then": defs.ref("block_instance"),
                              "else": defs.ref("layer_node")})
    defs.ref("stack_layer", lambda: defs.searchable(defs.ref("nested_layer")))
    defs.ref("per_output_loss", lambda: {
        "type": "object", "minProperties": 1, "not": {"required": ["type"]},
        "additionalProperties": defs.ref("loss"),
        "description": "A loss per named output: output name -> loss."})
    defs.ref("data_source", lambda: {"anyOf": [
        {"enum": [*DATA_SOURCES, *(f"keras:{n}" for n in keras_dataset_names())]},
        {"type": "string", "pattern": "^(" + "|".join(ONLINE_PREFIXES) + ").+"}]})
    for key in CLASSES:
        defs.ref(f"callback.{key}", lambda key=key: callback(defs, key))
    return {**section(defs, "", SECTIONS[""]), "allOf": kind_rules()}


def section(defs: Defs, path: str, part: Section, *, closed: bool = True) -> dict:
    """A section's schema: the keys pass 1 takes (its tuple, where it has one), each
    described, typed and defaulted from `dlkit._schema.keys`, nothing else allowed. A key pass
    1 takes that `keys` does not describe yet is still taken (any value), and
    tests/test_schema_drift.py fails until it is described."""
    names = part.keys if part.pass_1 is None else part.pass_1
    schema: dict = {"type": "object", "description": part.description,
                    "properties": {name: _property(defs, path, name, part.keys[name])
                                   if name in part.keys else dict(UNDESCRIBED)
                                   for name in names}}
    if part.required:
        schema["required"] = list(part.required)
    if closed:
        schema["additionalProperties"] = False
    if path == "model.regularization":
        schema["minProperties"] = 1  # a penalty states its strength
    if path == "data":
        schema["allOf"] = data_rules()
    if path == "model.base (application)":
        schema = with_applications(schema, defs)
    return schema


def _property(defs: Defs, path: str, name: str, key: Key) -> dict:
    searched = not (path in UNSEARCHED or (path == "" and name in NOT_SEARCHED)
                    or _defined_elsewhere(key.schema))
    return described(key, defs if searched else None)


def _defined_elsewhere(schema: dict) -> bool:
    """Whether a value is a definition (or null): a section, or a component that may itself
    be a search space."""
    if schema.get("if") == {"type": "null"}:  # or null
        schema = schema["else"]
    choices = schema.get("anyOf", [schema])
    return all(set(c) == {"$ref"} for c in choices)


def callback(defs: Defs, key: str) -> dict:
    """A callback: off (false), on (true), or the settings of its class, with the limits dlkit
    checks (`dlkit._spec.checks.check_callback_settings`)."""
    cls, _ = CLASSES[key]
    settings = properties(cls, settable_arguments(key), defs)
    if "patience" in settings and key in PATIENCE_MINIMUM:
        settings["patience"].update(defs.typed([integer(PATIENCE_MINIMUM[key])]))
    if "mode" in settings and key in PATIENCE_MINIMUM:
        settings["mode"].update(defs.typed([{"enum": list(EARLY_STOPPING_MODES)}]))
    if "min_interval" in settings:
        settings["min_interval"].update(defs.typed([{"type": "number", "minimum": 0}]))
    return {"anyOf": [{"type": "boolean"}, {"type": "object", "properties": settings,
                                            "additionalProperties": False}]}
