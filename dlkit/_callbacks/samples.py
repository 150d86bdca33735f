"""What a GAN's generator makes, in TensorBoard at every epoch's end.

The same latent vectors every epoch (drawn once, from a fixed seed), so the pictures show the
generator changing, not the noise: for image-shaped samples (``[H, W]``, ``[H, W, 1|3|4]``) a
grid of images (``dlkit/generated``), for other samples a histogram of each of the first
features (``dlkit/generated_<i>``).
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

IMAGES = 16  # a 4 x 4 grid
VECTORS = 512  # samples for a histogram
FEATURES = 4  # histograms for at most the first 4 features


def image_shaped(shape: tuple) -> bool:
    """Whether samples of `shape` are pictures: ``[H, W]`` or ``[H, W, C]`` with 1, 3 or 4
    channels."""
    return len(shape) == 2 or (len(shape) == 3 and shape[-1] in (1, 3, 4))


class GeneratedSamples(keras.callbacks.Callback):
    """Writes the generator's samples of fixed latent vectors to TensorBoard each epoch.

    Args:
        log_dir: the run directory (images and histograms are written at its top).
        shape: a sample's shape.
        seed: seeds the latent vectors.
    """

    def __init__(self, log_dir: str | Path, shape: tuple, *, seed: int = 0) -> None:
        super().__init__()
        self.log_dir, self.shape, self.seed = Path(log_dir), tuple(shape), seed
        self.images = image_shaped(self.shape)
        self.writer = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        count = IMAGES if self.images else VECTORS
        self.latent = np.random.default_rng(self.seed).standard_normal(
            (count, self.model.latent_dim)).astype("float32")
        self.writer = tf.summary.create_file_writer(str(self.log_dir))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        samples = np.asarray(self.model.generator(self.latent, training=False), "float32")
        with self.writer.as_default():
            if self.images:
                tf.summary.image("dlkit/generated", image_grid(samples), step=epoch)
            else:
                flat = samples.reshape(len(samples), -1)
                for index in range(min(FEATURES, flat.shape[1])):
                    tf.summary.histogram(f"dlkit/generated_{index}", flat[:, index], step=epoch)
        self.writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.writer is not None:
            self.writer.close()


def image_grid(samples: np.ndarray) -> np.ndarray:
    """Images ``[N, H, W(, C)]`` tiled into one ``[1, rows*H, columns*W, C]`` picture, values
    scaled to [0, 1] over the whole grid."""
    if samples.ndim == 3:
        samples = samples[..., None]
    count, height, width, channels = samples.shape
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    grid = np.zeros((rows * height, columns * width, channels), "float32")
    for index, image in enumerate(samples):
        row, column = divmod(index, columns)
        grid[row * height:(row + 1) * height, column * width:(column + 1) * width] = image
    low, high = float(grid.min()), float(grid.max())
    return ((grid - low) / (high - low if high > low else 1.0))[None]
