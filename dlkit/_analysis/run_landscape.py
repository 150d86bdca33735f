"""``dlkit.landscape``: a run's loss landscape and sharpness, written into its run directory."""

from __future__ import annotations

from typing import Any

from dlkit._analysis._checks import check_float, check_int
from dlkit._analysis.gridprogress import GridProgress
from dlkit._analysis.landscape import landscape_files
from dlkit._analysis.limits import MAX_GRID, MAX_SPAN
from dlkit._analysis.runfiles import check_choice, open_run, run_data
from dlkit._callbacks.progress import choose_mode

LANDSCAPE_DIR = "landscape"
DEFAULT_GRID = 25
DEFAULT_SPAN = 1.0


def landscape(run: Any, *, grid: int = DEFAULT_GRID, span: float = DEFAULT_SPAN,
              data: str | tuple = "train", samples: int | None = None, seed: int = 0,
              verbose: int | str = "auto") -> dict[str, Any]:
    """Draws a finished run's loss landscape and measures how sharp its minimum is.

    Writes ``<run>/landscape/``: ``surface.npz`` (``alpha``, ``beta``, ``loss``) over the plane
    of two random filter-normalised directions through the final weights (Li et al. 2018;
    biases and normalization parameters left out), ``line.npz`` (``t``, ``loss``: t=0 the
    initial weights, t=1 the final ones, from t=-0.25 to 1.5), ``surface.png``, ``contour.png``,
    ``line.png`` and ``sharpness.json`` (``hessian_top_eigenvalue`` by power iteration,
    ``epsilon_sharpness`` as Keskar et al. 2017 define it, ``epsilon``). When the run kept a
    checkpoint per epoch (``callbacks: {checkpoint: {save_best_only: false,
    save_weights_only: true}}``), also ``path.npz`` and ``path.png``: the path training took,
    on the surface of the plane that holds most of it. The pictures also go to the run's
    TensorBoard events (``landscape/...`` images) unless the run turned TensorBoard off.

    The model is the run's ``model.keras`` (loaded in safe mode; its loss computed in float32
    whatever precision it trained in) and ``initial.weights.h5``. The data is the run's own,
    loaded from its ``spec.yaml`` as training loaded it, with the same seeded validation split.

    Args:
        run: a `Run` or a run directory.
        grid: surface points per side, 2 to 201 (``grid**2`` loss evaluations).
        span: the surface covers ``[-span, span]`` along both directions.
        data: ``"train"`` or ``"validation"`` (the run's split), or ``(x, y)`` arrays.
        samples: evaluate on a random subsample of this many samples (None: all).
        seed: seeds the directions, the subsample and the sharpness estimates.
        verbose: 0 no progress display, else as `dlkit.train`'s.

    Returns:
        A JSON-ready summary: ``out_dir``, ``files``, ``samples``, ``loss`` (at the final
        weights), ``surface_min``/``surface_max``, ``line_initial``/``line_final``,
        ``hessian_top_eigenvalue``, ``hessian_converged``, ``epsilon_sharpness``, ``epsilon``,
        ``path`` (None, or its ``points``, ``explained`` shares, ``loss_start``, ``loss_end``),
        ``seconds``, ``run_dir``, ``data`` and ``tensorboard`` (where the images went, or None).

    Raises:
        ValueError: an argument is out of range.
        RunDirError: ``run`` is no run directory, or one without ``initial.weights.h5``.
        ModelFileError: the run has no ``model.keras`` (it did not finish).
        DataError: the run's data cannot be loaded again, or it had no validation data.

    Example:
        >>> result = dlkit.landscape("logs/digits-mlp/20260101-120000", grid=25)
        >>> result["hessian_top_eigenvalue"], result["epsilon_sharpness"]
    """
    grid = check_int("grid", grid, 2, MAX_GRID)  # every argument checked before any work
    span = check_float("span", span, 0.0, MAX_SPAN)
    seed = check_int("seed", seed, 0, 2**63 - 1)
    if samples is not None:
        samples = check_int("samples", samples, 1, 2**63 - 1)
    check_choice(data)
    opened = open_run(run)
    x, y = run_data(opened, data)
    run_dir = opened.run_dir
    tensorboard = run_dir if opened.plan.callback("tensorboard") is not None else None
    path = [opened.initial, *opened.trajectory] if opened.trajectory else None
    epochs = [0, *opened.epochs]
    summary = landscape_files(run_dir / LANDSCAPE_DIR, opened.model, x, y, opened.initial,
                              grid=grid, span=span, seed=seed, tensorboard_dir=tensorboard,
                              on_progress=GridProgress(choose_mode(verbose)),
                              max_samples=samples, path=path, path_epochs=epochs)
    return {**summary, "run_dir": str(run_dir), "data": data if isinstance(data, str) else
            "arrays", "tensorboard": None if tensorboard is None else str(tensorboard)}

