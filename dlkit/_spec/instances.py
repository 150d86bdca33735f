"""Problems inside block instances: noted with the instance they are in, and one problem for
one mistake made in several instances of a block, naming them all."""

from __future__ import annotations

import re

from dlkit._core.errors import Problem, Problems

INSTANCE_NOTE = re.compile(r" \(in block instances? ([^()]+)\)$")


def note_instance(problems: Problems, start: int, instance: str) -> None:
    """Adds `` (in block instance b1)`` to the problems recorded since `start`."""
    if instance:
        for k in range(start, len(problems.items)):
            problem = problems.items[k]
            problems.items[k] = Problem(problem.path,
                                        f"{problem.message} (in block instance {instance})")


def merge_instances(items: list[Problem]) -> list[Problem]:
    """One problem for one mistake in several instances of a block, naming them all."""
    instances: dict[tuple[str, str], list[str]] = {}
    for problem in items:
        note = INSTANCE_NOTE.search(problem.message)
        key = (problem.path, problem.message[:note.start()] if note else problem.message)
        instances.setdefault(key, []).extend(
            name.strip() for name in (note.group(1).split(",") if note else []))
    merged = []
    for (path, message), names in instances.items():
        names = list(dict.fromkeys(names))
        plural = "s" if len(names) > 1 else ""
        note = f" (in block instance{plural} {', '.join(names)})" if names else ""
        merged.append(Problem(path, message + note))
    return merged
