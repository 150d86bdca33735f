"""How long `dlkit train` takes from process start to its first finished training step.

Runs the real command (`python -m dlkit train SPEC`) in fresh processes, for this checkout and,
with ``--baseline REF``, for another commit checked out beside it (a temporary git worktree),
alternating the two so that the machine's drift hits both alike. A small hook ends each
process the moment Keras reports the first train batch done, so what is timed is start-up:
imports, reading and validating the spec, data, strategy, building, and the first step
(including TensorFlow tracing it). Prints the median of each and their ratio.

    python benchmarks/bench_startup.py --baseline 7aab4bf --repeats 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Runs the CLI with Keras' callback list ending the process at the first finished batch.
HOOK = """
import os, sys, time
import keras

def first_step(self, batch, logs=None):
    sys.stderr.write(f"FIRST_STEP {time.time()!r}\\n")
    sys.stderr.flush()
    os._exit(0)

keras.callbacks.CallbackList.on_train_batch_end = first_step
from dlkit._cli import main
sys.exit(main(sys.argv[1:]))
"""


def time_once(tree: Path, spec: Path, logdir: Path) -> float:
    """Seconds from starting the process to the end of its first training step."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    started = time.time()
    result = subprocess.run([sys.executable, "-c", HOOK, "train", str(spec), "--set",
                             "train.epochs=1", "--logdir", str(logdir), "--quiet"],
                            cwd=tree, env=env, capture_output=True, text=True, timeout=600)
    marks = [line for line in result.stderr.splitlines() if line.startswith("FIRST_STEP ")]
    if not marks:
        raise RuntimeError(f"{tree}: no training step (exit {result.returncode}):\n"
                           f"{result.stderr[-2000:]}")
    return float(marks[0].split()[1]) - started


def worktree(ref: str, where: Path) -> Path:
    path = where / f"baseline-{ref}"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(path), ref],
                   check=True, capture_output=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", metavar="REF", help="a commit to compare against")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--spec", default="examples/digits_cnn.yaml")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        trees = {"this checkout": REPO}
        if args.baseline:
            trees = {f"baseline {args.baseline}": worktree(args.baseline, scratch), **trees}
        times: dict[str, list[float]] = {name: [] for name in trees}
        try:
            for _ in range(args.repeats):
                for name, tree in trees.items():
                    times[name].append(time_once(tree, tree / args.spec, scratch / "logs"))
        finally:
            for name, tree in trees.items():
                if tree != REPO:
                    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                                    str(tree)], capture_output=True)
    print(f"dlkit train {args.spec}: process start to first training step, "
          f"median of {args.repeats} alternating runs")
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        spread = f"{min(values):.2f}-{max(values):.2f}"
        print(f"  {name:<24} {medians[name]:6.2f} s   (runs {spread} s)")
    if args.baseline:
        base, this = medians[f"baseline {args.baseline}"], medians["this checkout"]
        print(f"  this / baseline = {this / base:.3f}  (below 1: faster)")


if __name__ == "__main__":
    main()
