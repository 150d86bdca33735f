"""Pass 3 of validation: do the layers fit together, and does the model fit in memory?

The model is assembled inside a throwaway `tf.Graph` (`scratch_graph`), from layers made from
the plan's parts there: Keras then creates every weight as a graph variable whose initial
value is never computed, so shapes are checked and parameters counted without allocating them
(a 10^12-parameter spec is refused in milliseconds instead of exhausting the machine).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import keras
import tensorflow as tf

from dlkit._core.errors import Problem, Problems, first_line
from dlkit._plan.graph import assemble, output_shapes
from dlkit._plan.parts import Part
from dlkit._plan.plan import GraphPlan
from dlkit._runtime.steps import model_multiply_adds

BYTES_PER_PARAMETER = 4  # float32 variables, also under mixed precision
MEMORY_SHARE = 0.5  # weights alone may take at most this share of the memory available


@dataclass(frozen=True)
class Shapes:
    """What assembling the model told: its size, its work per sample, its output."""

    parameters: int
    multiply_adds: int
    output_shape: tuple[int | None, ...]  # the (first) output's
    output_shapes: Mapping[str | None, tuple] = field(default_factory=dict)  # by output name


def scratch_graph() -> Any:
    """A throwaway graph: Keras objects made inside it allocate no weights."""
    return tf.Graph().as_default()


def check_shapes(input_shape: tuple, layers: list, parts: list[Part],
                 problems: Problems, dtype: str = "float32") -> Shapes | None:
    """Assembles `layers` (made from `parts` inside `scratch_graph`) into the model; returns
    what it learned, or None after recording a problem."""
    try:
        model = keras.Sequential([keras.Input(shape=input_shape, dtype=dtype), *layers])
    except Exception as exc:  # noqa: BLE001 - located below, with the layer's path
        problems.items.append(locate_shape_error(parts, input_shape, exc, dtype))
        return None
    count = model.count_params()
    check_memory(count, problems)
    return Shapes(parameters=count, multiply_adds=model_multiply_adds(model),
                  output_shape=tuple(model.output_shape),
                  output_shapes={None: tuple(model.output_shape)})


def check_graph_shapes(graph: GraphPlan, layers: list, problems: Problems, *,
                       sources: Callable[[dict], None] | None = None) -> Shapes | None:
    """Wires a graph's layers (made from its nodes' parts inside `scratch_graph`, in node
    order); returns what it learned, or None after recording every node that cannot take its
    inputs. `sources`: see `dlkit._plan.graph.assemble`."""
    model = assemble(graph, layers.__getitem__, problems, sources=sources)
    if model is None:
        return None
    count = model.count_params()
    check_memory(count, problems)
    shapes = output_shapes(model, graph)
    return Shapes(parameters=count, multiply_adds=model_multiply_adds(model),
                  output_shape=next(iter(shapes.values())), output_shapes=shapes)


def locate_shape_error(parts: list[Part], input_shape: tuple, exc: Exception,
                       dtype: str = "float32") -> Problem:
    """Feeds layers made afresh one by one to find the first that cannot take its input."""
    tensor = keras.Input(shape=input_shape, dtype=dtype)
    for part in parts:
        try:
            tensor = part.make()(tensor)
        except Exception as layer_exc:  # noqa: BLE001 - Keras' own message, with our path
            return Problem(part.path, f"{part.cls.__name__} cannot take its input of shape "
                           f"{tuple(tensor.shape)}: {first_line(layer_exc)}")
    return Problem("model", f"Keras could not assemble the model: {first_line(exc)}")


def available_memory() -> int | None:
    """Bytes of memory available now (Linux, macOS), or None where it cannot be read."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(count: int, problems: Problems) -> None:
    """Refuses a model whose weights alone would take over half the memory available."""
    available = available_memory()
    needed = count * BYTES_PER_PARAMETER
    if available is not None and needed > MEMORY_SHARE * available:
        problems.add("model", f"the model has {count:,} parameters, {_gb(needed)} of weights "
                     f"alone, but this machine has {_gb(available)} of memory available (and "
                     "training with Adam needs about 4x the weights); make the layers smaller")


def _gb(size: Any) -> str:
    return f"{size / 2**30:.1f} GB"
