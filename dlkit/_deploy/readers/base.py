"""What every reader shares: the batch it yields, its interface, and finding files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


@dataclass
class Batch:
    """Model inputs for some samples, and what to call each row (file names), if anything."""

    inputs: dict[str, Any]
    ids: list[str] | None = None

    def __len__(self) -> int:
        return len(next(iter(self.inputs.values())))


class Reader(Protocol):
    """What `dlkit.predict` reads from."""

    count: int  # samples
    id_column: str | None  # the column naming each row (``file``), or None

    def batches(self, size: int) -> Iterator[Batch]: ...


def files_in(path: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """`path` itself, or the files with these suffixes under the folder `path`, sorted."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
