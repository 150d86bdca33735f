"""The custom gradients TensorFlow registers while a model trains, released once it is done.

tensorflow/tensorflow#97697 (also #27492; keras-team/tf-keras#898 proposes the same release in
``clear_session``): in graph mode, `tf.custom_gradient` registers each gradient function under a
new name (``CustomGradient-<n>``) in TensorFlow's global gradient registry, and the function
keeps the traced graph alive. Keras' training step uses one, so every model trained in a loop
(a search's trials) keeps its graphs: about 5 MB a model for the digits MLP, which
``keras.backend.clear_session()`` does not free. No public API removes a registered gradient.

Checked on TensorFlow 2.21 (Keras 3.15). Test: ``tests/test_compat.py::
test_custom_gradients_registered_while_training_are_released``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

PREFIX = "CustomGradient-"


@contextlib.contextmanager
def custom_gradients_released() -> Iterator[None]:
    """Drops the custom gradients registered within the block from TensorFlow's registry when
    it ends, so that the graphs they hold can be freed (with ``clear_session``). Use it around
    the training of a model whose graphs will not be traced again."""
    from tensorflow.python.framework import ops

    registry = ops._gradient_registry._registry
    before = set(registry)
    try:
        yield
    finally:
        for name in [n for n in registry if n.startswith(PREFIX) and n not in before]:
            registry.pop(name, None)
