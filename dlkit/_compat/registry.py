"""Keras' full name tables, for did-you-mean (read-only).

No public API: Keras' public namespaces (`keras.losses`, ...) do not export the short aliases
their ``get`` accepts (``mse``, ``kld``, ``adam``), so did-you-mean would never offer them.
Keras keeps the full table as ``ALL_OBJECTS_DICT`` in each ``keras.src`` package. Checked on:
Keras 3.0-3.15.1. Where it is missing, the public names serve. Test:
``tests/test_compat.py::test_registry_names_include_the_aliases`` fails when the table moves.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

# Base classes every registry lists; never a sensible suggestion.
BASE_NAMES = {"loss", "lossfunctionwrapper", "metric", "meanmetricwrapper", "optimizer",
          "regularizer", "initializer", "constraint", "optimizermap", "multioptimizer",
          "lossscaleoptimizer"}


@cache
def registry_names(module: ModuleType) -> tuple[str, ...]:
    """Every name ``module.get`` resolves, for did-you-mean; `module` is e.g. `keras.losses`."""
    public = [n for n in dir(module) if not n.startswith("_")
              and n not in ("get", "serialize", "deserialize")]
    try:
        table = importlib.import_module(f"keras.src.{module.__name__.rsplit('.', 1)[-1]}")
        names = list(getattr(table, "ALL_OBJECTS_DICT", {})) or public
    except ImportError:
        names = public
    return tuple(n for n in names if n.lower() not in BASE_NAMES)
