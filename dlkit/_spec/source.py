"""Reading spec text: YAML (safe_load only) or JSON, into plain Python data."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import yaml

from dlkit._core.errors import Problem, SpecError

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


class _SpecLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that also reads ``1e-3`` as a float, as YAML 1.2 and JSON do.

    PyYAML follows YAML 1.1, where ``learning_rate: 1e-3`` is the *string* "1e-3".
    """


_SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def read_spec_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads a spec file into a dict.

    Args:
        path: a `.yaml`, `.yml` or `.json` file.

    Returns:
        The file's top-level mapping.

    Raises:
        SpecError: the file is missing, unreadable, not YAML/JSON, or not a mapping.
    """
    file = Path(path)
    if file.suffix.lower() not in SPEC_SUFFIXES:
        raise SpecError(Problem("", f"{file}: a spec file ends in .yaml, .yml or .json"))
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(Problem("", f"{file}: no such spec file")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(Problem("", f"{file}: cannot read the spec file ({exc})")) from None
    data = parse_json(text, file) if file.suffix.lower() == ".json" else parse_yaml(text, file)
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise SpecError(Problem("", f"{file}: a spec is a mapping of sections, this file is {kind}"))
    return data


def parse_yaml(text: str, where: object = "<string>") -> Any:
    """Parses YAML with a `yaml.SafeLoader`: no Python tags, so no code runs."""
    try:
        return yaml.load(text, Loader=_SpecLoader)  # noqa: S506 - a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        problem = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        if "python/" in problem or "constructor for the tag" in problem:
            problem += " (specs are plain data: YAML Python tags are refused)"
        raise SpecError(Problem("", f"{where}: malformed YAML at {place}: {problem}")) from None
    except yaml.YAMLError as exc:
        raise SpecError(Problem("", f"{where}: malformed YAML: {exc}")) from None


def parse_json(text: str, where: object = "<string>") -> Any:
    """Parses JSON, reporting the line and column of a syntax error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        place = f"line {exc.lineno}, column {exc.colno}"
        raise SpecError(Problem("", f"{where}: malformed JSON at {place}: {exc.msg}")) from None
