"""dlkit's exceptions and warnings, all in one place.

Hierarchy::

    DlkitError                   base of everything dlkit raises on purpose
    ├── SpecError (ValueError)   the spec has problems; ``.errors`` lists every one, with paths
    │   └── DataError            the data a spec names cannot be loaded or does not fit the model
    ├── ClusterError             ``$TF_CONFIG`` is malformed, or this worker cannot take its place
    ├── ModelFileError           a saved model file is missing, unreadable, or refused (safe mode)
    ├── RunDirError              a run directory or its backup cannot be used (log root, --resume)
    ├── ExportError              a format cannot carry the model, or an export failed its check
    ├── ExtraMissingError (ImportError)  a command needs a package extra that is not installed
    └── TrainingError            training started but could not finish (NaN loss, lost workers)

Every class but `TrainingError` is a user's mistake: the CLI prints it without a traceback and
exits 2; `TrainingError` exits 1. Each message says what is wrong and what to do.

Warnings::

    SpecWarning (UserWarning)    legal, but likely not what was meant (a node that reaches no output)
    └── InitializationWarning    legal, but defeats learning (e.g. symmetric neurons)
    BadFileWarning (UserWarning) data files left out of training (``bad_files: skip``)
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
        return one_line(text)


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


class ClusterError(DlkitError):
    """``$TF_CONFIG`` is missing or malformed, or this worker cannot listen at its address."""


class ModelFileError(DlkitError):
    """A saved model file is missing, unreadable, or names code that safe mode refuses."""


class RunDirError(DlkitError):
    """A run directory or its backup cannot be used: an unwritable log root, nothing to
    ``--resume``, a spec that differs from the run's, or a corrupt backup."""


class ExportError(DlkitError):
    """A model cannot be exported to a format (a layer the format cannot carry, refused before
    converting), or an export does not compute what the model computes; nothing is left
    written."""


class ExtraMissingError(DlkitError, ImportError):
    """A command needs optional packages that are not installed; the message names the package
    extra to install, like ``pip install 'dlkit[export]'``."""


class TrainingError(DlkitError):
    """Training started but could not finish."""


class SpecWarning(UserWarning):
    """A spec is legal but likely not what was meant, e.g. a graph node that reaches no output."""


class InitializationWarning(SpecWarning):
    """A spec's initialization is legal but defeats learning (e.g. symmetric neurons)."""


class BadFileWarning(UserWarning):
    """Files that cannot be read are left out of training (``data.bad_files: skip``)."""


class Problems:
    """Collects every problem found, so that one `SpecError` can list them all."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(Problem(path, message))

    def count_under(self, prefix: str) -> int:
        """How many problems lie at `prefix` or inside it."""
        return sum(1 for p in self.items if p.path == prefix or p.path.startswith(prefix + ".")
                   or p.path.startswith(prefix + "["))


def one_line(text: str) -> str:
    """Escapes line breaks and other control characters (a spec's strings are echoed back)."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (Keras' messages run on for pages)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


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
