"""What every reader shares: the batch it yields, and its interface."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


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

