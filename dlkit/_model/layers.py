"""Every layer of a model, the layers of the models inside it too (a pretrained base)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import keras


def every_layer(layers: Iterable[keras.layers.Layer]) -> Iterator[keras.layers.Layer]:
    """Each of `layers` (a model's ``.layers``, say) and, after a nested model, its own layers,
    depth first."""
    for layer in layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from every_layer(layer.layers)
