"""The plan of a pretrained base (``model.base``) and of fine-tuning it (``train.fine_tune``).

Made once by `dlkit._plan.transfer` while a spec is validated; `dlkit.build` makes the base
from it (`dlkit._model.base`) and `dlkit.train` runs the fine-tuning phase
(`dlkit._train.phases`) without resolving a name again.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlkit._plan.parts import Part


@dataclass(frozen=True)
class BasePlan:
    """The start of a network: a `keras.applications` model or a cut of a saved model.

    Attributes:
        label: for messages: the application's name (``MobileNetV2``) or the saved file.
        application: the part that makes an application, without weights: its
            ``keras.applications`` function and arguments (``include_top`` false, ``pooling``,
            ``alpha``, ...); None for a saved model.
        weights: an application's weights: ``imagenet``, None (random) or a weights file.
        preprocessing: the layers put in front of an application: its own input
            preprocessing (its ``preprocess_input`` as Keras layers), so that the model takes
            raw pixels; empty when the application preprocesses inside itself.
        path: a saved ``.keras`` model (loaded in safe mode), or None.
        until: the layer of the saved model whose output ends the base (None: its output).
        input_shape: what the base takes, batch dimension left out.
        input: for a graph model, the model input the base takes; None for a stack.
        output_shape: what the base gives, batch dimension first.
        layers: the names of the base's layers in order (its input left out): what
            ``unfreeze: N`` counts from the top and ``unfreeze: {from: name}`` names.
        trainable: whether the base trains in the first phase (its BatchNormalization layers
            never do: they stay in inference mode).
        cache: while the base is frozen, compute its outputs once and train the head on them
            when that is exactly the same training (`dlkit._train.cached`); false: never.
    """

    label: str
    application: Part | None
    weights: str | None
    preprocessing: tuple[Part, ...]
    path: str | None
    until: str | None
    input_shape: tuple[int | None, ...]
    input: str | None
    output_shape: tuple[int | None, ...]
    layers: tuple[str, ...]
    trainable: bool
    cache: bool = True


@dataclass(frozen=True)
class FineTunePlan:
    """The second phase of training: part of the base unfrozen, a smaller learning rate.

    Attributes:
        first_layer: index into `BasePlan.layers`: this layer and those above it train
            (0 for ``unfreeze: all``).
        optimizer: ``compile.optimizer`` with the fine-tuning learning rate.
        epochs: how many epochs the phase runs (after the first phase's).
    """

    first_layer: int
    optimizer: Part
    epochs: int
