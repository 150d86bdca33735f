"""Reading one file into one sample inside a tf.data pipeline, and finding files that cannot be.

Images are decoded and resized as `keras.utils.image_dataset_from_directory` does (all
TensorFlow ops, so reads run in parallel in tf.data's threads, outside the Python lock): any of
BMP, GIF (first frame), JPEG and PNG, converted to the model's channels (1 grayscale, 3 RGB, 4
RGBA), resized bilinearly to the model's height and width, float32 pixels in [0, 255]. A text
file is one string, as `keras.utils.text_dataset_from_directory` gives it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from dlkit._core.errors import DataError, Problem

CHANNELS = (1, 3, 4)


def image_size(input_shape: list) -> tuple[int, int, int]:
    """Height, width and channels of images the model takes, from its input shape.

    Raises:
        DataError: the input shape is not ``[height, width, channels]`` with 1, 3 or 4 channels.
    """
    if len(input_shape) != 3 or None in input_shape or input_shape[2] not in CHANNELS:
        raise DataError(Problem("model.input_shape", "the images source gives images of shape "
                                "[height, width, channels] with 1 (grayscale), 3 (RGB) or 4 "
                                f"(RGBA) channels, like [64, 64, 3]; received {input_shape}"))
    return input_shape[0], input_shape[1], input_shape[2]


def image_reader(input_shape: list) -> Callable[[tf.Tensor], tf.Tensor]:
    """A function from an image file's path to its pixels, shaped to `input_shape`."""
    height, width, channels = image_size(input_shape)

    def read(path: tf.Tensor) -> tf.Tensor:
        image = tf.io.decode_image(tf.io.read_file(path), channels=channels,
                                   expand_animations=False)
        image = tf.image.resize(image, (height, width), method="bilinear")
        image.set_shape((height, width, channels))
        return image

    return read


def text_reader() -> Callable[[tf.Tensor], tf.Tensor]:
    """A function from a text file's path to its contents, one string of shape ``[1]``."""
    def read(path: tf.Tensor) -> tf.Tensor:
        return tf.reshape(tf.io.read_file(path), (1,))

    return read


def unreadable_images(paths: np.ndarray) -> list[str]:
    """The image files that do not decode (not an image, truncated, unreadable), in order.

    Decodes every file once, in parallel in tf.data; memory stays flat however many there are.
    """
    def check(index: tf.Tensor, path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = tf.io.decode_image(tf.io.read_file(path), expand_animations=False)
        return index, tf.size(image)  # the size: the decoding must run

    good = _surviving(paths, check)
    return [str(p) for i, p in enumerate(paths) if i not in good]


def unreadable_texts(paths: np.ndarray) -> list[str]:
    """The text files that cannot be read or are not UTF-8, in order."""
    def check(index: tf.Tensor, path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        valid = tf.strings.unicode_decode(tf.io.read_file(path), "UTF-8", errors="strict")
        return index, tf.size(valid)

    good = _surviving(paths, check)
    return [str(p) for i, p in enumerate(paths) if i not in good]


def _surviving(paths: np.ndarray, check: Callable) -> set[int]:
    """The indices of the paths `check` runs on without an error."""
    dataset = tf.data.Dataset.from_tensor_slices(paths).enumerate().map(
        check, num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
    return {int(index) for batch, _ in dataset.batch(4096) for index in batch.numpy()}


def bad_files_message(bad: list[str], what: str) -> str:
    """Names the first few bad files and says what to do."""
    shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    return (f"{len(bad)} file(s) cannot be read as {what}: {shown}. Fix or remove them, or "
            "set data.bad_files: skip to train without them (each is then named in a warning)")


def check_decodes(what: str, paths: np.ndarray, skip: bool) -> list[str]:
    """The unreadable files among `paths`, which is an error unless `skip`.

    Raises:
        DataError: some files cannot be read and `skip` is false.
    """
    bad = unreadable_images(paths) if what == "images" else unreadable_texts(paths)
    if bad and not skip:
        raise DataError(Problem("data.path", bad_files_message(bad, what)))
    return bad
