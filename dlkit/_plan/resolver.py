"""Pass 2 of validation: every name in a spec resolved through Keras' registries, once.

Each spec component (layer, activation, initializer, regularizer, constraint, loss, optimizer,
learning-rate schedule, metric) is a name or ``{type: Name, **kwargs}``. It resolves through
Keras' own public lookups (`keras.layers`, `keras.activations.get`, `keras.losses.get`, ...), and
keyword arguments are checked against the signature of the class Keras resolved, so nothing here
restates Keras' tables. The result is a `Part` (class and arguments) or the plain name Keras
takes; problems are collected, not raised, so that a spec's every mistake is reported at once.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Sequence
from types import ModuleType
from typing import Any

import keras

from dlkit._compat.registry import registry_names
from dlkit._core.errors import Problems, did_you_mean
from dlkit._plan.parts import Part
from dlkit._plan.registry import (accepted_arguments, activation_layer_names, layer_classes,
                                  public_names, random_state_kept, registered_layers)
from dlkit._spec.graph import Node
from dlkit._spec.instances import note_instance
from dlkit._spec.rules import check_component, key_path
from dlkit._spec.sections.compile import per_output

# Names that run arbitrary Python code, which a spec never does.
REFUSED_LAYERS = {
    "Lambda": "a Lambda layer runs arbitrary Python code; write a custom layer and register it "
              "with keras.saving.register_keras_serializable instead",
    "TFSMLayer": "a TFSMLayer loads and runs a SavedModel from disk; a spec never loads code",
}
# `model.compile` gives these metric names a meaning of its own (accuracy chosen from the loss).
COMPILE_METRIC_NAMES = ("accuracy", "acc", "crossentropy", "ce")
BARE_PENALTIES = ("l1", "l2", "l1l2", "l1_l2")
NESTED_LAYER_ARGS = ("layer", "backward_layer")
# The optimizer argument that may be a learning-rate schedule.
SCHEDULED_ARGUMENT = "learning_rate"


def known_layers() -> dict[str, type]:
    """Every layer type a spec may name: the public classes of `keras.layers` and the layers
    registered with `keras.saving.register_keras_serializable` (full and short names), less
    the refused ones."""
    return {name: cls for name, cls in {**registered_layers(), **layer_classes()}.items()
            if name not in REFUSED_LAYERS}


def argument_kind(key: str) -> str | None:
    """What a layer argument holds, from its name: ``activation``, ``initializer``,
    ``regularizer``, ``constraint``, ``layer`` (a nested layer spec), or None (a plain value)."""
    if key.endswith("activation"):
        return "activation"
    for suffix in ("initializer", "regularizer", "constraint"):
        if key.endswith(f"_{suffix}"):
            return suffix
    return "layer" if key in NESTED_LAYER_ARGS else None


def penalty_strengths(name: str) -> tuple[str, ...]:
    """The strengths a penalty named `name` must state (``L1L2``: l1 and/or l2), () for other
    regularizers: Keras would silently use a default."""
    if name.lower() not in BARE_PENALTIES:
        return ()
    return tuple(k for k in ("l1", "l2") if k in name.lower())


def schedule_names() -> list[str]:
    """The learning-rate schedules a spec may name (`keras.optimizers.schedules`)."""
    schedules = keras.optimizers.schedules
    return [n for n in public_names(schedules) if n != "LearningRateSchedule"]


class Resolver:
    """Turns spec components into parts, recording each problem with its spec path.

    A method returns a `Part` (or the name to hand Keras) or None after recording why.

    Example:
        >>> problems = Problems()
        >>> Resolver(problems).activation("relu", "model.layers[0].activation")
        'relu'
    """

    def __init__(self, problems: Problems, *, default_regularizer: Part | None = None) -> None:
        self.problems = problems
        self.default_regularizer = default_regularizer

    # -- layers -----------------------------------------------------------------------------

    def layer(self, spec: dict, path: str) -> Part | None:
        """``{type: Dense, units: 8, ...}`` -> the part that makes a `keras.layers.Dense`."""
        if not check_component(spec, path, self.problems, what="layer"):
            return None
        name = spec["type"]
        cls = self._layer_class(name, key_path(path, "type"))
        if cls is None:
            return None
        kwargs = {k: v for k, v in spec.items() if k != "type"}
        if not self._check_arguments(cls, kwargs, path, what=f"{name} layer"):
            return None
        resolved = {key: self._layer_argument(key, value, key_path(path, key))
                    for key, value in kwargs.items()}
        if any(v is None and kwargs[k] is not None for k, v in resolved.items()):
            return None
        if (self.default_regularizer is not None and "kernel_regularizer" not in kwargs
                and "kernel_regularizer" in accepted_arguments(cls)):
            resolved["kernel_regularizer"] = self.default_regularizer
        return Part.of(cls, resolved, path)

    def _layer_class(self, name: str, path: str) -> type | None:
        if name in REFUSED_LAYERS:
            self.problems.add(path, f"'{name}' is refused: {REFUSED_LAYERS[name]}")
            return None
        cls = known_layers().get(name)
        if cls is None:
            known = [*layer_classes(), *registered_layers()]
            self.problems.add(path, f"unknown layer type '{name}'{did_you_mean(name, known)}; a "
                              "layer is a class in keras.layers or one registered with "
                              "keras.saving.register_keras_serializable")
        return cls

    def _layer_argument(self, key: str, value: Any, path: str) -> Any:
        kind = argument_kind(key)
        if value is None or kind is None:
            return value
        if kind == "activation":
            return self.activation(value, path)
        if kind == "regularizer":
            return self.regularizer(value, path)
        if kind in ("initializer", "constraint"):
            return self.component(getattr(keras, f"{kind}s"), value, path, what=kind)
        if isinstance(value, dict):  # a nested layer
            return self.layer(value, path) if "type" in value else self._missing_type(path)
        return value

    def _missing_type(self, path: str) -> None:
        self.problems.add(path, "a nested layer needs a 'type' key, like {type: LSTM, units: 8}")

    # -- components -------------------------------------------------------------------------

    def activation(self, value: Any, path: str) -> Any:
        """A name (``relu``), an activation layer name, or ``{type: LeakyReLU, **kwargs}``."""
        if not check_component(value, path, self.problems, what="activation"):
            return None
        name, kwargs = (value["type"], _kwargs(value)) if isinstance(value, dict) else (value, {})
        if name in layer_classes() and ".activations." in layer_classes()[name].__module__:
            cls = layer_classes()[name]
            if not self._check_arguments(cls, kwargs, path, what=f"{name} activation"):
                return None
            return Part.of(cls, kwargs, path)
        try:
            with random_state_kept():
                keras.activations.get(name)
        except (ValueError, TypeError):
            known = [*registry_names(keras.activations), *activation_layer_names()]
            self.problems.add(path, f"unknown activation '{name}'{did_you_mean(name, known)}")
            return None
        if kwargs:
            self.problems.add(path, f"the activation function '{name}' takes no settings here; "
                              f"use its layer form, e.g. {{type: LeakyReLU, negative_slope: 0.1}}")
            return None
        return name

    def regularizer(self, value: Any, path: str) -> Any:
        """``{type: L2, l2: 1e-4}``; a bare ``l1``/``l2``/``l1l2`` name is refused."""
        if not check_component(value, path, self.problems, what="regularizer"):
            return None
        name = value["type"] if isinstance(value, dict) else value
        needed = penalty_strengths(name)
        if needed:
            kwargs = _kwargs(value) if isinstance(value, dict) else {}
            if not any(k in kwargs for k in needed):
                need = " and/or ".join(needed)
                self.problems.add(path, f"a penalty states its strength (Keras would silently use "
                                  f"a default): write {{type: {name.upper()}, {need}: 1.0e-4}}")
                return None
        return self.component(keras.regularizers, value, path, what="regularizer")

    def loss(self, value: Any, path: str) -> Any:
        return self.component(keras.losses, value, path, what="loss")

    def metric(self, value: Any, path: str) -> Any:
        if value in COMPILE_METRIC_NAMES:
            return value
        return self.component(keras.metrics, value, path, what="metric")

    def optimizer(self, value: Any, path: str) -> Part | None:
        """A name or ``{type: SGD, momentum: 0.9, learning_rate: <number or schedule>}``."""
        if isinstance(value, dict) and isinstance(value.get(SCHEDULED_ARGUMENT), (dict, str)):
            rate = self.schedule(value[SCHEDULED_ARGUMENT], key_path(path, SCHEDULED_ARGUMENT))
            if rate is None:
                return None
            value = {**value, SCHEDULED_ARGUMENT: rate}
        optimizer = self.component(keras.optimizers, value, path, what="optimizer")
        if isinstance(optimizer, str):  # a name: made as model.compile would make it
            with random_state_kept():
                return Part.of(type(keras.optimizers.get(optimizer)), {}, path)
        return optimizer

    def schedule(self, value: Any, path: str) -> Any:
        """A learning-rate schedule, ``{type: ExponentialDecay, **kwargs}``."""
        known = schedule_names()
        name = value.get("type") if isinstance(value, dict) else value
        if name not in known:
            self.problems.add(path, f"unknown learning-rate schedule {name!r}"
                              f"{did_you_mean(name, known)}; expected a number or "
                              f"{{type: Schedule, ...}} with one of: {', '.join(known)}")
            return None
        cls = getattr(keras.optimizers.schedules, name)
        kwargs = _kwargs(value) if isinstance(value, dict) else {}
        if not self._check_arguments(cls, kwargs, path, what=f"{name} schedule"):
            return None
        return Part.of(cls, kwargs, path)

    def component(self, module: ModuleType, value: Any, path: str, *, what: str) -> Any:
        """Resolves a name or ``{type: Name, **kwargs}`` through ``module.get``.

        A plain name is returned as it is (after checking that Keras knows it), so that Keras
        sees exactly what a hand-written script would pass; a mapping becomes an instance.
        """
        if not check_component(value, path, self.problems, what=what):
            return None
        name = value["type"] if isinstance(value, dict) else value
        exported = getattr(module, name, None)
        if isinstance(value, dict) and inspect.isclass(exported):
            found = exported  # a class, built below with the spec's arguments
        else:
            try:
                with random_state_kept():
                    found = module.get(name)
            except Exception:  # noqa: BLE001 - Keras raises several kinds for unknown names
                found = None
        if found is None:
            self.problems.add(path, f"unknown {what} '{name}'{_hint(name, registry_names(module))}")
            return None
        if not isinstance(value, dict):
            return name
        cls = found if inspect.isclass(found) else type(found)
        kwargs = _kwargs(value)
        if inspect.isfunction(found):
            if kwargs:
                self.problems.add(path, f"the {what} function '{name}' takes no settings; use its "
                                  f"class form{_hint(name, registry_names(module), classes=True)}")
                return None
            return name
        if not self._check_arguments(cls, kwargs, path, what=f"{name} {what}"):
            return None
        return Part.of(cls, kwargs, path)

    # -- shared -----------------------------------------------------------------------------

    def _check_arguments(self, cls: type, kwargs: dict, path: str, *, what: str) -> bool:
        accepted = accepted_arguments(cls)
        ok = True
        for key in kwargs:
            if key not in accepted:
                ok = False
                hint = did_you_mean(key, accepted)
                if key in ("input_shape", "input_dim", "batch_input_shape"):
                    hint = " (set model.input_shape instead)"
                self.problems.add(key_path(path, key), f"unknown argument '{key}' for {what}{hint}")
        return ok


def _kwargs(value: dict) -> dict:
    return {k: v for k, v in value.items() if k != "type"}


def _hint(name: str, known: Iterable[str], *, classes: bool = False) -> str:
    """A did-you-mean, plus the Glorot/Xavier naming note Keras users trip over."""
    known = [k for k in known if k[0].isupper()] if classes else list(known)
    if "xavier" in name.lower():
        return did_you_mean(name.lower().replace("xavier", "glorot"), known) + \
            " (Keras calls Xavier initialization Glorot)"
    return did_you_mean(name, known)


class ModelParts:
    """The parts one spec's model and compile sections resolve to."""

    def __init__(self, layers: list[Part], optimizer: Part | None, loss: Any,
                 metrics: list) -> None:
        self.layers, self.optimizer, self.loss, self.metrics = layers, optimizer, loss, metrics


def model_parts(spec: dict, problems: Problems, nodes: Sequence[Node] = ()) -> ModelParts:
    """Resolves every layer and compile setting of a structurally valid spec.

    Args:
        nodes: a graph model's nodes (blocks expanded, `dlkit._spec.graph`); their parts come
            in the same order. A stack model's layers are read from the spec.
    """
    model, compile_ = spec.get("model"), spec.get("compile")
    default = None
    if isinstance(model, dict) and isinstance(model.get("regularization"), dict):
        default = default_regularizer(model["regularization"], problems)
    resolver = Resolver(problems, default_regularizer=default)

    def sound(path: str) -> bool:  # skip what pass 1 already reported
        return problems.count_under(path) == 0

    layers = []
    for node in nodes:
        start = len(problems.items)
        layers.append(resolver.layer(dict(node.layer), node.path))
        note_instance(problems, start, node.instance)
    if isinstance(model, dict) and isinstance(model.get("layers"), list):
        for index, layer in enumerate(model["layers"]):
            path = key_path("model.layers", index)
            if isinstance(layer, dict) and sound(path):
                layers.append(resolver.layer(layer, path))
    optimizer = loss = None
    metrics: list | dict = []
    if isinstance(compile_, dict):
        if sound("compile.optimizer"):
            optimizer = resolver.optimizer(compile_.get("optimizer"), "compile.optimizer")
        if "loss" in compile_ and per_output(compile_["loss"]):
            loss = {out: resolver.loss(value, key_path("compile.loss", out))
                    for out, value in compile_["loss"].items()
                    if sound(key_path("compile.loss", out))}
        elif "loss" in compile_ and sound("compile.loss"):
            loss = resolver.loss(compile_["loss"], "compile.loss")
        if isinstance(compile_.get("metrics"), dict):
            metrics = {out: _metrics(resolver, value, key_path("compile.metrics", out), sound)
                       for out, value in compile_["metrics"].items()}
        else:
            metrics = _metrics(resolver, compile_.get("metrics"), "compile.metrics", sound)
    return ModelParts(layers, optimizer, loss, metrics)


def _metrics(resolver: Resolver, metrics: object, path: str, sound: Callable[[str], bool]) -> list:
    if not isinstance(metrics, list):
        return []
    return [resolver.metric(m, key_path(path, i)) for i, m in enumerate(metrics)
            if sound(key_path(path, i))]


def default_regularizer(setting: dict, problems: Problems) -> Part | None:
    """`model.regularization` -> the part of the penalty every kernel without its own gets."""
    path = "model.regularization"
    if "type" in setting:
        return Resolver(problems).regularizer(setting, path)
    l1, l2 = setting.get("l1"), setting.get("l2")
    for key, value in (("l1", l1), ("l2", l2)):
        if value is not None and not (isinstance(value, (int, float)) and value >= 0):
            problems.add(key_path(path, key), f"expected a number >= 0, received {value!r}")
            return None
    if l1 is not None and l2 is not None:
        return Part.of(keras.regularizers.L1L2, {"l1": l1, "l2": l2}, path)
    if l1 is not None:
        return Part.of(keras.regularizers.L1, {"l1": l1}, path)
    if l2 is not None:
        return Part.of(keras.regularizers.L2, {"l2": l2}, path)
    return None


def loss_name(loss: Any) -> str:
    """The function name behind a loss (a name, or a made loss object): ``"mse"`` and
    ``MeanSquaredError()`` alike give ``mean_squared_error``."""
    if isinstance(loss, str):
        with random_state_kept():
            loss = keras.losses.get(loss)
    function = getattr(loss, "fn", loss)
    name = getattr(function, "__name__", type(loss).__name__)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() if name[:1].isupper() else name
