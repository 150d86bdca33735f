"""`Plan`: a validated spec as the typed, immutable recipe every later stage consumes.

`dlkit.load_spec` makes it once (with the `Spec`); `dlkit.build`, `dlkit.callbacks` and
`dlkit.train` read it and never parse the spec or resolve a name again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dlkit._plan.parts import Part


@dataclass(frozen=True)
class ModelPlan:
    """The network: its input shape and layer parts, and what assembling it told."""

    input_shape: tuple[int | None, ...]
    layers: tuple[Part, ...]
    parameters: int
    multiply_adds: int  # per sample, for steps_per_execution
    output_shape: tuple[int | None, ...]
    input_dtype: str = "float32"  # "string" for a text source: the model takes raw text


@dataclass(frozen=True)
class CompilePlan:
    """What `model.compile` gets, and the names Keras will log."""

    optimizer: Part
    loss: str | Part
    metrics: tuple[str | Part, ...]
    loss_name: str  # canonical function name, like sparse_categorical_crossentropy
    metric_names: tuple[str, ...]  # as Keras logs them: accuracy, auc, ...
    classifier: bool  # the loss means the model predicts classes


@dataclass(frozen=True)
class FitPlan:
    """How `model.fit` runs."""

    epochs: int
    batch_size: int | str  # an int, or "full"
    shuffle: bool


@dataclass(frozen=True)
class RuntimePlan:
    """Where and how fast: the strategy to make, and what is already decided."""

    strategy: str  # the spec's name: auto, cpu, gpu, mirrored, multi_worker, tpu
    precision: str  # resolved on this machine: float32, mixed_bfloat16 or mixed_float16
    steps_per_execution: int | str  # the spec's: an int or "auto"
    auto_steps: int  # what "auto" means for this model on one device
    peer_timeout: float


@dataclass(frozen=True)
class Plan:
    """Everything a run needs, decided once.

    Attributes:
        name: the run name.
        seed: seeds Python, NumPy and TensorFlow; None for none.
        deterministic: bitwise-repeatable runs.
        data: the spec's data section (read-only), or None.
        model, compile, fit, runtime: see their classes.
        callbacks: each callback's settings (read-only), or None where it is off.
        settings: the resolved spec as plain, read-only data (spec.yaml, hparams).
    """

    name: str
    seed: int | None
    deterministic: bool
    data: Mapping[str, Any] | None
    model: ModelPlan
    compile: CompilePlan
    fit: FitPlan
    runtime: RuntimePlan
    callbacks: Mapping[str, Mapping[str, Any] | None]
    settings: Mapping[str, Any]

    def callback(self, key: str) -> Mapping[str, Any] | None:
        """The settings of callback `key`, or None when it is off."""
        return self.callbacks.get(key)
