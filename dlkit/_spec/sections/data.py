"""The ``data`` section: where the training data comes from."""

from __future__ import annotations

from dlkit._core.errors import Problems, did_you_mean
from dlkit._spec.rules import check_keys, is_int, is_number, mapping_or_none

DATA_SOURCES = ("digits", "moons", "spirals", "sine", "npz", "csv")
DATA_KEYS = ("source", "path", "target", "validation_split", "samples", "noise")


def check_data(value: object, problems: Problems) -> dict | None:
    if value is None:
        return None
    data = mapping_or_none(value, "data", problems)
    if data is None:
        return value  # type: ignore[return-value]
    check_keys(data, DATA_KEYS, "data", problems)
    data = {"validation_split": 0.2, **data}
    source = data.get("source")
    if not (source in DATA_SOURCES or (isinstance(source, str) and source.startswith("keras:")
                                       and len(source) > 6)):
        problems.add("data.source", f"unknown data source {source!r}"
                     f"{did_you_mean(source, DATA_SOURCES)}; expected one of "
                     f"{', '.join(DATA_SOURCES)} or keras:<dataset> (e.g. keras:mnist)")
    elif source in ("npz", "csv") and not isinstance(data.get("path"), str):
        problems.add("data.path", f"source {source} needs a path to its .{source} file")
    if source == "csv" and not isinstance(data.get("target"), str):
        problems.add("data.target", "a csv source needs its target column, like target: label")
    split = data["validation_split"]
    if split is not None and not (is_number(split) and 0 < split < 1):
        problems.add("data.validation_split", "expected a fraction strictly between 0 and 1 (or "
                     f"null for no validation), received {split!r}")
    for key in ("path", "target"):
        if key in data and not isinstance(data[key], str):
            problems.add(f"data.{key}", f"expected a string, received {data[key]!r}")
    if "samples" in data and not (is_int(data["samples"]) and 0 < data["samples"] <= 10**7):
        problems.add("data.samples", f"expected a positive integer, received {data['samples']!r}")
    if "noise" in data and not (is_number(data["noise"]) and data["noise"] >= 0):
        problems.add("data.noise", f"expected a number >= 0, received {data['noise']!r}")
    return data
