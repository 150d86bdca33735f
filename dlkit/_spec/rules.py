"""Rules every section of pass 1 shares: paths, types, unknown keys, plain data, components.

Only dlkit's own keys are described in pass 1 (`dlkit._spec.structure` and its sections). What
a Keras layer, optimizer or loss accepts is not restated: pass 2 (`dlkit._plan.resolver`) asks
Keras itself.
"""

from __future__ import annotations

import math
from typing import Any

from dlkit._core.errors import Problems, did_you_mean

# Keys of Keras' own serialization format: a spec never carries them, since with "module"
# Keras' deserializer may import code.
SERIALIZATION_KEYS = ("class_name", "module", "registered_name")


def key_path(path: str, key: str | int) -> str:
    """``key_path("model", "layers")`` is ``model.layers``; an int key gives ``[i]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def type_name(value: object) -> str:
    return {dict: "mapping", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), type(value).__name__)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return (is_int(value) or isinstance(value, float)) and math.isfinite(value)


def check_shape(value: object, path: str, problems: Problems) -> bool:
    """An input shape: a non-empty list of positive integers (null for any size)."""
    if isinstance(value, list) and value and all(
            d is None or (is_int(d) and 0 < d <= 10**7) for d in value):
        return True
    problems.add(path, "expected a non-empty list of positive integers (null for a dimension of "
                 f"any size), like [8, 8, 1]; received {value!r}")
    return False


def check_keys(section: dict, allowed: tuple[str, ...], path: str, problems: Problems) -> None:
    """Unknown keys are errors, with the closest allowed key as a did-you-mean."""
    for key in section:
        if key not in allowed:
            hint = did_you_mean(key, allowed) or f" (expected one of: {', '.join(allowed)})"
            problems.add(key_path(path, str(key)), f"unknown key '{key}'{hint}")


def mapping_or_none(value: object, path: str, problems: Problems) -> dict | None:
    """Returns `value` when it is a mapping, else records a problem and returns None."""
    if isinstance(value, dict):
        return value
    problems.add(path, f"expected a mapping, received {type_name(value)}: {value!r}")
    return None


def check_plain(value: Any, path: str, problems: Problems, depth: int = 0) -> None:
    """Refuses what could make Keras import code: serialization keys, dotted names, deep nests."""
    if depth > 20:
        problems.add(path, "nested too deeply (more than 20 levels)")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                problems.add(path, f"keys are strings, received {type_name(key)}: {key!r}")
            elif key in SERIALIZATION_KEYS:
                problems.add(key_path(path, key), f"'{key}' is Keras' serialization format, not "
                             "spec syntax: write {type: Name, ...}")
            check_plain(item, key_path(path, str(key)), problems, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_plain(item, key_path(path, index), problems, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        problems.add(path, f"expected a finite number, received {value!r}")


def check_component(value: object, path: str, problems: Problems, *, what: str) -> bool:
    """A component is a name or ``{type: Name, **kwargs}``; returns whether it is well formed."""
    name = value.get("type") if isinstance(value, dict) else value
    if isinstance(value, dict) and "type" not in value:
        problems.add(path, f"a {what} mapping needs a 'type' key naming it, like {{type: Name}}")
        return False
    if not isinstance(name, str) or not name:
        problems.add(key_path(path, "type") if isinstance(value, dict) else path,
                     f"a {what} is a name or {{type: Name, ...}}, received "
                     f"{type_name(name)}: {name!r}")
        return False
    if "." in name or "/" in name or ":" in name:
        problems.add(key_path(path, "type") if isinstance(value, dict) else path,
                     f"'{name}' looks like a module path; a spec names registered Keras "
                     f"{what}s only and never imports code")
        return False
    return True


def check_layer(layer: object, path: str, problems: Problems) -> bool:
    """A layer is a mapping ``{type: Name, **arguments}``; returns whether it is well formed."""
    if isinstance(layer, str):
        problems.add(path, f"a layer is a mapping like {{type: {layer}, ...}}, received the "
                     f"string {layer!r}")
        return False
    return mapping_or_none(layer, path, problems) is not None and \
        check_component(layer, path, problems, what="layer")


def boolean(value: object, path: str, problems: Problems) -> object:
    if not isinstance(value, bool):
        problems.add(path, f"expected true or false, received {type_name(value)}: {value!r}")
    return value


