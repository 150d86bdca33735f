"""An export's outputs against the model's on the same samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from dlkit._deploy.trained import class_of


def compare(reference: list[np.ndarray], got: list[np.ndarray], *, outputs: list[str],
            classifiers: list[bool], labels: Any = None) -> dict:
    """What an export computes next to what the model computes.

    Args:
        reference: the model's outputs, in the model's output order.
        got: the export's outputs, in the same order.
        outputs: the outputs' names, in that order.
        classifiers: per output, whether it predicts classes.
        labels: the samples' labels (integers, or one-hot): one array for one output, a dict
            by output name for several; None where there are none.

    Returns:
        ``max_abs_diff`` over every output; ``agreement``, the share of samples whose
        predicted class is the same (the lowest over classifier outputs; None without one);
        for one output with labels ``accuracy_before`` (the model's) and ``accuracy_after``
        (the export's); for several outputs ``outputs``: each classifier output's own.
    """
    if len(reference) != len(got):
        raise ValueError(f"the export gives {len(got)} outputs, the model {len(reference)}")
    diff = max(float(np.max(np.abs(np.asarray(r, "float64") - np.asarray(g, "float64").reshape(
        np.shape(r))))) for r, g in zip(reference, got))
    result: dict = {"max_abs_diff": diff, "agreement": None}
    each = {name: _classes(r, g, _labels(labels, name, len(outputs)))
            for name, r, g, classifier in zip(outputs, reference, got, classifiers)
            if classifier}
    if not each:
        return result
    result["agreement"] = min(e["agreement"] for e in each.values())
    if len(outputs) == 1:
        result.update(next(iter(each.values())))
    else:
        result["outputs"] = each
    return result


def _labels(labels: Any, name: str, count: int) -> Any:
    if labels is None:
        return None
    if isinstance(labels, dict):
        return labels.get(name)
    return labels if count == 1 else None


def _classes(reference: np.ndarray, got: np.ndarray, labels: Any) -> dict[str, float]:
    """Agreement of one classifier output, and accuracies with labels."""
    before, after = class_of(reference), class_of(np.reshape(got, np.shape(reference)))
    result = {"agreement": float(np.mean(before == after))}
    if labels is not None:
        truth = np.asarray(labels)
        truth = truth.argmax(-1) if truth.ndim == 2 and truth.shape[-1] > 1 else \
            truth.reshape(len(truth))
        result["accuracy_before"] = float(np.mean(before == truth))
        result["accuracy_after"] = float(np.mean(after == truth))
    return result
