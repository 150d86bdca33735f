"""Pass 1 of validation: the spec's structure (sections, keys, types), with defaults filled in.

Each section has its module in `dlkit._spec.sections`; the rules they share are in
`dlkit._spec.rules`.
"""

from __future__ import annotations

import re

from dlkit._core.errors import Problems
from dlkit._spec.rules import boolean, check_keys, check_plain, is_int
from dlkit._spec.sections.callbacks import check_callbacks
from dlkit._spec.sections.compile import check_compile
from dlkit._spec.sections.data import check_data
from dlkit._spec.sections.kinds import check_kind_compile, model_kind
from dlkit._spec.sections.model import check_model
from dlkit._spec.sections.runtime import check_runtime
from dlkit._spec.sections.search import check_search
from dlkit._spec.sections.train import check_train

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
TOP_KEYS = ("name", "seed", "deterministic", "data", "model", "compile", "train", "callbacks",
            "runtime", "search")


def check_schema(raw: dict, default_name: str, problems: Problems) -> dict:
    """Checks the spec's structure and returns it with every default filled in."""
    check_keys(raw, TOP_KEYS, "", problems)
    check_plain(raw, "", problems)
    return {
        "name": _name(raw.get("name", default_name), problems),
        "seed": _seed(raw.get("seed"), problems),
        "deterministic": boolean(raw.get("deterministic", False), "deterministic", problems),
        "data": check_data(raw.get("data"), problems),
        "model": check_model(raw.get("model"), problems),
        "compile": _compile(raw.get("compile"), model_kind(raw.get("model")), problems),
        "train": check_train(raw.get("train", {}), problems),
        "callbacks": check_callbacks(raw.get("callbacks", {}), problems),
        "runtime": check_runtime(raw.get("runtime", {}), problems),
        **({"search": check_search(raw["search"], problems)} if "search" in raw else {}),
    }


def _compile(value: object, kind: str | None, problems: Problems) -> object:
    """A stack's or graph's compile section, or an autoencoder's, VAE's or GAN's."""
    if kind is None:  # an unknown model.kind: reported with the model
        return value
    if kind == "sequential":
        return check_compile(value, problems)
    return check_kind_compile(value, kind, problems)


def _name(value: object, problems: Problems) -> object:
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        problems.add("name", "a run name is 1-100 letters, digits, '.', '_' or '-', starting "
                     f"with a letter or digit; received {value!r}")
    return value


def _seed(value: object, problems: Problems) -> object:
    if value is not None and not (is_int(value) and 0 <= value < 2**32):
        problems.add("seed", f"expected an integer in [0, 2**32) or null, received {value!r}")
    return value
