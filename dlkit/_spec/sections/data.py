"""The ``data`` section: where the training data comes from."""

from __future__ import annotations

from dlkit._core.errors import Problems, did_you_mean
from dlkit._spec.rules import check_keys, is_int, is_number, mapping_or_none

DATA_SOURCES = ("digits", "moons", "spirals", "sine", "npz", "csv", "images", "text")
ONLINE_PREFIXES = ("keras:", "tfds:")  # keras:<dataset>, tfds:<dataset>
DATA_KEYS = ("source", "path", "target", "validation_split", "samples", "noise", "categorical",
             "bad_files")
FOLDER_SOURCES = ("images", "text")  # path: a folder of class sub-folders
BAD_FILES = ("stop", "skip")  # an unreadable image or text file: stop before training, or skip it


def check_data(value: object, problems: Problems) -> dict | None:
    if value is None:
        return None
    data = mapping_or_none(value, "data", problems)
    if data is None:
        return value  # type: ignore[return-value]
    check_keys(data, DATA_KEYS, "data", problems)
    data = {"validation_split": 0.2, **data}
    source = data.get("source")
    if not (source in DATA_SOURCES or (isinstance(source, str) and any(
            source.startswith(prefix) and len(source) > len(prefix)
            for prefix in ONLINE_PREFIXES))):
        problems.add("data.source", f"unknown data source {source!r}"
                     f"{did_you_mean(source, DATA_SOURCES)}; expected one of "
                     f"{', '.join(DATA_SOURCES)}, keras:<dataset> (e.g. keras:mnist) or "
                     "tfds:<dataset> (e.g. tfds:mnist)")
    elif source in ("npz", "csv") and not isinstance(data.get("path"), str):
        problems.add("data.path", f"source {source} needs a path to its .{source} file")
    elif source in FOLDER_SOURCES and not isinstance(data.get("path"), str):
        what = "images" if source == "images" else ".txt files"
        problems.add("data.path", f"source {source} needs a path to a folder with one sub-folder "
                     f"of {what} per class, like path: photos/ holding photos/cats/, photos/dogs/")
    if source == "csv" and not isinstance(data.get("target"), str):
        problems.add("data.target", "a csv source needs its target column, like target: label")
    _check_source_keys(data, source, problems)
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


def _check_source_keys(data: dict, source: object, problems: Problems) -> None:
    """``categorical`` belongs to csv sources, ``bad_files`` to folder sources."""
    if "categorical" in data:
        names = data["categorical"]
        if source != "csv":
            problems.add("data.categorical", "only a csv source has categorical columns")
        elif not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            problems.add("data.categorical", "expected a list of column names, like "
                         f"[city, zip_code], received {names!r}")
    if "bad_files" in data:
        if source not in FOLDER_SOURCES:
            problems.add("data.bad_files", "only the images and text sources read files one by "
                         "one; bad_files does not apply to source " + repr(source))
        elif data["bad_files"] not in BAD_FILES:
            problems.add("data.bad_files", f"expected stop or skip, received "
                         f"{data['bad_files']!r}{did_you_mean(str(data['bad_files']), BAD_FILES)}")
