"""``source: images`` and ``source: text``: a folder of class sub-folders, streamed from disk.

The folder is listed (`dlkit._data.folders`), every file is checked once before anything is
written (`dlkit._data.readers`: an unreadable or truncated image, a text file that is not
UTF-8), and the files are then read while training (`dlkit._data.stream`). Bad files stop the
run with their names (``bad_files: stop``, the default), or are left out with a warning naming
each (``bad_files: skip``); a class left without any readable file is an error either way.
"""

from __future__ import annotations

import warnings

from dlkit._core.errors import BadFileWarning, DataError, Problem
from dlkit._data.folders import IMAGE_SUFFIXES, TEXT_SUFFIXES, Listing, list_folder, without
from dlkit._data.readers import bad_files_message, check_decodes, image_reader, image_size, \
    text_reader
from dlkit._data.stream import Stream


def load_folder(data: dict, *, input_shape: list) -> Stream:
    """The images or text files under ``data["path"]``, one sub-folder per class.

    Raises:
        DataError: naming the folder or the files, and what to do.
    """
    source = data["source"]
    if source == "images":
        image_size(input_shape)  # the model's input must be an image before the folder is read
        what, suffixes, read = "images", IMAGE_SUFFIXES, image_reader(input_shape)
    else:
        if list(input_shape) != [1]:
            raise DataError(Problem("model.input_shape", "the text source gives one string per "
                                    "sample: set input_shape to [1] and start the model with a "
                                    f"TextVectorization layer; received {input_shape}"))
        what, suffixes, read = "text files", TEXT_SUFFIXES, text_reader()
    listing = list_folder(data["path"], suffixes, what)
    bad = check_decodes(source, listing.paths, skip=data.get("bad_files") == "skip")
    if bad:
        warnings.warn(bad_files_message(bad, what).split(". Fix")[0] + "; they are left out "
                      "(data.bad_files: skip)", BadFileWarning, stacklevel=2)
        listing = _still_complete(without(listing, bad), data["path"], what)
    return Stream(x=listing.paths, y=listing.labels, read=read, classes=listing.classes)


def _still_complete(listing: Listing, path: str, what: str) -> Listing:
    """Every class still has a file once the bad ones are left out."""
    present = set(listing.labels.tolist())
    for index, name in enumerate(listing.classes):
        if index not in present:
            raise DataError(Problem("data.path", f"class folder {path}/{name} holds no readable "
                                    f"{what}: every one of its files failed to read; replace "
                                    "them, or remove the folder if it is not a class"))
    return listing
