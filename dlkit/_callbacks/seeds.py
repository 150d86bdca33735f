"""``deterministic: true``: dropout and noise derived from the seed and the epoch.

Keras draws dropout masks from generators whose state lives in the process (it is not even in
a backup), so a run resumed after a crash would see other masks than an uninterrupted one. Here
each generator's state is a function of ``(seed, epoch)`` alone; the data order is
`dlkit._data.deterministic.epoch_keyed_batches`.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

EPOCH_STRIDE = 2**20  # dropout draws per epoch before two epochs' streams could overlap


class EpochSeeds(keras.callbacks.Callback):
    """Sets every seed generator's state (dropout, noise layers) from ``(seed, epoch)`` as each
    epoch begins, and the epoch variable that data orders are keyed by.

    Args:
        generators: False to set only `epoch` (a multi-worker run's shared data order).
    """

    def __init__(self, seed: int, epoch: tf.Variable | None = None, *,
                 generators: bool = True) -> None:
        super().__init__()
        self.seed = seed
        self.epoch = epoch
        self.generators = generators

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.epoch is not None:  # the data order of `epoch_keyed_batches`
            self.epoch.assign(epoch)
        if not self.generators:
            return
        states = [v for v in self.model.non_trainable_variables
                  if v.path.endswith("seed_generator_state")]
        for index, state in enumerate(states):
            value = [(self.seed * 1_000_003 + index) % 2**31, (epoch * EPOCH_STRIDE) % 2**31]
            state.assign(np.asarray(value, dtype=state.dtype))
