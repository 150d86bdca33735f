"""Training diagnostics: each layer's health at initialisation and after a few training steps.

``diagnose`` measures, on one fixed batch, every layer that has a kernel or is an activation
layer: the fraction of dead ReLU units, of saturated sigmoid/tanh outputs, the standard
deviation of its outputs, the norm of its kernel's gradient and whether its units are all alike
("symmetric"). It does so with the model as it is, then trains a copy of its state for ``steps``
steps (a fresh optimizer built from the compiled one's config; the model's own optimizer is not
touched) and measures again, then puts every variable of the model back. What the numbers mean
and the warning thresholds are in ``_layer_checks``.

Why He initialisation beats zeros for a ReLU network, in these numbers: with zero kernels
every hidden unit computes relu(0) = 0 for every sample (dead fraction 1.0, activation std 0),
all units of a layer are identical (symmetric), and every kernel gradient is exactly 0, because
each is a product of a zero activation or a zero weight; training never changes them, so after
N steps the numbers are the same. ``he_normal`` draws distinct weights with variance 2/fan_in,
which keeps the ReLU outputs' scale from layer to layer: about half the units are active for a
sample, none is dead over a batch, and every kernel gets a gradient.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from dlkit._analysis._checks import check_compiled, check_data, check_int
from dlkit._analysis._layer_checks import (
    THRESHOLDS,
    activation_name,
    is_checked,
    kernel_of,
    layer_stats,
    layer_warnings,
)
from dlkit._analysis._stateless import as_input, batch_loss_fn, variables_kept
from dlkit._analysis.limits import MAX_STEPS

PHASES = ("at_init", "after")


class Diagnosis(dict):
    """The JSON-ready result of ``diagnose``; ``.data`` holds the raw per-layer arrays.

    ``data[phase][layer_name]`` is ``{"activations": array, "gradients": array | None}`` for
    ``phase`` in ``("at_init", "after")``, for ``write_histograms``; ``data["steps"]`` is N.
    """

    data: dict[str, Any]


def diagnose(model: keras.Model, x: Any, y: Any, *, steps: int = 20, batch_size: int = 64,
             seed: int = 0) -> Diagnosis:
    """Measures each layer's health at initialisation and after ``steps`` training steps.

    Args:
        model: a compiled Sequential or functional Keras model, as built (not yet trained).
        x: inputs, a NumPy array.
        y: targets, a NumPy array with as many samples.
        steps: training steps between the two measurements (1 to 100,000).
        batch_size: samples per training step, and in the measured batch.
        seed: seeds the measured batch and the order of the training batches.

    Returns:
        A ``Diagnosis`` (a dict): ``{"layers": [{"name", "type", "activation", "units",
        "at_init": {...}, "after": {...}}, ...], "warnings": [{"layer", "kind", "phases",
        "message"}, ...], "steps": N, "batch_size": B, "thresholds": {...}}`` where each phase
        holds ``dead_fraction``, ``saturated_fraction`` (None where the activation has no such
        notion), ``activation_std``, ``gradient_norm`` (None without a kernel) and ``symmetric``.

    Raises:
        ValueError: an argument is out of range, or the model is not Sequential/functional.

    Example:
        >>> print(diagnosis_table(diagnose(model, x_train, y_train, steps=20)))
    """
    check_compiled(model)
    x, y = check_data(x, y)
    steps = check_int("steps", steps, 1, MAX_STEPS)
    batch_size = check_int("batch_size", batch_size, 1, 2**31 - 1)
    seed = check_int("seed", seed, 0, 2**63 - 1)
    layers = [layer for layer in model.layers if is_checked(layer)]
    probe = _probe(model, layers)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(x), size=min(batch_size, len(x)), replace=False))
    xb, yb = as_input(x[pick]), tf.constant(y[pick])
    with variables_kept(model):
        first = _measure(model, probe, layers, xb, yb)
        _train(model, x, y, steps=steps, batch_size=batch_size, rng=rng)
        second = _measure(model, probe, layers, xb, yb)
    return _result(layers, first, second, steps=steps, batch_size=len(pick))


def _probe(model: keras.Model, layers: list[keras.layers.Layer]) -> keras.Model:
    """A model from the same inputs to the outputs of ``layers`` (sharing the variables)."""
    try:
        return keras.Model(model.inputs, [layer.output for layer in layers])
    except (AttributeError, ValueError) as error:
        raise ValueError("Invalid value received for argument model. Expected a Sequential or "
                         "functional model whose layers each have one output. Received: "
                         f"model={model.name!r} ({error})") from None


def _measure(model: keras.Model, probe: keras.Model, layers: list[keras.layers.Layer],
             xb: tf.Tensor, yb: tf.Tensor) -> list[dict[str, Any]]:
    """Per layer: the stats and the raw arrays, on one batch, at the model's current weights.

    Outputs are taken in inference mode; gradients in training mode (dropout on, batch
    statistics), without updating anything.
    """
    outputs = probe(xb, training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    trainable = [tf.convert_to_tensor(v) for v in model.trainable_variables]
    non_trainable = [tf.convert_to_tensor(v) for v in model.non_trainable_variables]
    with tf.GradientTape() as tape:
        tape.watch(trainable)
        loss = batch_loss_fn(model, training=True)(trainable, non_trainable, xb, yb)
    grads = tape.gradient(loss, trainable, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    by_id = {id(v): g.numpy() for v, g in zip(model.trainable_variables, grads)}
    measured = []
    for layer, output in zip(layers, outputs):
        kernel = kernel_of(layer)
        gradient = None if kernel is None else by_id[id(kernel)]
        activations = np.asarray(output)
        stats = layer_stats(activation_name(layer), activations,
                            None if kernel is None else kernel.numpy(), gradient)
        measured.append({"stats": stats, "activations": activations, "gradients": gradient})
    return measured


def _train(model: keras.Model, x: np.ndarray, y: np.ndarray, *, steps: int, batch_size: int,
           rng: np.random.Generator) -> None:
    """``steps`` training steps on shuffled batches, with a fresh copy of the model's optimizer."""
    optimizer = keras.optimizers.deserialize(keras.optimizers.serialize(model.optimizer))
    optimizer.build(model.trainable_variables)

    @tf.function(reduce_retracing=True)
    def step(xb: tf.Tensor, yb: tf.Tensor) -> None:
        with tf.GradientTape() as tape:
            y_pred = model(xb, training=True)
            loss = model.compute_loss(x=xb, y=yb, y_pred=y_pred, training=True)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))

    for indices in _batch_indices(len(x), batch_size, steps, rng):
        step(as_input(x[indices]), tf.constant(y[indices]))


def _batch_indices(count: int, batch_size: int, steps: int,
                   rng: np.random.Generator) -> Iterator[np.ndarray]:
    """``steps`` batches of indices, epoch after epoch of fresh permutations."""
    done = 0
    while done < steps:
        order = rng.permutation(count)
        for start in range(0, count, batch_size):
            if done == steps:
                return
            yield order[start:start + batch_size]
            done += 1


def _result(layers: list[keras.layers.Layer], first: list[dict], second: list[dict], *,
            steps: int, batch_size: int) -> Diagnosis:
    """Assembles the JSON-ready result, its warnings and its raw data."""
    rows = []
    for layer, before, after in zip(layers, first, second):
        rows.append({"name": layer.name, "type": type(layer).__name__,
                     "activation": activation_name(layer),
                     "units": int(after["activations"].shape[-1]),
                     "at_init": before["stats"], "after": after["stats"]})
    warnings = _warnings(rows, steps)
    result = Diagnosis(layers=rows, warnings=warnings, steps=steps, batch_size=batch_size,
                       thresholds=dict(THRESHOLDS))
    result.data = {"steps": steps, **{
        phase: {layer.name: {"activations": m["activations"], "gradients": m["gradients"]}
                for layer, m in zip(layers, measured)}
        for phase, measured in zip(PHASES, (first, second))}}
    return result


def _warnings(rows: list[dict], steps: int) -> list[dict]:
    """Every layer's warnings; one seen in both phases is one warning with the later numbers."""
    merged: dict[tuple[str, str], dict] = {}
    for phase in PHASES:
        norms = [row[phase]["gradient_norm"] for row in rows]
        largest = max((n for n in norms if n is not None), default=0.0)
        for row in rows:
            for found in layer_warnings(row, phase, largest):
                key = (found["layer"], found["kind"])
                phases = [*merged[key]["phases"], phase] if key in merged else [phase]
                merged[key] = {"layer": found["layer"], "kind": found["kind"], "phases": phases,
                               "detail": found["detail"]}
    when = {("at_init",): "at init", ("after",): f"after {steps} steps",
            PHASES: f"at init and after {steps} steps"}
    return [{"layer": w["layer"], "kind": w["kind"], "phases": w["phases"],
             "message": f"{w['layer']} ({when[tuple(w['phases'])]}): {w['detail']}"}
            for w in merged.values()]


def diagnosis_table(result: dict) -> str:
    """``diagnose``'s result as a plain-text table for the terminal, warnings underneath.

    Example:
        >>> print(diagnosis_table(diagnose(model, x, y)))
        layer    type   activation  units  phase    dead  saturated  act std  grad norm  symmetric
        dense    Dense  relu           16  at init    0%          -    0.812      0.231  no
        ...
    """
    header = ("layer", "type", "activation", "units", "phase", "dead", "saturated", "act std",
              "grad norm", "symmetric")
    rows = []
    for layer in result["layers"]:
        for phase in PHASES:
            stats = layer[phase]
            first = phase == PHASES[0]
            rows.append((
                layer["name"] if first else "", layer["type"] if first else "",
                layer["activation"] if first else "", str(layer["units"]) if first else "",
                "at init" if first else f"after {result['steps']}",
                _percent(stats["dead_fraction"]), _percent(stats["saturated_fraction"]),
                _number(stats["activation_std"]), _number(stats["gradient_norm"]),
                "yes" if stats["symmetric"] else "no"))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    right = {3, 5, 6, 7, 8}
    lines = ["  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                       for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
             for row in (header, *rows)]
    warnings = result["warnings"]
    lines.append("")
    lines.append(f"warnings ({len(warnings)}):" if warnings else "no warnings")
    lines.extend(f"  - {warning['message']}" for warning in warnings)
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def write_histograms(result_or_data: Any, log_dir: Path) -> None:
    """Writes each layer's activations and kernel gradients as TensorBoard histograms.

    Tags are ``diagnose/<layer>/activations`` and ``diagnose/<layer>/kernel_gradient``, at
    step 0 for the initialisation and step N after N training steps.

    Args:
        result_or_data: what ``diagnose`` returned, or its ``.data``.
        log_dir: the TensorBoard log folder to write an event file into.

    Raises:
        ValueError: ``result_or_data`` carries no raw data (e.g. a result read back from JSON).
    """
    data = getattr(result_or_data, "data", result_or_data)
    if not isinstance(data, dict) or not all(phase in data for phase in PHASES):
        raise ValueError("Invalid value received for argument result_or_data. Expected what "
                         "diagnose() returned or its .data (a result read back from JSON has "
                         "no raw arrays). Received: "
                         f"result_or_data of type {type(result_or_data).__name__}")
    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default():
        for phase, step in zip(PHASES, (0, int(data.get("steps", 1)))):
            for name, arrays in data[phase].items():
                tf.summary.histogram(f"diagnose/{name}/activations", arrays["activations"],
                                     step=step)
                if arrays["gradients"] is not None:
                    tf.summary.histogram(f"diagnose/{name}/kernel_gradient", arrays["gradients"],
                                         step=step)
    writer.close()
