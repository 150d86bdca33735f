"""``dlkit validate SPEC``: every problem at once, or a one-line summary."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dlkit._cli.options import add_set, add_spec

if TYPE_CHECKING:
    from dlkit import SearchSpec

HELP = "check a spec and build its model"
DESCRIPTION = ("Check a spec: exit 0 with a one-line summary, or exit 2 listing every problem. "
               "A spec with search spaces is checked, and its model built, at the smallest and "
               "the largest value of every space.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec(parser)
    add_set(parser)


def run(args: argparse.Namespace) -> int:
    import dlkit

    search = dlkit.load_search(args.spec, overrides=args.overrides)
    if search.spaces:
        print(_search_summary(search, dlkit.build(search.smallest).count_params(),
                              dlkit.build(search.largest).count_params()))
        return 0
    spec = search.smallest
    model = dlkit.build(spec)
    if "kind" in spec["model"]:  # an autoencoder, VAE or GAN
        print(f"ok: {spec.name}: {_kind(spec, model)}")
        return 0
    layers = f"{len(model.layers)} layers"
    if "graph" in spec["model"]:
        inputs, outputs = len(model.inputs), len(model.outputs)
        layers += f" ({inputs} input{'s' * (inputs > 1)}, {outputs} output{'s' * (outputs > 1)})"
    print(f"ok: {spec.name}: {layers}, {model.count_params():,} parameters, "
          f"{_losses(spec['compile']['loss'])}, optimizer {type(model.optimizer).__name__}")
    return 0


def _kind(spec: Any, model: Any) -> str:
    """``autoencoder: encoder 2 layers (1,040 parameters), decoder ...``: each network's size,
    then the whole's, and how it is compiled."""
    kind, compile_ = spec["model"]["kind"], spec["compile"]
    names = ("generator", "discriminator") if kind == "gan" else ("encoder", "decoder")
    networks = [model.generator, model.discriminator] if kind == "gan" else \
        [model.get_layer(name) for name in names]
    parts = ", ".join(f"{name} {len(spec['model'][name])} layers "
                      f"({network.count_params():,} parameters)"
                      for name, network in zip(names, networks))
    if kind == "gan":
        trained = ("optimizers " + ", ".join(
            f"{_name(compile_[f'{name}_optimizer'])} ({name})" for name in names))
    else:
        trained = f"optimizer {type(model.optimizer).__name__}"
    return f"{kind}: {parts}, {model.count_params():,} parameters in all, " \
        f"{_losses(compile_['loss'])}, {trained}"


def _name(value: Any) -> str:
    return value if isinstance(value, str) else value["type"]


def _losses(loss: Any) -> str:
    """``loss mse``, or ``losses label sparse_categorical_crossentropy, score mse``."""
    if isinstance(loss, Mapping) and "type" not in loss:
        return "losses " + ", ".join(f"{output} {_name(value)}" for output, value in loss.items())
    return f"loss {_name(loss)}"


def _search_summary(search: SearchSpec, smallest: int, largest: int) -> str:
    settings = search.settings
    trials = settings.get("max_trials")
    objective = settings["objective"]
    spaces = "; ".join(f"{space.path} {space.describe()}" for space in search.spaces)
    return (f"ok: {search.name}: {len(search.spaces)} search space(s) ({spaces}); "
            f"{settings['algorithm']} search{f' of {trials} trials' if trials else ''} for the "
            f"{'highest' if objective['direction'] == 'max' else 'lowest'} {objective['name']}; "
            f"the model builds at the smallest values ({smallest:,} parameters) and at the "
            f"largest ({largest:,})")
