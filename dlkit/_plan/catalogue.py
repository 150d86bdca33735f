"""What a spec may name: every layer type and component name the resolver accepts, by kind.

For the JSON Schema of the spec format (`dlkit._schema`): it lists these names, and the
arguments of each class, without a table of its own. Each candidate name (Keras' registry
tables, `dlkit._compat.registry`, and the objects registered with
`keras.saving.register_keras_serializable`) is put to `Resolver` itself, written alone and as
``{type: Name}``, so the lists are exactly what validation accepts.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import Any

import keras

from dlkit._compat.registry import BASE_NAMES, registry_names
from dlkit._core.errors import Problems
from dlkit._plan.parts import Part
from dlkit._plan.registry import activation_layer_names, public_names, random_state_kept
from dlkit._plan.resolver import (COMPILE_METRIC_NAMES, Resolver, known_layers,
                                  penalty_strengths, schedule_names)
from dlkit._plan.shapes import scratch_graph

# Component kinds in the order the schema lists them: kind -> (namespace, the base class of
# its registered classes; None: activations, whose classes are Keras' activation layers).
KINDS: dict[str, tuple[ModuleType, type | None]] = {
    "activation": (keras.activations, None),
    "initializer": (keras.initializers, keras.initializers.Initializer),
    "regularizer": (keras.regularizers, keras.regularizers.Regularizer),
    "constraint": (keras.constraints, keras.constraints.Constraint),
    "loss": (keras.losses, keras.losses.Loss),
    "metric": (keras.metrics, keras.metrics.Metric),
    "optimizer": (keras.optimizers, keras.optimizers.Optimizer),
    "schedule": (keras.optimizers.schedules,
                 keras.optimizers.schedules.LearningRateSchedule),
}
# Kinds whose `get` also takes a plain function.
FUNCTION_KINDS = ("activation", "loss", "metric")


@dataclass(frozen=True)
class Names:
    """The names a spec may give one kind of component.

    Attributes:
        kind: ``activation``, ``initializer``, ``regularizer``, ``constraint``, ``loss``,
            ``metric``, ``optimizer`` or ``schedule``.
        bare: names written alone (``relu``, ``mse``, ``adam``).
        classes: names written ``{type: Name, **arguments}``, each with the class whose
            constructor arguments it takes (``adam`` and ``Adam`` both give `keras.optimizers.Adam`).
        plain: names written ``{type: Name}`` that take no arguments (functions).
        strengths: penalties that must state a strength, with the strengths they take.
    """

    kind: str
    bare: tuple[str, ...]
    classes: Mapping[str, type]
    plain: tuple[str, ...]
    strengths: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def layer_types() -> dict[str, type]:
    """Every layer type a spec may name, with its class."""
    return known_layers()


def component_names() -> dict[str, Names]:
    """The names of every kind of component, as the resolver accepts them; asking leaves no
    weights allocated and the random state as it was (as validation does)."""
    with random_state_kept(), scratch_graph():
        return {kind: _names(kind) for kind in KINDS}


def _names(kind: str) -> Names:
    resolve = _resolving(kind)
    bare, classes, plain = [], {}, []
    for name in _candidates(kind):
        if resolve(name) is not None:
            bare.append(name)
        made = resolve({"type": name, **{s: 0.0 for s in penalty_strengths(name)}})
        if isinstance(made, Part):
            classes[name] = made.cls
        elif made is not None:
            plain.append(name)
    strengths = {n: penalty_strengths(n) for n in classes if penalty_strengths(n)}
    return Names(kind, tuple(bare), MappingProxyType(classes), tuple(plain),
                 MappingProxyType(strengths))


def _resolving(kind: str) -> Callable[[Any], Any]:
    """The resolver's own method for one kind; its problems are dropped (a name it refuses is
    simply not listed)."""
    def resolve(value: Any) -> Any:
        resolver = Resolver(Problems())
        if kind in ("initializer", "constraint"):
            return resolver.component(KINDS[kind][0], value, kind, what=kind)
        if kind == "regularizer" and isinstance(value, dict):
            return resolver.component(keras.regularizers, value, kind, what=kind)
        return getattr(resolver, kind)(value, kind)
    return resolve


def _candidates(kind: str) -> list[str]:
    """Names to put to the resolver: Keras' full tables and the registered objects."""
    module, base = KINDS[kind]
    if kind == "schedule":
        names = schedule_names()
    else:  # the full table, and the classes Keras exports (`{type: Adam}`)
        names = [*registry_names(module), *(
            n for n in public_names(module) if inspect.isclass(getattr(module, n))
            and n.lower() not in BASE_NAMES)]
    if kind == "activation":
        names += activation_layer_names()
    elif kind == "metric":
        names = [*COMPILE_METRIC_NAMES, *names]
    for name, obj in keras.saving.get_custom_objects().items():
        if (base is not None and inspect.isclass(obj) and issubclass(obj, base)) or \
                (inspect.isfunction(obj) and kind in FUNCTION_KINDS):
            names.append(name)
    return list(dict.fromkeys(names))
