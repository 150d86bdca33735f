"""dlkit: declarative specs compiled to plain Keras models, trained with honest defaults.

Importing dlkit is cheap: TensorFlow is imported only when a function that needs it runs.

The package is layered by pipeline stage; each stage imports only the stages before it
(``tests/test_layers.py`` checks it): `_core` (errors, files), `_compat` (every private
TensorFlow/Keras/TensorBoard API), `_spec` (spec text to sound structure), `_runtime`
(strategies, precision), `_data` (sources, labels), `_callbacks` (dlkit's Keras callbacks),
`_plan` (names resolved into a `Plan`), `_model` (plan to compiled model), `_train` (fit and
the run directory), `_search` (search spaces tried on KerasTuner's oracles), `_analysis`
(loss landscapes, sharpness, diagnostics), `_deploy` (predict, export and serve a trained run),
`_cli` (the command).

Example:
    >>> import dlkit
    >>> spec = dlkit.load_spec("examples/digits_mlp.yaml")
    >>> run = dlkit.train(spec)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dlkit._core.errors import (BadFileWarning, ClusterError, DataError, DlkitError, ExportError,
                                ExtraMissingError, InitializationWarning, ModelFileError, Problem,
                                RunDirError, SpecError, SpecWarning, TrainingError)
from dlkit._spec.spec import Spec

if TYPE_CHECKING:
    from dlkit._analysis.run_landscape import landscape
    from dlkit._analysis.sharpness import sharpness
    from dlkit._analysis.spec_diagnose import diagnose
    from dlkit._deploy.export import export
    from dlkit._deploy.generate import sample
    from dlkit._deploy.predict import predict, predict_file
    from dlkit._deploy.scores import anomaly_scores, score_file
    from dlkit._deploy.serve.server import serve
    from dlkit._model.build import build
    from dlkit._model.saving import load_model
    from dlkit._plan.load import load_spec
    from dlkit._search.search import SearchResult, search
    from dlkit._search.spec import SearchSpec, load_search
    from dlkit._train.callbacks import callbacks
    from dlkit._train.train import Run, train

__version__ = "0.1.0"

__all__ = [
    "BadFileWarning",
    "ClusterError",
    "DataError",
    "DlkitError",
    "ExportError",
    "ExtraMissingError",
    "InitializationWarning",
    "ModelFileError",
    "Problem",
    "Run",
    "RunDirError",
    "SearchResult",
    "SearchSpec",
    "Spec",
    "SpecError",
    "SpecWarning",
    "TrainingError",
    "anomaly_scores",
    "build",
    "callbacks",
    "diagnose",
    "export",
    "landscape",
    "load_model",
    "load_search",
    "load_spec",
    "predict",
    "predict_file",
    "sample",
    "score_file",
    "search",
    "serve",
    "sharpness",
    "train",
]

_LAZY = {
    "anomaly_scores": ("dlkit._deploy.scores", "anomaly_scores"),
    "build": ("dlkit._model.build", "build"),
    "callbacks": ("dlkit._train.callbacks", "callbacks"),
    "diagnose": ("dlkit._analysis.spec_diagnose", "diagnose"),
    "export": ("dlkit._deploy.export", "export"),
    "landscape": ("dlkit._analysis.run_landscape", "landscape"),
    "predict": ("dlkit._deploy.predict", "predict"),
    "predict_file": ("dlkit._deploy.predict", "predict_file"),
    "sample": ("dlkit._deploy.generate", "sample"),
    "score_file": ("dlkit._deploy.scores", "score_file"),
    "serve": ("dlkit._deploy.serve.server", "serve"),
    "load_model": ("dlkit._model.saving", "load_model"),
    "load_search": ("dlkit._search.spec", "load_search"),
    "load_spec": ("dlkit._plan.load", "load_spec"),
    "SearchResult": ("dlkit._search.search", "SearchResult"),
    "SearchSpec": ("dlkit._search.spec", "SearchSpec"),
    "search": ("dlkit._search.search", "search"),
    "sharpness": ("dlkit._analysis.sharpness", "sharpness"),
    "train": ("dlkit._train.train", "train"),
    "Run": ("dlkit._train.train", "Run"),
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
