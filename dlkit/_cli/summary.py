"""The end-of-run summary printed by `dlkit train`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlkit import Run


# Run.best["phase"] of a run that fine-tuned its base (train.fine_tune)
PHASES = {"train": "first phase", "fine_tune": "fine-tuning phase"}


def summary_line(run: Run) -> str:
    """The best epoch by the metric that chose it (early stopping's monitor, in its direction,
    else the lowest validation loss), the phase it came from when the run fine-tuned, its
    metrics, and where the run is."""
    where = f"run directory: {run.log_dir}" if run.chief else \
        "run directory: written by the chief (this worker's files were temporary)"
    if run.worker is not None:
        where += f"\n{run.worker}; weights digest {run.weights_digest}"
    best = run.best
    if best is None:
        return where
    index = best["epoch"] - 1
    shown = ", ".join(f"{k} {v[index]:.4f}" for k, v in run.history.items() if len(v) > index)
    epochs = len(run.history.get("loss", []))
    goal = "highest" if best["goal"] == "max" else "lowest"
    phase = f" ({PHASES[best['phase']]})" if best.get("phase") in PHASES else ""
    return f"best epoch {best['epoch']} of {epochs}{phase} by {best['monitor']} ({goal}): " \
        f"{shown}\n{where}"
