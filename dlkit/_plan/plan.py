"""`Plan`: a validated spec as the typed, immutable recipe every later stage consumes.

`dlkit.load_spec` makes it once (with the `Spec`); `dlkit.build`, `dlkit.callbacks` and
`dlkit.train` read it and never parse the spec or resolve a name again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dlkit._plan.base import BasePlan, FineTunePlan
from dlkit._plan.kindplans import AutoencoderPlan, GanPlan
from dlkit._plan.parts import Part


@dataclass(frozen=True)
class GraphNode:
    """One node of a graph model: the layer to make, named, and what it takes."""

    name: str  # its Keras layer name (``b1.conv`` for a node of block instance b1)
    part: Part
    inputs: tuple[str, ...]  # names of model inputs and earlier nodes, in order
    instance: str = ""  # the block instance it belongs to, for messages


@dataclass(frozen=True)
class GraphPlan:
    """A graph model (functional API): named inputs, nodes in order, outputs.

    One input becomes the model's one input tensor, several a dict of them keyed by name;
    `outputs` as one node name gives one output tensor, as a mapping a dict keyed by output
    name (Keras logs ``<output>_loss``, ``<output>_<metric>``).
    """

    inputs: Mapping[str, tuple[int | None, ...]]  # name -> shape, in spec order
    nodes: tuple[GraphNode, ...]
    outputs: str | Mapping[str, str]  # a node name, or output name -> node name


@dataclass(frozen=True)
class ModelPlan:
    """The network: a stack (input shape and layer parts) or a graph, and what assembling it
    told."""

    input_shape: tuple[int | None, ...] | None  # a stack's, or a graph's only input's; else None
    layers: tuple[Part, ...]  # a stack's layers; () for a graph
    parameters: int
    multiply_adds: int  # per sample, for steps_per_execution
    output_shape: tuple[int | None, ...]  # the (first) output's, batch dimension first
    graph: GraphPlan | None = None
    input_dtype: str = "float32"  # "string" for a text source: the model takes raw text
    base: BasePlan | None = None  # a pretrained start of the network (model.base)
    autoencoder: AutoencoderPlan | None = None  # kind: autoencoder or vae
    gan: GanPlan | None = None  # kind: gan

    @property
    def kind(self) -> str:
        """``sequential`` (a stack or a graph, trained on labels), ``autoencoder``, ``vae`` or
        ``gan`` (trained on unlabeled data: `supervised` is False)."""
        if self.gan is not None:
            return "gan"
        return self.autoencoder.kind if self.autoencoder is not None else "sequential"

    @property
    def supervised(self) -> bool:
        """Whether the model learns from labels ``y`` (else from the samples ``x`` alone)."""
        return self.kind == "sequential"


@dataclass(frozen=True)
class OutputPlan:
    """One output of the model, as its labels must be."""

    name: str | None  # the output's name; None when the model's one output is unnamed
    shape: tuple[int | None, ...]  # batch dimension first
    loss_name: str  # canonical function name of its loss
    classifier: bool  # its loss means it predicts classes
    path: str  # where the spec defines it, for messages: model.layers[-1], model.outputs.label


@dataclass(frozen=True)
class CompilePlan:
    """What `model.compile` gets, and the names Keras will log.

    With several named outputs, `loss` and `metrics` are keyed by output name and
    `metric_names` are Keras' names for them (``label_loss``, ``label_accuracy``, ...).
    """

    optimizer: Part  # a GAN's generator's (both of its optimizers are in model.gan)
    loss: str | Part | Mapping[str, str | Part]
    metrics: tuple[str | Part, ...] | Mapping[str, tuple[str | Part, ...]]
    loss_name: str  # the (first) output's canonical loss name, like mean_squared_error
    metric_names: tuple[str, ...]  # as Keras logs them, besides `loss`: accuracy, auc, ...
    classifier: bool  # the (first) output's loss means it predicts classes
    loss_weights: Mapping[str, float] | None = None  # output name -> weight (every output)
    outputs: tuple[OutputPlan, ...] = ()  # one per output, in spec order
    # Several outputs: min or max per logged name (label_accuracy), which Keras cannot choose.
    monitor_modes: Mapping[str, str] = field(default_factory=dict)
    # The losses Keras logs besides `metric_names`: a GAN's are d_loss and g_loss.
    losses: tuple[str, ...] = ("loss",)


@dataclass(frozen=True)
class FitPlan:
    """How `model.fit` runs."""

    epochs: int
    batch_size: int | str  # an int, or "full"
    shuffle: bool
    fine_tune: FineTunePlan | None = None  # a second phase that unfreezes the base


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
