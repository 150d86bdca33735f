"""Writing files without ever leaving a torn one: temporary name, then an atomic rename."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def umask() -> int:
    """The process's umask, read without changing it where Linux shows it (changing it, even
    for a moment, would change what another thread creates meanwhile)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """What open() would give a new file (tempfile's are private, 0600, which would keep a
    run's files from a TensorBoard or a server run by another user)."""
    return 0o666 & ~umask()


def folder_mode() -> int:
    """What mkdir() would give a new folder (tempfile's are 0700)."""
    return 0o777 & ~umask()


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
        os.chmod(tmp, file_mode())
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
