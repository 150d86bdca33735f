"""A spec's spaces as KerasTuner hyperparameters, and the oracle's values back as spec values.

Each space becomes one KerasTuner hyperparameter named by its spec path
(``model.layers[0].units``): ``int`` -> `Int`, ``float`` -> `Float`, ``bool`` -> `Boolean`,
``choice`` -> `Choice`. KerasTuner's `Choice` holds strings, or numbers of one type; a choice
of anything else (mappings like ``{type: SGD, momentum: 0.9}``, mixed types) is offered as the
values' one-line texts and mapped back. TensorBoard's hparams see the same values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keras_tuner.engine.hyperparameters import HyperParameters

from dlkit._spec.rules import is_int
from dlkit._spec.spaces import Space, flow

# Hyperparameters that are not spec values: KerasTuner's own (hyperband's rounds) and the
# search's identity, which workers read from the chief.
TUNER_PREFIX = "tuner/"
DLKIT_PREFIX = "dlkit/"
SEARCH_DIR = "dlkit/search"  # the search directory, relative to the log root
SPEC_DIGEST = "dlkit/spec"  # a fingerprint of the search spec: every worker must have the same


def choice_values(space: Space) -> list[Any]:
    """What KerasTuner and TensorBoard see for a choice: its values, or their texts."""
    values = list(space.values)
    if all(isinstance(v, str) for v in values) or all(is_int(v) for v in values) or \
            all(isinstance(v, float) for v in values):
        return values
    return [flow(value) for value in values]


def hyperparameters(spaces: tuple[Space, ...], fixed: Mapping[str, str]) -> HyperParameters:
    """KerasTuner's search space for `spaces`, with `fixed` values every trial carries."""
    hp = HyperParameters()
    for space in spaces:
        sampling = "log" if space.log else "linear"
        if space.kind == "int":
            hp.Int(space.path, space.low, space.high, step=space.step, sampling=sampling)
        elif space.kind == "float":
            hp.Float(space.path, space.low, space.high, step=space.step, sampling=sampling)
        elif space.kind == "bool":
            hp.Boolean(space.path)
        else:
            hp.Choice(space.path, choice_values(space))
    for name, value in fixed.items():
        hp.Fixed(name, value)
    return hp


def spec_values(spaces: tuple[Space, ...], chosen: Mapping[str, Any]) -> dict[str, Any]:
    """The oracle's values as spec values, keyed by spec path (a choice's text -> its value)."""
    values = {}
    for space in spaces:
        if space.path not in chosen:
            continue
        value = chosen[space.path]
        if space.kind == "choice":
            value = space.values[choice_values(space).index(value)]
        elif space.kind == "int":
            value = int(value)
        elif space.kind == "float":  # 12 digits: 0.1 * 3 is 0.3, not 0.30000000000000004
            value = float(f"{value:.12g}")
        values[space.path] = value
    return values


def board_value(space: Space, value: Any) -> bool | int | float | str:
    """The value TensorBoard's hparams show for `value` of `space`."""
    if space.kind == "choice":
        return choice_values(space)[list(space.values).index(value)]
    return value
