"""Layers and components (activations, initializers, regularizers, constraints, losses,
metrics, optimizers, learning-rate schedules) as ``$defs``, from the names the resolver accepts
(`dlkit._plan.catalogue`) and the constructor of each class they name.

A layer or a component in mapping form is ``{type: Name, **arguments}``: one definition per
class, chosen by ``type`` (``if``/``then``, so an editor offers and checks exactly that class's
arguments and shows its docstring's first line), with the arguments every class of the kind
takes written once (``<kind>.arguments``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from dlkit._plan.catalogue import Names, component_names, layer_types
from dlkit._plan.registry import accepted_arguments
from dlkit._plan.resolver import SCHEDULED_ARGUMENT, argument_kind
from dlkit._schema.arguments import properties, required
from dlkit._schema.docstrings import summary
from dlkit._schema.keys import COMPONENT_DOCS
from dlkit._schema.values import Defs
from dlkit._spec.checks import layer_ranges

Special = Callable[[str, Any], "dict | None"]
# Characters of JSON below which an argument written alike in several classes is written out
# in each (a reference would be about as long).
SHARED_LONGER_THAN = 60


def add_components(defs: Defs) -> None:
    """Adds ``layer`` (and its wrappers) and one definition per kind of component."""
    names = component_names()
    for kind in names:
        defs.ref(kind, lambda kind=kind: _component(defs, names[kind]))
    defs.ref("layer", lambda: _layers(defs))
    defs.ref("nested_layer", lambda: {"$ref": "#/$defs/layer", "unevaluatedProperties": False})


def _layers(defs: Defs) -> dict:
    """``{type: <layer>, **arguments}``; closed (no other key) by the wrapper that uses it."""
    types = layer_types()
    special = _layer_argument(defs)
    return {"description": COMPONENT_DOCS["layer"], "type": "object", "required": ["type"],
            "properties": {"type": {"enum": sorted(types)}},
            "allOf": _family(defs, "layer", types, special, ranges=True)}


def _layer_argument(defs: Defs) -> Special:
    """A layer argument that holds a component or a nested layer, by its name (as the
    resolver reads it); null where it defaults to None."""
    def special(name: str, default: Any) -> dict | None:
        kind = argument_kind(name)
        if kind is None:
            return None
        target = "nested_layer" if kind == "layer" else kind
        if default is not None:
            return dict(defs.ref(target))
        return dict(defs.ref(f"{target}_or_null", lambda: {
            "if": {"type": "null"}, "else": defs.ref(target)}))
    return special


def _component(defs: Defs, names: Names) -> dict:
    kind = names.kind
    special = _layer_argument(defs) if kind == "activation" else _optimizer_argument(defs) \
        if kind == "optimizer" else (lambda name, default: None)
    known = sorted({*names.classes, *names.plain})
    branches = _family(defs, kind, names.classes, special, strengths=names.strengths)
    if names.plain:
        branches.insert(0, {"if": _named(sorted(names.plain)), "then": {"properties": {
            "type": {"description": "A function: it takes no arguments."}}}})
    form = defs.ref(f"{kind}.form", lambda: {
        "type": "object", "required": ["type"], "properties": {"type": {"enum": known}},
        "allOf": branches, "unevaluatedProperties": False})
    return {"description": COMPONENT_DOCS[kind], **defs.variable_or(
        {"if": {"type": "object"}, "then": form, "else": {"enum": sorted(names.bare)}})}


def _optimizer_argument(defs: Defs) -> Special:
    """An optimizer's learning rate: a number or a schedule."""
    def special(name: str, default: Any) -> dict | None:
        if name != SCHEDULED_ARGUMENT:
            return None
        return {"anyOf": [{"type": "number"}, defs.ref("schedule")]}
    return special


def _family(defs: Defs, kind: str, names: Mapping[str, type], special: Special, *,
            strengths: Mapping[str, tuple[str, ...]] | None = None,
            ranges: bool = False) -> list[dict]:
    """One ``if``/``then`` per class: the names that give it -> its definition."""
    by_class: dict[type, list[str]] = {}
    for name in sorted(names):
        by_class.setdefault(names[name], []).append(name)
    accepted = {cls: accepted_arguments(cls) for cls in by_class}
    shared = [n for n in min(accepted.values(), key=len)
              if all(n in args for args in accepted.values())] if len(by_class) > 1 else []
    source = min(accepted, key=lambda cls: len(accepted[cls])) if by_class else None
    allof = [defs.ref(f"{kind}.arguments", lambda: {
        "properties": properties(source, shared, defs, special)})] if shared else []
    made = []
    for cls, spelled in sorted(by_class.items(), key=lambda item: _canonical(*item)):
        own = [n for n in accepted[cls] if n not in shared]
        definition = {
            "description": summary(cls), "type": "object",
            "properties": {"type": {"description": summary(cls)},
                           **properties(cls, own, defs, special)},
            **({"allOf": allof} if allof else {})}
        needed = required(cls, accepted[cls])
        if needed:
            definition["required"] = needed
        needs = (strengths or {}).get(spelled[0])
        if needs:
            definition["anyOf"] = [{"required": [s]} for s in needs]
        if ranges:
            _limit(definition["properties"], layer_ranges(_canonical(cls, spelled)))
        made.append((spelled, _canonical(cls, spelled), definition))
    _share_arguments(defs, kind, [definition for _, _, definition in made])
    return [{"if": _named(spelled), "then": defs.ref(f"{kind}.{name}", lambda d=definition: d)}
            for spelled, name, definition in made]


def _share_arguments(defs: Defs, kind: str, definitions: list[dict]) -> None:
    """An argument written alike in several classes (Conv1D's and Conv2D's `kernel_initializer`)
    becomes one definition, ``<kind>.argument.<name>`` (``.2``, ``.3``: its other variants),
    that each refers to."""
    counts: Counter[tuple[str, str]] = Counter(
        (name, json.dumps(schema, sort_keys=True))
        for definition in definitions for name, schema in definition["properties"].items())
    variants: Counter[str] = Counter()
    shared = {}
    for (name, text), count in sorted(counts.items()):
        if count > 1 and len(text) > SHARED_LONGER_THAN and name != "type":
            variants[name] += 1
            label = f"{kind}.argument.{name}" + (f".{variants[name]}" if variants[name] > 1 else "")
            shared[name, text] = defs.ref(label, lambda text=text: json.loads(text))
    for definition in definitions:
        for name, schema in definition["properties"].items():
            reference = shared.get((name, json.dumps(schema, sort_keys=True)))
            if reference is not None:
                definition["properties"][name] = dict(reference)


def _canonical(cls: type, spelled: list[str]) -> str:
    """The name a class's definition goes by: its own class name when a spec may write it."""
    return cls.__name__ if cls.__name__ in spelled else spelled[0]


def _limit(props: dict[str, dict], ranges: Mapping[str, Any]) -> None:
    """dlkit's own ranges on a layer's arguments (`dlkit._spec.checks.layer_ranges`)."""
    for name, limits in ranges.items():
        if name in props:
            props[name]["minimum"] = limits.low
            props[name]["maximum" if limits.closed else "exclusiveMaximum"] = limits.high


def _named(names: list[str]) -> dict:
    return {"properties": {"type": {"enum": names}}, "required": ["type"]}
