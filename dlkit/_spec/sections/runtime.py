"""The ``runtime`` section: where and how fast training runs."""

from __future__ import annotations

from dlkit._core.errors import Problems, did_you_mean
from dlkit._spec.rules import check_keys, is_int, is_number, mapping_or_none

STRATEGIES = ("auto", "cpu", "gpu", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
RUNTIME_KEYS = ("strategy", "precision", "steps_per_execution", "peer_timeout")
# Seconds a multi_worker process waits for its peers before it gives up with a message.
PEER_TIMEOUT = 120


def check_runtime(value: object, problems: Problems) -> object:
    section = mapping_or_none(value, "runtime", problems)
    if section is None:
        return value
    check_keys(section, RUNTIME_KEYS, "runtime", problems)
    section = {"strategy": "auto", "precision": "auto", "steps_per_execution": "auto",
               "peer_timeout": PEER_TIMEOUT, **section}
    for key, allowed in (("strategy", STRATEGIES), ("precision", PRECISIONS)):
        if section[key] not in allowed:
            problems.add(f"runtime.{key}", f"expected one of {', '.join(allowed)}; received "
                         f"{section[key]!r}{did_you_mean(section[key], allowed)}")
    steps = section["steps_per_execution"]
    if not (steps == "auto" or (is_int(steps) and 0 < steps <= 10**6)):
        problems.add("runtime.steps_per_execution", "expected auto or a positive integer (how "
                     f"many batches one call into TensorFlow runs), received {steps!r}")
    timeout = section["peer_timeout"]
    if not (is_number(timeout) and 0 < timeout <= 86400):
        problems.add("runtime.peer_timeout", "expected seconds to wait for the other workers, "
                     f"more than 0 and at most 86400, received {timeout!r}")
    return section
