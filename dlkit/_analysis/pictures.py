"""PNG pictures of a loss surface, its contours and a loss line, as bytes.

Drawn with ``matplotlib.figure.Figure`` alone, never ``pyplot``: no global figure state, no GUI
backend, safe in threads and servers. Losses spanning more than ``LOG_SCALE_RATIO`` (all
positive) are drawn on a log scale. Non-finite losses (a point that diverged, far out on the
plane) are drawn at the largest finite loss on surfaces and left out of lines; the title says
how many there were.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure

LOG_SCALE_RATIO = 100.0  # max/min loss above which the pictures use a log scale
CONTOUR_LEVELS = 30
_SIZE = (6.0, 4.8)
_DPI = 100


def surface_png(alpha: np.ndarray, beta: np.ndarray, loss: np.ndarray, *,
                title: str = "Loss surface") -> bytes:
    """A 3-D surface of ``loss[i, j]`` over ``(alpha[i], beta[j])``, as PNG bytes.

    Example:
        >>> s = loss_surface(model, x, y, dirs, grid=21, span=1.0)
        >>> Path("surface.png").write_bytes(surface_png(s["alpha"], s["beta"], s["loss"]))
    """
    values, log, note = _drawable(loss)
    figure = Figure(figsize=_SIZE, dpi=_DPI)
    axes = figure.add_subplot(projection="3d")
    a, b = np.meshgrid(alpha, beta, indexing="ij")
    axes.plot_surface(a, b, values, cmap="viridis", linewidth=0, antialiased=True)
    axes.set_xlabel("direction 1 (alpha)")
    axes.set_ylabel("direction 2 (beta)")
    axes.set_zlabel("log10 loss" if log else "loss")
    axes.set_title(title + note)
    return _png(figure)


def contour_png(alpha: np.ndarray, beta: np.ndarray, loss: np.ndarray, *,
                title: str = "Loss contours", path: tuple[np.ndarray, np.ndarray] | None = None,
                labels: tuple[str, str] = ("direction 1 (alpha)", "direction 2 (beta)")
                ) -> bytes:
    """Contour lines of ``loss[i, j]`` over ``(alpha[i], beta[j])``, the centre marked, as PNG.

    ``path``, the coordinates of points along training, is drawn over the contours from its
    first point (marked) to its last.
    """
    values, log, note = _drawable(loss)
    figure = Figure(figsize=_SIZE, dpi=_DPI)
    axes = figure.add_subplot()
    # contour wants Z[row = y index, column = x index]: alpha runs along x, so transpose.
    lines = axes.contour(alpha, beta, values.T, levels=CONTOUR_LEVELS, cmap="viridis")
    figure.colorbar(lines, ax=axes, label="log10 loss" if log else "loss")
    if path is not None:
        axes.plot(path[0], path[1], marker=".", color="tab:orange", label="training path")
        axes.plot(path[0][:1], path[1][:1], marker="o", color="tab:orange", markersize=8,
                  linestyle="none", label="initial")
    axes.plot([0.0], [0.0], marker="*", color="red", markersize=10, label="final weights")
    axes.set_xlabel(labels[0])
    axes.set_ylabel(labels[1])
    axes.set_aspect("equal")
    axes.legend(loc="best", fontsize=8)
    axes.set_title(title + note)
    return _png(figure)


def line_png(t: np.ndarray, loss: np.ndarray, *,
             title: str = "Loss from initial (t=0) to final (t=1) weights") -> bytes:
    """``loss`` against ``t`` with the initial and final points marked, as PNG bytes."""
    values, log, note = _drawable(loss, surface=False)
    figure = Figure(figsize=_SIZE, dpi=_DPI)
    axes = figure.add_subplot()
    axes.plot(t, values, color="tab:blue")
    for at, name in ((0.0, "initial"), (1.0, "final")):
        axes.axvline(at, color="grey", linestyle="--", linewidth=1)
        axes.annotate(name, (at, 1.0), xycoords=("data", "axes fraction"),
                      ha="center", va="bottom", fontsize=8)
    if log:
        axes.set_yscale("log")
    axes.set_xlabel("t")
    axes.set_ylabel("loss")
    axes.set_title(title + note, pad=14)
    return _png(figure)


def _drawable(loss: np.ndarray, *, surface: bool = True) -> tuple[np.ndarray, bool, str]:
    """The values to draw, whether they use a log scale, and a title note on non-finite ones.

    On a surface (``surface=True``) non-finite values become the largest finite one and a log
    scale is applied to the values; on a line they become NaN (a gap) and the caller sets a
    log axis.
    """
    values = np.asarray(loss, dtype=np.float64).copy()
    finite = np.isfinite(values)
    note = ""
    if not finite.all():
        where = "drawn at the maximum" if surface else "left out"
        note = f"\n({int((~finite).sum())} non-finite points {where})"
        values[~finite] = (values[finite].max() if finite.any() else 0.0) if surface else np.nan
    shown = values[np.isfinite(values)]
    log = bool(shown.size and shown.min() > 0 and shown.max() / shown.min() > LOG_SCALE_RATIO)
    if log and surface:
        values = np.log10(values)
    return values, log, note


def _png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
