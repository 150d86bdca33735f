"""Whether TensorFlow's runtime has started in this process.

No public API: `MultiWorkerMirroredStrategy` must be created before TensorFlow initialises its
eager context (it configures the collective ops at start-up), and TensorFlow has no public way
to ask whether that has happened. The context's ``_context_handle`` is set when it starts.
Checked on: TensorFlow 2.16-2.21. Test: ``tests/test_compat.py::
test_tensorflow_started_turns_true_with_the_first_op`` runs a fresh interpreter.
"""

from __future__ import annotations

from tensorflow.python.eager import context


def tensorflow_started() -> bool:
    """True once TensorFlow's eager context exists (after the first op or device listing)."""
    return getattr(context.context(), "_context_handle", None) is not None
