"""Writing files without ever leaving a torn one: temporary name, then an atomic rename."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Calls ``write(tmp)`` on a temporary file beside `path`, then renames it into place.

    A reader never sees a half-written `path`: either the old file or the complete new one.
    """
    suffixes = "".join(path.suffixes)  # keep "x.weights.h5" whole: Keras checks the ending
    stem = path.name[: len(path.name) - len(suffixes)] if suffixes else path.name
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{stem}-", suffix=suffixes)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    write_atomic(path, lambda tmp: tmp.write_bytes(data))


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path: Path, default: Any = None) -> Any:
    """The JSON in `path`, or `default` when the file does not exist."""
    return json.loads(path.read_text()) if path.is_file() else default
