"""Image files, or a folder of them (class sub-folders included), as the model's image input.

Each image is loaded with Keras' own loader (``keras.utils.load_img``), converted to the
input's channels (1 grayscale, 3 RGB, 4 RGBA) and resized to its height and width. Pixel values
are passed as the image holds them (0-255); a model that expects another scale carries its
own ``Rescaling`` layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np

from dlkit._core.errors import DataError, Problem
from dlkit._deploy.readers.base import IMAGE_SUFFIXES, Batch, files_in
from dlkit._deploy.readers.shapes import expected
from dlkit._deploy.trained import ModelInput, TrainedRun

COLOR_MODES = {1: "grayscale", 3: "rgb", 4: "rgba"}


def open_path(path: Path, run: TrainedRun) -> ImageReader:
    return ImageReader(path, run.inputs)


class ImageReader:
    """Images in batches, each row named by its file."""

    id_column = "file"

    def __init__(self, path: Path, inputs: list[ModelInput]) -> None:
        if len(inputs) != 1 or len(inputs[0].shape) != 3 or \
                inputs[0].shape[-1] not in COLOR_MODES:
            takes = "; ".join(f"{i.name}: {expected(i)}" for i in inputs)
            raise DataError(Problem(str(path), "images feed a model whose one input is "
                                    "[height, width, channels] with 1, 3 or 4 channels; this "
                                    f"model takes {takes}"))
        self.path, self.input = path, inputs[0]
        self.files = files_in(path, IMAGE_SUFFIXES)
        if not self.files:
            raise DataError(Problem(str(path), f"holds no images ({', '.join(IMAGE_SUFFIXES)})"))
        self.count = len(self.files)

    def batches(self, size: int) -> Iterator[Batch]:
        height, width, channels = self.input.shape
        for start in range(0, self.count, size):
            files = self.files[start:start + size]
            pixels = np.stack([self._load(f, height, width, channels) for f in files])
            names = [str(f.relative_to(self.path)) if self.path.is_dir() else f.name
                     for f in files]
            yield Batch({self.input.name: pixels}, ids=names)

    def _load(self, file: Path, height: int, width: int, channels: int) -> np.ndarray:
        try:
            image = keras.utils.load_img(file, color_mode=COLOR_MODES[channels],
                                         target_size=None if height is None else (height, width))
        except (OSError, ValueError) as exc:
            raise DataError(Problem(str(file), f"is not a readable image ({exc})")) from None
        return keras.utils.img_to_array(image, dtype=self.input.dtype)
