"""An export's outputs against the model's on the same samples."""

from __future__ import annotations

import numpy as np

from dlkit._deploy.trained import class_of


def compare(reference: list[np.ndarray], got: list[np.ndarray], *, classifier: bool,
            labels: np.ndarray | None = None) -> dict:
    """What an export computes next to what the model computes.

    Args:
        reference: the model's outputs, in the model's output order.
        got: the export's outputs, in the same order.
        classifier: whether the (first) output predicts classes.
        labels: the samples' labels (integers, or one-hot), for accuracies.

    Returns:
        ``max_abs_diff`` over every output; for classifiers ``agreement`` (the share of
        samples whose predicted class is the same) and, with labels, ``accuracy_before`` (the
        model's) and ``accuracy_after`` (the export's).
    """
    if len(reference) != len(got):
        raise ValueError(f"the export gives {len(got)} outputs, the model {len(reference)}")
    diff = max(float(np.max(np.abs(np.asarray(r, "float64") - np.asarray(g, "float64").reshape(
        np.shape(r))))) for r, g in zip(reference, got))
    result: dict = {"max_abs_diff": diff, "agreement": None}
    if not classifier:
        return result
    before, after = class_of(reference[0]), class_of(np.reshape(got[0], np.shape(reference[0])))
    result["agreement"] = float(np.mean(before == after))
    if labels is not None:
        truth = np.asarray(labels)
        truth = truth.argmax(-1) if truth.ndim == 2 and truth.shape[-1] > 1 else \
            truth.reshape(len(truth))
        result["accuracy_before"] = float(np.mean(before == truth))
        result["accuracy_after"] = float(np.mean(after == truth))
    return result
