"""Passes 2 and 3 for autoencoders, VAEs and GANs: their stacks resolved into parts once, made
once (so Keras checks their values), and assembled in the scratch graph to check that they fit
together, every problem at once:

- an autoencoder's decoder gives back the shape of its input (``model.decoder``);
- a VAE's encoder ends in a flat vector, to which the ``z_mean`` and ``z_log_var`` layers of
  ``latent_dim`` units are added;
- a GAN's generator gives samples of the data's shape, which its discriminator takes
  (``model.generator``), and the discriminator ends in one unit whose activation suits the loss
  (``model.discriminator``).

A network is a list of layers (a `keras.Sequential`) or a graph (a functional `keras.Model`,
`dlkit._spec.graph.network_layouts`): the same checks hold for both, a graph's problems at its
nodes' paths (``model.encoder.graph[2]``).

`kind_plan` returns the model and compile plans `dlkit._plan.load` puts in the `Plan`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import keras

from dlkit._core.errors import Problems
from dlkit._plan.callbacks import MONITORING
from dlkit._plan.graph import graph_plan, logged_names
from dlkit._plan.kindplans import AnomalyPlan, AutoencoderPlan, GanPlan
from dlkit._plan.parts import Part, PartError, freeze, make
from dlkit._plan.plan import CompilePlan, GraphPlan, ModelPlan, OutputPlan
from dlkit._plan.resolver import Resolver, default_regularizer, loss_name
from dlkit._plan.shapes import Shapes, check_graph_shapes, check_shapes
from dlkit._spec.graph import Layout
from dlkit._spec.instances import note_instance
from dlkit._spec.rules import key_path
from dlkit._spec.sections.kinds import STACKS

MIXED_PRECISIONS = ("mixed_bfloat16", "mixed_float16")
# What each kind logs besides its losses, and which way each improves.
VAE_LOGS = ("reconstruction_loss", "kl_loss")
GAN_LOSSES = ("d_loss", "g_loss")
GAN_MONITOR = "val_mmd"  # a GAN's default monitor: see `with_gan_monitors`


def kind_plan(spec: dict, problems: Problems, precision: str,
              layouts: Mapping[str, Layout] = MappingProxyType({})
              ) -> tuple[ModelPlan, CompilePlan] | None:
    """The model and compile plans of an autoencoder, VAE or GAN; None (its problems recorded)
    when any part does not resolve or the stacks do not fit together. `layouts` are its
    networks written as graphs, by name (`dlkit._spec.graph.network_layouts`). Runs inside
    `dlkit._plan.shapes.scratch_graph`."""
    model, kind = spec["model"], spec["model"]["kind"]
    section = spec["compile"] if isinstance(spec["compile"], dict) else {}
    resolver = Resolver(problems, default_regularizer=_penalty(model, problems))
    stacks = {name: _with_precision(_resolve(resolver, model.get(name), layouts.get(name),
                                             f"model.{name}", problems),
                                    precision, layouts.get(name))
              for name in STACKS[kind]}
    if kind == "vae" and isinstance(model.get("latent_dim"), int):
        stacks["heads"] = [Part.of(keras.layers.Dense, {"units": model["latent_dim"],
                                                        "name": name}, "model.latent_dim")
                           for name in ("z_mean", "z_log_var")]
    noise = None
    if model.get("noise") is not None and not problems.count_under("model.noise"):
        noise = resolver.layer(dict(model["noise"]), "model.noise")
    compile_ = _compile_parts(resolver, section, kind, problems)
    made = {name: [_made(p, problems, _instance(layouts.get(name), i))
                   for i, p in enumerate(parts or ()) if p is not None]
            for name, parts in stacks.items()}
    made_compile = {key: _made(value, problems) for key, value in compile_.items()
                    if key != "metrics"}
    made_compile["metrics"] = [_made(m, problems) for m in compile_.get("metrics", ())]
    if problems.items or any(p is None for p in [*stacks.values(), *compile_.values()]) \
            or any(p is None for parts in stacks.values() for p in parts):
        return None
    input_shape = tuple(model["input_shape"])
    for name, layout in layouts.items():  # every node resolved: the graph's plan
        stacks[name] = graph_plan(layout, stacks[name])
    if kind == "gan":
        return _gan(model, stacks, made, compile_, made_compile, problems)
    return _autoencoder(model, input_shape, stacks, made, noise, compile_, made_compile,
                        problems)


def _penalty(model: dict, problems: Problems) -> Part | None:
    setting = model.get("regularization")
    return default_regularizer(setting, problems) if isinstance(setting, dict) else None


def _resolve(resolver: Resolver, layers: object, layout: Layout | None, path: str,
             problems: Problems) -> list[Part] | None:
    """A stack's parts, or a graph's in node order (None for each that does not resolve), or
    None when pass 1 found a problem in its structure."""
    if layout is not None:
        parts = []
        for node in layout.nodes:
            start = len(problems.items)
            parts.append(resolver.layer(dict(node.layer), node.path))
            note_instance(problems, start, node.instance)
        return parts
    if not isinstance(layers, list) or any(not isinstance(layer, dict) for layer in layers):
        return None
    return [resolver.layer(dict(layer), key_path(path, i))
            if not problems.count_under(key_path(path, i)) else None
            for i, layer in enumerate(layers)]


def _with_precision(parts: list[Part] | None, precision: str,
                    layout: Layout | None = None) -> list[Part] | None:
    """A mixed dtype policy for every layer but the last of each stack, or a graph's output
    node (whose outputs, reconstructions, samples and logits, stay float32), and
    preprocessing layers."""
    if parts is None or precision not in MIXED_PRECISIONS:
        return parts
    last = len(parts) - 1 if layout is None else \
        next((i for i, node in enumerate(layout.nodes) if node.name == layout.outputs), -1)
    return [p if p is None or "dtype" in p.args or i == last or hasattr(p.cls, "adapt")
            else p.with_args(dtype=precision) for i, p in enumerate(parts)]


def _instance(layout: Layout | None, index: int) -> str:
    """The block instance a graph's node belongs to, for messages ("" for none)."""
    return layout.nodes[index].instance if layout is not None else ""


def _compile_parts(resolver: Resolver, section: dict, kind: str,
                   problems: Problems) -> dict[str, Any]:
    """The optimizer(s), loss and metrics of a kind's compile section (None where one failed)."""
    def sound(key: str) -> bool:
        return not problems.count_under(f"compile.{key}")

    parts: dict[str, Any] = {}
    for key in ("optimizer", "generator_optimizer", "discriminator_optimizer"):
        if key in section:
            parts[key] = resolver.optimizer(section[key], f"compile.{key}") if sound(key) \
                else None
    parts["loss"] = resolver.loss(section["loss"], "compile.loss") \
        if "loss" in section and sound("loss") else None
    metrics = section.get("metrics", [])
    parts["metrics"] = tuple(resolver.metric(m, key_path("compile.metrics", i))
                             for i, m in enumerate(metrics) if isinstance(metrics, list))
    if any(m is None for m in parts["metrics"]):
        parts["metrics"] = None
    return parts


def _made(part: Any, problems: Problems, instance: str = "") -> Any:
    """Makes a part once, so that Keras checks its values; None after recording a refusal."""
    try:
        return make(part)
    except PartError as exc:
        start = len(problems.items)
        problems.add(exc.path, exc.message)
        note_instance(problems, start, instance)
        return None


def _autoencoder(model: dict, input_shape: tuple, stacks: dict, made: dict, noise: Part | None,
                 compile_: dict, made_compile: dict, problems: Problems
                 ) -> tuple[ModelPlan, CompilePlan] | None:
    """Plans an autoencoder or VAE whose parts all resolved, after checking the shapes."""
    kind, latent_dim = model["kind"], model.get("latent_dim")
    if noise is not None:
        check_shapes(input_shape, [noise.make()], [noise], problems)
    encoder = _fit(stacks, "encoder", input_shape, made, problems)
    if encoder is None:
        return None
    code_shape = tuple(encoder.output_shape[1:])
    if kind == "vae":
        if len(code_shape) != 1:
            problems.add("model.encoder", "a VAE's encoder ends in a flat vector (Flatten, "
                         "Dense), to which dlkit adds the z_mean and z_log_var layers of "
                         f"latent_dim units; this one gives shape {list(code_shape)}")
            return None
        for head in (0, 1):  # z_mean and z_log_var
            shapes = check_shapes(code_shape, made["heads"][head:head + 1],
                                  stacks["heads"][head:head + 1], problems)
            encoder = _total(encoder, shapes, shapes)
        code_shape = (latent_dim,)
    decoder = _fit(stacks, "decoder", code_shape, made, problems)
    if decoder is None:
        return None
    got = tuple(decoder.output_shape[1:])
    if got != input_shape:
        problems.add("model.decoder", f"the decoder gives samples of shape {list(got)}, but an "
                     f"autoencoder reconstructs its input, of shape {list(input_shape)} "
                     f"(model.input_shape); end the decoder with a layer that gives "
                     f"{list(input_shape)}{_reshape_hint(got, input_shape)}")
        return None
    anomaly = model["anomaly"]
    plan = AutoencoderPlan(
        kind=kind, encoder=stacks["encoder"], decoder=stacks["decoder"],
        code_shape=code_shape, noise=noise, latent_dim=latent_dim,
        heads=tuple(stacks.get("heads", ())),
        anomaly=AnomalyPlan(anomaly["error"], anomaly["method"],
                            float(anomaly.get("quantile", anomaly.get("std")))))
    shapes = _total(encoder, decoder, decoder)
    return _model_plan(input_shape, shapes, autoencoder=plan), \
        _autoencoder_compile(kind, shapes, compile_, made_compile)


def _fit(stacks: dict, name: str, input_shape: tuple, made: dict,
         problems: Problems) -> Shapes | None:
    """Assembles network `name` on inputs of `input_shape` (its layers made in `made`); keeps
    in `stacks` what its plan holds: a tuple of parts, or a graph with that input shape."""
    stack = stacks[name]
    if isinstance(stack, GraphPlan):
        stacks[name] = replace(stack, inputs=MappingProxyType(dict.fromkeys(stack.inputs,
                                                                            input_shape)))
        return check_graph_shapes(stacks[name], made[name], problems)
    stacks[name] = tuple(stack)
    return check_shapes(input_shape, made[name], stack, problems)


def _output_part(stack: tuple[Part, ...] | GraphPlan) -> Part:
    """The part of a network's last layer, or of a graph's output node."""
    if isinstance(stack, GraphPlan):
        return next(node.part for node in stack.nodes if node.name == stack.outputs)
    return stack[-1]


def _reshape_hint(got: tuple, want: tuple) -> str:
    if None in (*got, *want) or math.prod(got) != math.prod(want):
        return ""
    return f" (the same {math.prod(want)} values: a Reshape to {list(want)} would do)"


def _total(first: Shapes, second: Shapes | None, last: Shapes | None) -> Shapes:
    """Two stacks' sizes added up, with the output of `last`."""
    if second is None or last is None:
        return first
    return Shapes(parameters=first.parameters + second.parameters,
                  multiply_adds=first.multiply_adds + second.multiply_adds,
                  output_shape=last.output_shape, output_shapes={None: last.output_shape})


def _model_plan(input_shape: tuple, shapes: Shapes, **kind: Any) -> ModelPlan:
    return ModelPlan(input_shape=input_shape, layers=(), parameters=shapes.parameters,
                     multiply_adds=shapes.multiply_adds, output_shape=shapes.output_shape,
                     **kind)


def _autoencoder_compile(kind: str, shapes: Shapes, compile_: dict,
                         made_compile: dict) -> CompilePlan:
    name = loss_name(made_compile["loss"])
    outputs = (OutputPlan(None, shapes.output_shape, name, False, "model.decoder"),)
    if kind == "vae":
        names, modes = VAE_LOGS, {key: "min" for key in VAE_LOGS}
    else:
        names, modes = logged_names(outputs, made_compile["metrics"]), {}
    return CompilePlan(optimizer=compile_["optimizer"], loss=freeze(compile_["loss"]),
                       metrics=tuple(compile_["metrics"]), loss_name=name, metric_names=names,
                       classifier=False, outputs=outputs,
                       monitor_modes=MappingProxyType(modes))


def _gan(model: dict, stacks: dict, made: dict, compile_: dict, made_compile: dict,
         problems: Problems) -> tuple[ModelPlan, CompilePlan] | None:
    """Plans a GAN whose parts all resolved, after checking that its two networks fit."""
    input_shape, latent_dim = tuple(model["input_shape"]), model["latent_dim"]
    generator = _fit(stacks, "generator", (latent_dim,), made, problems)
    discriminator = _fit(stacks, "discriminator", input_shape, made, problems)
    if generator is not None and tuple(generator.output_shape[1:]) != input_shape:
        got = tuple(generator.output_shape[1:])
        problems.add("model.generator", f"the generator gives samples of shape {list(got)}, "
                     f"which do not fit the discriminator: it takes the data's shape "
                     f"{list(input_shape)} (model.input_shape); end the generator with a layer "
                     f"that gives {list(input_shape)}{_reshape_hint(got, input_shape)}")
    if discriminator is not None:
        _check_logit(discriminator, stacks["discriminator"], made_compile["loss"], problems)
    if problems.items or generator is None or discriminator is None:
        return None
    plan = GanPlan(latent_dim=latent_dim, generator=stacks["generator"],
                   discriminator=stacks["discriminator"],
                   generator_optimizer=compile_["generator_optimizer"],
                   discriminator_optimizer=compile_["discriminator_optimizer"],
                   loss=freeze(compile_["loss"]))
    shapes = _total(generator, discriminator, generator)
    name = loss_name(made_compile["loss"])
    compile_plan = CompilePlan(
        optimizer=compile_["generator_optimizer"], loss=plan.loss, metrics=(), loss_name=name,
        metric_names=("mmd",), classifier=False, losses=GAN_LOSSES,
        outputs=(OutputPlan(None, shapes.output_shape, name, False, "model.generator"),),
        monitor_modes=MappingProxyType({key: "min" for key in (*GAN_LOSSES, "mmd")}))
    return _model_plan(input_shape, shapes, gan=plan), compile_plan


def _check_logit(shapes: Shapes, stack: tuple[Part, ...] | GraphPlan, loss: Any,
                 problems: Problems) -> None:
    """The discriminator ends in one unit, a logit or a probability as the loss takes it."""
    got = tuple(shapes.output_shape[1:])
    if got != (1,):
        problems.add("model.discriminator", f"the discriminator ends in one unit per sample "
                     f"(whether it is real), like {{type: Dense, units: 1}}; it gives shape "
                     f"{list(got)}")
        return
    logits = bool(getattr(loss, "from_logits", False))
    activation = _output_part(stack).args.get("activation")
    last = key_path(_output_part(stack).path, "activation")
    if logits and activation == "sigmoid":
        problems.add(last, "the loss takes logits (from_logits: true) but the discriminator "
                     "ends in a sigmoid; leave its last layer linear")
    elif not logits and activation != "sigmoid" and "crossentropy" in loss_name(loss):
        problems.add(last, "the loss takes probabilities (from_logits is false) but the "
                     "discriminator's last layer is not a sigmoid; use activation: sigmoid or "
                     "a loss with from_logits: true")


def with_gan_monitors(callbacks: Mapping[str, Any]) -> Mapping[str, Any]:
    """A GAN's early stopping, checkpoints and learning-rate reduction watch ``val_mmd`` unless
    told otherwise: neither adversarial loss says whether samples got better (each falls as
    the other network weakens), while the maximum mean discrepancy between generated and
    held-out samples falls as their distributions meet."""
    settings = dict(callbacks)
    for key in MONITORING:
        if settings.get(key) is not None and "monitor" not in settings[key]:
            settings[key] = freeze({**settings[key], "monitor": GAN_MONITOR})
    return MappingProxyType(settings)
