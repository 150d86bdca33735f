"""dlkit: declarative specs compiled to plain Keras models, trained with honest defaults.

Importing dlkit is cheap: TensorFlow is imported only when a function that needs it runs.

Example:
    >>> import dlkit
    >>> spec = dlkit.load_spec("examples/digits_mlp.yaml")
    >>> run = dlkit.train(spec)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dlkit._errors import DataError, DlkitError, Problem, SpecError, TrainingError
from dlkit._spec import InitializationWarning, Spec, load_spec

if TYPE_CHECKING:
    from dlkit._build import build
    from dlkit._callbacks import callbacks
    from dlkit._saving import load_model
    from dlkit._train import Run, train

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "DlkitError",
    "InitializationWarning",
    "Problem",
    "Run",
    "Spec",
    "SpecError",
    "TrainingError",
    "build",
    "callbacks",
    "load_model",
    "load_spec",
    "train",
]

_LAZY = {
    "build": ("dlkit._build", "build"),
    "callbacks": ("dlkit._callbacks", "callbacks"),
    "load_model": ("dlkit._saving", "load_model"),
    "train": ("dlkit._train", "train"),
    "Run": ("dlkit._train", "Run"),
}


def __getattr__(name: str) -> Any:
    """Imports the TensorFlow-backed parts of the API on first use."""
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dlkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
