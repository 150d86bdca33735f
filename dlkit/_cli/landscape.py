"""``dlkit landscape RUN_DIR``: a run's loss surface, line and sharpness in RUN_DIR/landscape/."""

from __future__ import annotations

import argparse

from dlkit._analysis.limits import MAX_GRID, MAX_SPAN
from dlkit._cli.options import bounded

HELP = "draw a run's loss landscape and measure its sharpness"
DESCRIPTION = ("Draw the loss surface around a finished run's weights (two random "
               "filter-normalised directions), the loss on the line from its initial to its "
               "final weights, and its training path when it kept a checkpoint per epoch; "
               "measure the top Hessian eigenvalue and epsilon-sharpness. Writes "
               "RUN_DIR/landscape/ and TensorBoard images.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR",
                        help="a run directory that dlkit train wrote, logs/<name>/<stamp>")
    parser.add_argument("--grid", type=bounded(int, 2, MAX_GRID), default=25, metavar="N",
                        help=f"surface points per side, 2 to {MAX_GRID} (default 25)")
    parser.add_argument("--span", type=bounded(float, 0.0, MAX_SPAN, above=True), default=1.0,
                        metavar="S",
                        help="the surface covers [-S, S] along both directions (default 1)")
    parser.add_argument("--data", choices=("train", "validation"), default="train",
                        help="the run's training or validation split (default train)")
    parser.add_argument("--samples", type=bounded(int, 1, 2**63 - 1), metavar="N",
                        help="evaluate on a random subsample of N samples (default all)")
    parser.add_argument("--seed", type=bounded(int, 0, 2**63 - 1), default=0, metavar="N",
                        help="seeds the directions, the subsample and sharpness (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")


def run(args: argparse.Namespace) -> int:
    import dlkit

    result = dlkit.landscape(args.run_dir, grid=args.grid, span=args.span, data=args.data,
                             samples=args.samples, seed=args.seed,
                             verbose=0 if args.quiet else "auto")
    print(summary(result))
    return 0


def summary(result: dict) -> str:
    """What `dlkit landscape` prints: the numbers, then where the files and images went."""
    converged = "converged" if result["hessian_converged"] else "not converged"
    lines = [
        f"landscape of {result['run_dir']} on {result['samples']} {result['data']} samples: "
        f"{result['grid']}x{result['grid']} surface over [-{result['span']:g}, "
        f"{result['span']:g}] in {result['seconds']:.1f}s",
        f"  loss at the final weights {result['loss']:.4g}; over the surface "
        f"{result['surface_min']:.4g} to {result['surface_max']:.4g}",
        f"  line: loss {result['line_initial']:.4g} at the initial weights (t=0), "
        f"{result['line_final']:.4g} at the final ones (t=1)",
    ]
    path = result["path"]
    if path is not None:
        first, second = path["explained"]
        lines.append(f"  path: {path['points']} points, the initial weights and each epoch's; "
                     f"its plane holds {first:.0%} + {second:.0%} of it; loss "
                     f"{path['loss_start']:.4g} -> {path['loss_end']:.4g}")
    lines += [
        f"  sharpness: top Hessian eigenvalue {result['hessian_top_eigenvalue']:.4g} "
        f"({converged}); epsilon-sharpness {result['epsilon_sharpness']:.4g} "
        f"(epsilon {result['epsilon']:g})",
        f"files: {result['out_dir']}/ ({', '.join(result['files'])})",
    ]
    if result["tensorboard"]:
        lines.append(f"TensorBoard images (landscape/...): tensorboard --logdir "
                     f"{result['tensorboard']}")
    return "\n".join(lines)
