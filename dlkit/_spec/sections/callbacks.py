"""The ``callbacks`` section: each callback off, or a mapping of its settings."""

from __future__ import annotations

from dlkit._core.errors import Problems
from dlkit._spec.rules import check_keys, mapping_or_none

# Each callback is off (false) or a mapping of its settings; these are the defaults.
CALLBACK_DEFAULTS = {
    "early_stopping": False, "tensorboard": {}, "checkpoint": False,
    "reduce_lr_on_plateau": False, "csv_logger": False, "terminate_on_nan": {}, "backup": {},
    "overfitting": {},
}
CALLBACK_KEYS = tuple(CALLBACK_DEFAULTS)


def check_callbacks(value: object, problems: Problems) -> object:
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
