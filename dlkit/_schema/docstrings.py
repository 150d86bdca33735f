"""What Keras' docstrings say: a class's first line, its ``Args:`` section, and the type an
argument's description starts with (``units: Positive integer, ...``).

Keras writes Google-style docstrings; where one says nothing readable, nothing is claimed.
"""

from __future__ import annotations

import inspect
import re
from functools import cache

ARGS_HEADERS = ("Args:", "Arguments:")
ENTRY = re.compile(r"^(\s*)\*{0,2}([A-Za-z_]\w*)(?:\s*\([^)]*\))?:\s*(.*)$")
LONGEST = 200  # characters of an argument's description kept
# The type words a description may start with, as JSON Schema; "positive" ones have minimum 1.
TYPE_WORDS = {
    "int": {"type": "integer"}, "integer": {"type": "integer"},
    "float": {"type": "number"}, "bool": {"type": "boolean"}, "boolean": {"type": "boolean"},
    "str": {"type": "string"}, "string": {"type": "string"}, "none": {"type": "null"},
}
PHRASE = re.compile(r"^(?:an? |the |optional )?(?:(positive|non-negative|strictly positive) )?"
                    r"`?(int|integer|float|bool|boolean|str|string|none)s?`?(?!\w)(?:\s+(\S+))?",
                    re.I)
INTEGER_LIST = re.compile(r"^(?:an? )?(?:tuple|list|tuple/list|list/tuple)(?: of)?"
                          r"(?: \d+| two| three)? (?:int|integer)s?$", re.I)
# A word after a type word that makes it something else: "float tensor", "int or ...".
NOT_A_TYPE = {"tensor", "tensors", "array", "arrays", "tuple", "tuples", "list", "lists", "of",
              "vector", "matrix", "shape", "dtype", "or", "and", "keras", "instance", "object"}


def summary(cls: type) -> str:
    """The first line of a class's docstring (Keras': "Just your regular densely-connected NN
    layer."), or "" when it has none."""
    lines = inspect.cleandoc(cls.__doc__ or "").splitlines()
    return next((line.strip() for line in lines if line.strip()), "")


@cache
def argument_docs(cls: type) -> dict[str, str]:
    """Each constructor argument's description, from the ``Args:`` sections of `cls` and its
    bases (the nearest class that describes an argument wins)."""
    found: dict[str, str] = {}
    for klass in cls.__mro__:
        if klass is object:
            continue
        init = klass.__dict__.get("__init__")
        for doc in (klass.__dict__.get("__doc__"), getattr(init, "__doc__", None)):
            for name, text in parse_args(doc or "").items():
                found.setdefault(name, text)
    return found


def parse_args(doc: str) -> dict[str, str]:
    """The entries of a Google-style ``Args:`` section, each as one line of text."""
    lines = inspect.cleandoc(doc).splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() in ARGS_HEADERS]
    if not starts:
        return {}
    header = _indent(lines[starts[0]])
    entries: dict[str, list[str]] = {}
    current, width = None, None
    for line in lines[starts[0] + 1:]:
        if not line.strip():
            continue
        indent = _indent(line)
        if indent <= header:
            break
        match = ENTRY.match(line)
        if match and (width is None or indent == width):
            width, current = indent, match.group(2)
            entries[current] = [match.group(3)]
        elif current is not None and indent > (width or 0):
            entries[current].append(line.strip())
    return {name: " ".join(" ".join(parts).split()) for name, parts in entries.items()}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def brief(text: str) -> str:
    """An argument's description cut short: its first sentences up to about 200 characters,
    without the "Defaults to ..." ones (the schema states defaults itself)."""
    kept = ""
    for sentence in re.split(r"(?<=\.)\s+(?=[A-Z`])", text):
        if sentence.startswith(("Defaults to", "Default to", "Default:")):
            continue
        if kept and len(kept) + len(sentence) > LONGEST:
            break
        kept = f"{kept} {sentence}".strip()
        if len(kept) >= 60:
            break
    return kept if len(kept) <= LONGEST else kept[:LONGEST - 3].rstrip() + "..."


def stated_types(text: str) -> list[dict] | None:
    """The JSON Schema types an argument's description starts with, or None when it states
    none that can be read: ``Positive integer, ...`` gives ``[{"type": "integer", "minimum":
    1}]``; ``int or tuple/list of 2 integers`` gives an integer or a list of integers."""
    clause = re.split(r"[,.;:(]", text, maxsplit=1)[0].strip()
    if not clause:
        return None
    found = []
    for alternative in re.split(r"\s+or\s+", clause):
        alternative = re.sub(r"^(?:either|an?|the)\s+", "", alternative.strip(), flags=re.I)
        if INTEGER_LIST.match(alternative):
            found.append({"type": "array", "items": {"type": "integer"}})
            continue
        match = PHRASE.match(alternative)
        if not match or (match.group(3) or "").lower().strip("`") in NOT_A_TYPE:
            return None
        fragment = dict(TYPE_WORDS[match.group(2).lower()])
        if match.group(1) and fragment["type"] == "integer":
            fragment["minimum"] = 0 if match.group(1).lower() == "non-negative" else 1
        found.append(fragment)
    return found
