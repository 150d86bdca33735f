"""Pass 1 of validation: the spec's structure (sections, keys, types), with defaults filled in.

Only dlkit's own keys are described here. What a Keras layer, optimizer or loss accepts is not
restated: pass 2 (`dlkit._plan.resolver`) asks Keras itself.
"""

from __future__ import annotations

import math
import re
from typing import Any

from dlkit._core.errors import Problems, did_you_mean

DATA_SOURCES = ("digits", "moons", "spirals", "sine", "npz", "csv")
STRATEGIES = ("auto", "cpu", "gpu", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# Keys of Keras' own serialization format: a spec never carries them, since with "module"
# Keras' deserializer may import code.
SERIALIZATION_KEYS = ("class_name", "module", "registered_name")

TOP_KEYS = ("name", "seed", "deterministic", "data", "model", "compile", "train", "callbacks",
            "runtime")
DATA_KEYS = ("source", "path", "target", "validation_split", "samples", "noise")
MODEL_KEYS = ("input_shape", "layers", "regularization")
COMPILE_KEYS = ("optimizer", "loss", "metrics")
TRAIN_KEYS = ("epochs", "batch_size", "shuffle")
# Each callback is off (false) or a mapping of its settings; these are the defaults.
CALLBACK_DEFAULTS = {
    "early_stopping": False, "tensorboard": {}, "checkpoint": False,
    "reduce_lr_on_plateau": False, "csv_logger": False, "terminate_on_nan": {}, "backup": {},
    "overfitting": {},
}
CALLBACK_KEYS = tuple(CALLBACK_DEFAULTS)
RUNTIME_KEYS = ("strategy", "precision", "steps_per_execution", "peer_timeout")
# Seconds a multi_worker process waits for its peers before it gives up with a message.
PEER_TIMEOUT = 120


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


def check_schema(raw: dict, default_name: str, problems: Problems) -> dict:
    """Checks the spec's structure and returns it with every default filled in."""
    check_keys(raw, TOP_KEYS, "", problems)
    check_plain(raw, "", problems)
    return {
        "name": _name(raw.get("name", default_name), problems),
        "seed": _seed(raw.get("seed"), problems),
        "deterministic": _boolean(raw.get("deterministic", False), "deterministic", problems),
        "data": _data(raw.get("data"), problems),
        "model": _model(raw.get("model"), problems),
        "compile": _compile(raw.get("compile"), problems),
        "train": _train(raw.get("train", {}), problems),
        "callbacks": _callbacks(raw.get("callbacks", {}), problems),
        "runtime": _runtime(raw.get("runtime", {}), problems),
    }


def _name(value: object, problems: Problems) -> object:
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        problems.add("name", "a run name is 1-100 letters, digits, '.', '_' or '-', starting "
                     f"with a letter or digit; received {value!r}")
    return value


def _seed(value: object, problems: Problems) -> object:
    if value is not None and not (is_int(value) and 0 <= value < 2**32):
        problems.add("seed", f"expected an integer in [0, 2**32) or null, received {value!r}")
    return value


def _boolean(value: object, path: str, problems: Problems) -> object:
    if not isinstance(value, bool):
        problems.add(path, f"expected true or false, received {type_name(value)}: {value!r}")
    return value


def _data(value: object, problems: Problems) -> dict | None:
    if value is None:
        return None
    data = mapping_or_none(value, "data", problems)
    if data is None:
        return value  # type: ignore[return-value]
    check_keys(data, DATA_KEYS, "data", problems)
    data = {"validation_split": 0.2, **data}
    source = data.get("source")
    if not (source in DATA_SOURCES or (isinstance(source, str) and source.startswith("keras:")
                                       and len(source) > 6)):
        problems.add("data.source", f"unknown data source {source!r}"
                     f"{did_you_mean(source, DATA_SOURCES)}; expected one of "
                     f"{', '.join(DATA_SOURCES)} or keras:<dataset> (e.g. keras:mnist)")
    elif source in ("npz", "csv") and not isinstance(data.get("path"), str):
        problems.add("data.path", f"source {source} needs a path to its .{source} file")
    if source == "csv" and not isinstance(data.get("target"), str):
        problems.add("data.target", "a csv source needs its target column, like target: label")
    split = data["validation_split"]
    if split is not None and not (is_number(split) and 0 < split < 1):
        problems.add("data.validation_split", "expected a fraction strictly between 0 and 1 (or "
                     f"null for no validation), received {split!r}")
    for key in ("path", "target"):
        if key in data and not isinstance(data[key], str):
            problems.add(f"data.{key}", f"expected a string, received {data[key]!r}")
    if "samples" in data and not (is_int(data["samples"]) and 0 < data["samples"] <= 10**7):
        problems.add("data.samples", f"expected a positive integer, received {data['samples']!r}")
    if "noise" in data and not (is_number(data["noise"]) and data["noise"] >= 0):
        problems.add("data.noise", f"expected a number >= 0, received {data['noise']!r}")
    return data


def _model(value: object, problems: Problems) -> object:
    if value is None:
        problems.add("model", "missing: a spec needs a model section with input_shape and layers")
        return None
    model = mapping_or_none(value, "model", problems)
    if model is None:
        return value
    check_keys(model, MODEL_KEYS, "model", problems)
    shape = model.get("input_shape")
    if not (isinstance(shape, list) and shape
            and all(d is None or (is_int(d) and 0 < d <= 10**7) for d in shape)):
        problems.add("model.input_shape", "expected a non-empty list of positive integers (null "
                     f"for a dimension of any size), like [8, 8, 1]; received {shape!r}")
    layers = model.get("layers")
    if not isinstance(layers, list) or not layers:
        problems.add("model.layers", f"expected a non-empty list of layers, received {layers!r}")
    else:
        for index, layer in enumerate(layers):
            path = key_path("model.layers", index)
            if isinstance(layer, str):
                problems.add(path, f"a layer is a mapping like {{type: {layer}, ...}}, received "
                             f"the string {layer!r}")
            elif mapping_or_none(layer, path, problems) is not None:
                check_component(layer, path, problems, what="layer")
    regularization = model.get("regularization")
    if regularization is not None and mapping_or_none(
            regularization, "model.regularization", problems) is not None:
        if "type" not in regularization:
            check_keys(regularization, ("l1", "l2"), "model.regularization", problems)
            if not regularization:
                problems.add("model.regularization", "give a strength, like {l2: 1.0e-4}")
    return {"input_shape": shape, "layers": layers, "regularization": regularization}


def _compile(value: object, problems: Problems) -> object:
    if value is None:
        problems.add("compile", "missing: a spec needs a compile section with at least a loss")
        return None
    section = mapping_or_none(value, "compile", problems)
    if section is None:
        return value
    check_keys(section, COMPILE_KEYS, "compile", problems)
    section = {"optimizer": "adam", "metrics": [], **section}
    if "loss" not in section:
        problems.add("compile.loss", "missing: name a loss, like mse or "
                     "sparse_categorical_crossentropy")
    else:
        check_component(section["loss"], "compile.loss", problems, what="loss")
    check_component(section["optimizer"], "compile.optimizer", problems, what="optimizer")
    metrics = section["metrics"]
    if not isinstance(metrics, list):
        problems.add("compile.metrics", f"expected a list, like [accuracy]; received {metrics!r}")
    else:
        for index, metric in enumerate(metrics):
            check_component(metric, key_path("compile.metrics", index), problems, what="metric")
    return section


def _train(value: object, problems: Problems) -> object:
    section = mapping_or_none(value, "train", problems)
    if section is None:
        return value
    check_keys(section, TRAIN_KEYS, "train", problems)
    section = {"epochs": 10, "batch_size": 32, "shuffle": True, **section}
    epochs, batch = section["epochs"], section["batch_size"]
    if not (is_int(epochs) and 0 < epochs <= 10**6):
        problems.add("train.epochs", f"expected a positive integer, received {epochs!r}")
    if not (batch == "full" or (is_int(batch) and 0 < batch <= 10**8)):
        problems.add("train.batch_size", "expected a positive integer (1 for stochastic gradient "
                     f"descent) or \"full\" (batch gradient descent), received {batch!r}")
    _boolean(section["shuffle"], "train.shuffle", problems)
    return section


def _callbacks(value: object, problems: Problems) -> object:
    section = mapping_or_none(value, "callbacks", problems)
    if section is None:
        return value
    check_keys(section, CALLBACK_KEYS, "callbacks", problems)
    section = {**CALLBACK_DEFAULTS, **section}
    for key in CALLBACK_KEYS:
        setting = section[key]
        if setting is True:
            section[key] = {}
        elif setting is not False and not isinstance(setting, dict):
            problems.add(f"callbacks.{key}", "expected a mapping of settings, true or false; "
                         f"received {setting!r}")
    return section


def _runtime(value: object, problems: Problems) -> object:
    section = mapping_or_none(value, "runtime", problems)
    if section is None:
        return value
    check_keys(section, RUNTIME_KEYS, "runtime", problems)
    section = {"strategy": "auto", "precision": "auto", "steps_per_execution": "auto",
               "peer_timeout": PEER_TIMEOUT, **section}
    for key, allowed in (("strategy", STRATEGIES), ("precision", PRECISIONS)):
        if section[key] not in allowed:
            problems.add(f"runtime.{key}", f"expected one of {', '.join(allowed)}; received "
                         f"{section[key]!r}{did_you_mean(section[key], allowed)}")
    steps = section["steps_per_execution"]
    if not (steps == "auto" or (is_int(steps) and 0 < steps <= 10**6)):
        problems.add("runtime.steps_per_execution", "expected auto or a positive integer (how "
                     f"many batches one call into TensorFlow runs), received {steps!r}")
    timeout = section["peer_timeout"]
    if not (is_number(timeout) and 0 < timeout <= 86400):
        problems.add("runtime.peer_timeout", "expected seconds to wait for the other workers, "
                     f"more than 0 and at most 86400, received {timeout!r}")
    return section
