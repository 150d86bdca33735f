"""Transfer learning in pass 1: ``model.base`` (a pretrained start of the network) and
``train.fine_tune`` (a second phase that unfreezes it).

```yaml
model:
  input_shape: [32, 32, 3]
  base: {application: MobileNetV2, weights: imagenet, pooling: avg, trainable: false, alpha: 0.35}
  #  cache: true (default): while the base is frozen, its outputs are computed once and the
  #  head trains on them, when that is exactly the same training (dlkit._train.cached)
  #  or {path: runs/model.keras, until: features, trainable: false}
  layers: [{type: Dense, units: 5, activation: softmax}]
train:
  fine_tune: {unfreeze: all, learning_rate: 1.0e-5, epochs: 5}   # all | N | {from: layer}
```

Only dlkit's own keys are checked here. An application's other keyword arguments (``alpha``,
``minimalistic``, ...) are checked in pass 2 against the signature of the function Keras
resolves the name to; whether `until` and ``unfreeze: {from: ...}`` name real layers, and
whether an application accepts the input shape, once the base is made (`dlkit._plan.transfer`).
"""

from __future__ import annotations

from dlkit._core.errors import Problems, did_you_mean
from dlkit._spec.rules import (boolean, check_keys, is_int, is_number, key_path,
                               mapping_or_none, type_name)

BASE_NAME = "base"  # the base's Keras layer name, and what graph nodes call its output
COMMON_KEYS = ("trainable", "inputs", "cache")
APPLICATION_KEYS = ("application", "weights", "pooling", *COMMON_KEYS)
SAVED_KEYS = ("path", "until", *COMMON_KEYS)
POOLINGS = (None, "avg", "max")
FINE_TUNE_KEYS = ("unfreeze", "learning_rate", "epochs")
FINE_TUNE_DEFAULTS = {"unfreeze": "all", "learning_rate": 1.0e-5, "epochs": 5}
PATH = "model.base"


def check_base(value: object, graph_inputs: list[str] | None, problems: Problems) -> object:
    """Checks ``model.base``; returns it with defaults filled in.

    Args:
        graph_inputs: a graph model's input names (the base takes one of them), or None for
            a stack of layers.
    """
    base = mapping_or_none(value, PATH, problems)
    if base is None:
        return value
    if ("application" in base) == ("path" in base):
        problems.add(PATH, "a base is either {application: <a keras.applications model>, "
                     "weights: imagenet, ...} or {path: <a saved .keras model>, until: "
                     "<layer>}; give exactly one of application and path")
        return base
    _check_inputs(base.get("inputs"), graph_inputs, problems)
    common = {"trainable": True, "cache": True}
    if "path" in base:
        check_keys(base, SAVED_KEYS, PATH, problems)
        base = {"path": base["path"], "until": None, **common, **base}
        _text(base["path"], "path", "the path of a saved .keras model", problems)
        if base["until"] is not None:
            _text(base["until"], "until", "the name of a layer of the saved model", problems)
    else:  # other keys are the application's own arguments, checked in pass 2
        base = {"application": base["application"], "weights": "imagenet", "pooling": None,
                **common, **base}
        _text(base["application"], "application", "a keras.applications model name, like "
              "MobileNetV2", problems)
        _weights(base["weights"], problems)
        if base["pooling"] not in POOLINGS:
            problems.add(key_path(PATH, "pooling"), "expected avg, max or null (the "
                         f"application's last feature map as it is), received {base['pooling']!r}")
    boolean(base["trainable"], key_path(PATH, "trainable"), problems)
    boolean(base["cache"], key_path(PATH, "cache"), problems)
    return base


def application_arguments(base: dict) -> dict:
    """The keyword arguments a spec gives an application beyond dlkit's own keys."""
    return {k: v for k, v in base.items() if k not in APPLICATION_KEYS}


def _text(value: object, key: str, what: str, problems: Problems) -> None:
    if not isinstance(value, str) or not value:
        problems.add(key_path(PATH, key), f"expected {what}, received {type_name(value)}: "
                     f"{value!r}")


def _weights(value: object, problems: Problems) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        problems.add(key_path(PATH, "weights"), "expected imagenet, null (random weights) or "
                     f"the path of a weights file; received {type_name(value)}: {value!r}")


def _check_inputs(value: object, graph_inputs: list[str] | None, problems: Problems) -> None:
    """A graph's base names the model input it takes (needed when there are several)."""
    path = key_path(PATH, "inputs")
    if graph_inputs is None:
        if value is not None:
            problems.add(path, "only a graph model names the input its base takes; a stack's "
                         "base takes model.input_shape")
        return
    if value is None:
        if len(graph_inputs) > 1:
            problems.add(path, f"missing: name the model input the base takes, one of "
                         f"{', '.join(graph_inputs)}")
    elif value not in graph_inputs:
        problems.add(path, f"unknown input {value!r}{did_you_mean(value, graph_inputs)}; the "
                     f"model's inputs: {', '.join(graph_inputs) or 'none'}")


def check_fine_tune(value: object, problems: Problems) -> object:
    """Checks ``train.fine_tune``; returns it with defaults filled in."""
    path = "train.fine_tune"
    section = mapping_or_none(value, path, problems)
    if section is None:
        return value
    check_keys(section, FINE_TUNE_KEYS, path, problems)
    section = {**FINE_TUNE_DEFAULTS, **section}
    unfreeze, rate, epochs = section["unfreeze"], section["learning_rate"], section["epochs"]
    if not (unfreeze == "all" or (is_int(unfreeze) and unfreeze > 0) or _from_layer(unfreeze)):
        problems.add(key_path(path, "unfreeze"), "expected all, a number N of layers (the top "
                     "N layers of the base train) or {from: <layer name>} (that layer and "
                     f"those above it train); received {unfreeze!r}")
    if not (is_number(rate) and rate > 0):
        problems.add(key_path(path, "learning_rate"), "expected a positive number (fine-tuning "
                     f"usually takes a small one, like 1.0e-5), received {rate!r}")
    if not (is_int(epochs) and 0 < epochs <= 10**6):
        problems.add(key_path(path, "epochs"), f"expected a positive integer, received {epochs!r}")
    return section


def _from_layer(value: object) -> bool:
    return isinstance(value, dict) and list(value) == ["from"] and isinstance(value["from"], str)


def check_transfer(spec: dict, problems: Problems) -> None:
    """Fine-tuning needs a base, and one that is frozen until then."""
    model, train = spec.get("model"), spec.get("train")
    fine_tune = train.get("fine_tune") if isinstance(train, dict) else None
    if fine_tune is None:
        return
    base = model.get("base") if isinstance(model, dict) else None
    if base is None:
        problems.add("train.fine_tune", "fine-tuning unfreezes a pretrained base, but the model "
                     "has none: add model.base (an application or a saved model) or remove "
                     "train.fine_tune")
    elif isinstance(base, dict) and base.get("trainable") is True:
        problems.add("train.fine_tune", "the base trains from the start (model.base.trainable "
                     "is true), so there is nothing to unfreeze: set model.base.trainable: "
                     "false to train the head first and fine-tune after, or remove "
                     "train.fine_tune")


def base_warnings(model: dict, warnings: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A graph's reach warnings, less the one for the input its base takes when the base's
    output is used (the wiring check sees the base as a source of its own)."""
    base = model.get("base")
    inputs = [str(n) for n in model["inputs"]] if isinstance(model.get("inputs"), dict) else []
    if not isinstance(base, dict) or any(path == PATH for path, _ in warnings):
        return warnings
    taken = base.get("inputs", inputs[0] if len(inputs) == 1 else None)
    return [w for w in warnings if w[0] != key_path("model.inputs", str(taken))]
