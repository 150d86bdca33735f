"""Image files, or a folder of them (with or without class sub-folders), as the model's image
input, read exactly as the ``images`` source reads them while training.

`dlkit._data.readers.image_reader` decodes each file (BMP, GIF, JPEG, PNG), converts it to the
input's channels (1 grayscale, 3 RGB, 4 RGBA) and resizes it bilinearly to the input's height and
width, float32 pixels in [0, 255]: what the model trained on. A model that wants another scale
carries its own ``Rescaling`` layer, so it gets it here too. (A run trained on arrays, such as
``source: digits`` in [0, 1], gets the same [0, 255] pixels: its model has no way to say what
scale it learned.)
"""

from __future__ import annotations

from pathlib import Path

from dlkit._core.errors import DataError, Problem
from dlkit._data.folders import IMAGE_SUFFIXES
from dlkit._data.readers import CHANNELS, image_reader
from dlkit._deploy.readers.files import FileReader, files_in
from dlkit._deploy.readers.shapes import expected
from dlkit._deploy.trained import ModelInput, TrainedRun

COLOR_MODES = {1: "grayscale", 3: "RGB", 4: "RGBA"}


def open_path(path: Path, run: TrainedRun) -> FileReader:
    model_input = _image_input(path, run.inputs)
    height, width, channels = model_input.shape

    def explain(file: Path, reason: str) -> str:
        return (f"cannot be read as a {height}x{width} {COLOR_MODES[channels]} image "
                f"({channels} channel{'s' if channels > 1 else ''}), what the model takes: "
                f"{reason}. Convert it to PNG (any channels convert), or remove it")

    return FileReader(path, files_in(path, IMAGE_SUFFIXES), model_input,
                      image_reader(list(model_input.shape)),
                      what=f"images ({', '.join(IMAGE_SUFFIXES)})", explain=explain)


def _image_input(path: Path, inputs: list[ModelInput]) -> ModelInput:
    """The model's one image input, or an error saying what the model takes instead."""
    shape = inputs[0].shape if len(inputs) == 1 else ()
    if len(shape) != 3 or None in shape[:2] or shape[2] not in CHANNELS or \
            inputs[0].dtype == "string":
        takes = "; ".join(f"{i.name}: {expected(i)} of {i.dtype}" for i in inputs)
        raise DataError(Problem(str(path), "images feed a model whose one input is [height, "
                                f"width, channels] with {', '.join(map(str, CHANNELS))} "
                                f"channels; this model takes {takes}"))
    return inputs[0]
