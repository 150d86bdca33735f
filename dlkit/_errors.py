"""dlkit's exceptions, all in one place.

Hierarchy::

    DlkitError                 base of everything dlkit raises on purpose
    ├── SpecError (ValueError) a spec, or what it points to, is wrong; lists every problem
    │   └── DataError          the data a spec names cannot be loaded or does not fit the model
    └── TrainingError          training started but could not finish (NaN loss, ...)

`SpecError` and `DataError` are user mistakes: the CLI prints them without a traceback and
exits 2. `TrainingError` exits 1.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class DlkitError(Exception):
    """Base class of the errors dlkit raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem in a spec.

    Attributes:
        path: where in the spec, like ``model.layers[2].activation`` ("" for the whole spec).
        message: what is wrong and what to do, with a did-you-mean where one exists.
    """

    path: str
    message: str

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        return _one_line(text)


class SpecError(DlkitError, ValueError):
    """A spec has one or more problems; ``.errors`` lists every one of them."""

    def __init__(self, errors: Problem | Sequence[Problem]) -> None:
        self.errors: list[Problem] = [errors] if isinstance(errors, Problem) else list(errors)
        if not self.errors:
            raise ValueError("SpecError needs at least one problem")
        super().__init__(self._text())

    def _text(self) -> str:
        count = len(self.errors)
        head = "1 problem in the spec:" if count == 1 else f"{count} problems in the spec:"
        return "\n".join([head, *(f"  - {problem}" for problem in self.errors)])

    def __reduce__(self):  # keep errors when pickled across processes
        return (type(self), (self.errors,))


class DataError(SpecError):
    """The data a spec names cannot be loaded, or does not fit the model."""

    def _text(self) -> str:
        return "\n".join(["data problem:", *(f"  - {problem}" for problem in self.errors)])


class TrainingError(DlkitError):
    """Training started but could not finish."""


def _one_line(text: str) -> str:
    """Escapes line breaks and other control characters (a spec's strings are echoed back)."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def did_you_mean(name: object, candidates: Iterable[str]) -> str:
    """Returns `` (did you mean 'x'?)`` for the closest candidate, or ``""``."""
    if not isinstance(name, str):
        return ""
    by_lower: dict[str, list[str]] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), []).append(candidate)
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    if not close:
        return ""
    spellings = by_lower[close[0]]
    # Answer in the user's style: `adamm` -> adam, `Dnse` -> Dense.
    same_style = [s for s in spellings if s.islower() == name.islower()]
    return f" (did you mean '{(same_style or spellings)[0]}'?)"
