"""The networks of an autoencoder, VAE or GAN: a `keras.Sequential` of a list of layers, or a
functional `keras.Model` of a graph (skip connections, merges, blocks), named ``encoder``,
``decoder``, ``generator`` or ``discriminator``, so each saves and loads on its own."""

from __future__ import annotations

from collections.abc import Callable

import keras

from dlkit._core.errors import Problems, SpecError
from dlkit._plan.graph import assemble
from dlkit._plan.kindplans import Network
from dlkit._plan.plan import GraphPlan


def network(stack: Network, input_shape: tuple, name: str) -> keras.Model:
    """A new model of a network's plan, taking samples of `input_shape` (a graph's plan holds
    its input's shape), its layers made in the order a hand-written script makes them.

    Raises:
        SpecError: a graph that does not assemble (validation assembled the same graph: only a
            changed Keras gets here).
    """
    if not isinstance(stack, GraphPlan):
        return keras.Sequential([keras.Input(input_shape), *(part.make() for part in stack)],
                                name=name)
    return graph_model(stack, name)


def graph_model(graph: GraphPlan, name: str,
                sources: Callable[[dict], None] | None = None) -> keras.Model:
    """A functional model of a graph's plan, each layer made just before it is called;
    `sources` adds named tensors its nodes take (a base's output, `dlkit._model.base`).

    Raises:
        SpecError: a graph that does not assemble (validation assembled the same graph: only a
            changed Keras gets here).
    """
    problems = Problems()
    model = assemble(graph, lambda index: graph.nodes[index].part.make(), problems, name=name,
                     sources=sources)
    if model is None:
        raise SpecError(problems.items)
    return model
