"""A folder of class sub-folders: the files of each class, listed as Keras' directory loaders do.

Like `keras.utils.image_dataset_from_directory` and `text_dataset_from_directory`
(``labels="inferred"``): every sub-folder is a class, named by the folder, classes in sorted
order (class index = position), files found at any depth below their class folder, the same
file suffixes. Only the list of files is made here; the files are read later, while training.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlkit._core.errors import DataError, Problem

IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # Keras' ALLOWLIST_FORMATS
TEXT_SUFFIXES = (".txt",)


@dataclass(frozen=True)
class Listing:
    """The files of a folder of class sub-folders, in a fixed order (class, then path)."""

    paths: np.ndarray  # str, one per file
    labels: np.ndarray  # int64 class index per file
    classes: tuple[str, ...]


def list_folder(path: str | os.PathLike[str], suffixes: tuple[str, ...], what: str) -> Listing:
    """Lists ``path/<class>/**/<file>`` for files whose suffix is in `suffixes`.

    Args:
        path: the folder; relative paths are taken from the current directory.
        suffixes: file suffixes to take, lower case.
        what: what the files are, for messages ("images", "text files").

    Raises:
        DataError: no such folder, no class sub-folders, or a class folder without any file of
            the right kind; each message names the folder and what to do.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(Problem("data.path", f"no such folder: {root} (relative paths are taken "
                                f"from the current directory, {Path.cwd()})"))
    classes = sorted(entry.name for entry in root.iterdir()
                     if entry.is_dir() and not entry.name.startswith("."))
    if not classes:
        loose = sum(1 for entry in root.iterdir() if entry.suffix.lower() in suffixes)
        hint = f"; its {loose} {what} must go into class folders" if loose else ""
        raise DataError(Problem("data.path", f"{root} has no class sub-folders{hint}: put the "
                                f"{what} of each class into a folder named after the class, "
                                f"like {root}/cats/ and {root}/dogs/"))
    paths, labels = [], []
    for index, name in enumerate(classes):
        found = sorted(_files_below(root / name, suffixes))
        if not found:
            raise DataError(Problem("data.path", f"class folder {root / name} holds no {what} "
                                    f"(files ending in {', '.join(suffixes)}); add some, or "
                                    "remove the folder if it is not a class"))
        paths.extend(found)
        labels.extend([index] * len(found))
    if len(classes) < 2:
        raise DataError(Problem("data.path", f"{root} has one class folder ({classes[0]}); a "
                                "classifier needs at least two, one sub-folder per class"))
    return Listing(np.asarray(paths, dtype=str), np.asarray(labels, dtype="int64"),
                   tuple(classes))


def _files_below(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    found = []
    for directory, subdirectories, files in os.walk(folder):
        subdirectories.sort()
        found.extend(os.path.join(directory, name) for name in files
                     if os.path.splitext(name)[1].lower() in suffixes and not name.startswith("."))
    return found


def without(listing: Listing, bad: list[str]) -> Listing:
    """The listing less the files in `bad`."""
    keep = ~np.isin(listing.paths, np.asarray(bad, dtype=str))
    return Listing(listing.paths[keep], listing.labels[keep], listing.classes)
