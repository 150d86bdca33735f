"""The optional packages that exporting and serving need, and the extra that installs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from dlkit._core.errors import ExtraMissingError

# What each extra of pyproject.toml brings, by import name.
EXTRAS = {
    "export": ("tf2onnx", "onnxruntime", "ai_edge_litert"),
    "serve": ("starlette", "uvicorn"),
}


def require(module: str, extra: str, *, purpose: str) -> ModuleType:
    """Imports `module`, or says which extra to install.

    Args:
        module: the import name, like ``onnxruntime``.
        extra: the dlkit extra that installs it, like ``export``.
        purpose: what needs it, for the message (``ONNX export``).

    Raises:
        ExtraMissingError: `module` is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ExtraMissingError(
            f"{purpose} needs the package {module.split('.')[0]!r}, which is not installed "
            f"({exc}); install dlkit's {extra!r} extra: pip install 'dlkit[{extra}]'") from None
