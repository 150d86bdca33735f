"""A saved ``.keras`` model as a base: its architecture read in safe mode, cut at a layer.

Validation reads only the file's ``config.json`` and makes the model from it inside the
scratch graph (`dlkit._plan.shapes.scratch_graph`): its layers' names and shapes are known
before any weight is read. `dlkit.build` loads the whole file (`dlkit.load_model`, safe mode)
and cuts it with the same `cut`.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras

import dlkit._data.encoding  # noqa: F401 - registers FillMissing, which table models hold
from dlkit._core.errors import Problems, did_you_mean, first_line
from dlkit._spec.rules import key_path
from dlkit._spec.sections.base import BASE_NAME, PATH


def read_architecture(path: str, problems: Problems) -> keras.Model | None:
    """The saved model at `path`, made from its config in safe mode, without its weights
    (call inside a scratch graph); None after recording why it cannot be."""
    where = key_path(PATH, "path")
    file = Path(path)
    if not file.is_file():
        problems.add(where, f"no such file: {path} (a saved .keras model, like a run's "
                     "model.keras)")
        return None
    try:
        with zipfile.ZipFile(file) as archive:
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        problems.add(where, f"{path} is not a readable .keras file ({first_line(exc)})")
        return None
    config["compile_config"] = None
    try:
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises several kinds for refused configs
        problems.add(where, f"{path} is refused in safe mode ({type(exc).__name__}: "
                     f"{first_line(exc)[:300]}); a model file may only name Keras objects and "
                     "ones registered with keras.saving.register_keras_serializable")
        return None
    if not isinstance(model, keras.Model) or len(model.inputs) != 1:
        problems.add(where, f"{path} is not a model of one input; a base takes one input")
        return None
    return model


def layer_names(model: keras.Model) -> list[str]:
    """A model's layers by name, in order, its inputs left out."""
    return [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def check_until(model: keras.Model, until: str | None, path: str, problems: Problems) -> bool:
    """`until` names a layer of the saved model at `path` whose output can end the base."""
    if until is None:
        if len(model.outputs) != 1:
            problems.add(key_path(PATH, "until"), f"{path} has {len(model.outputs)} outputs; "
                         "name the layer whose output ends the base")
            return False
        return True
    names = layer_names(model)
    if until not in names:
        problems.add(key_path(PATH, "until"), f"{path} has no layer '{until}'"
                     f"{did_you_mean(until, names)}; its layers: {_listed(names)}")
        return False
    return True


def cut(model: keras.Model, until: str | None) -> keras.Model:
    """The model from its input to the output of layer `until` (or its own output), named
    like the base. The layers are the model's own: their weights come along."""
    output = model.outputs[0] if until is None else model.get_layer(until).output
    return keras.Model(model.inputs[0], output, name=BASE_NAME)


def _listed(names: list[str], most: int = 12) -> str:
    shown = ", ".join(names[-most:])
    return shown if len(names) <= most else f"... {shown} (the last {most} of {len(names)})"
