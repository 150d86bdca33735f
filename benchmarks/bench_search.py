"""Search cost: memory across trials, dlkit's per-trial overhead against the same search written
by hand with KerasTuner, and trials per minute with 1 and 2 workers.

Run:  python benchmarks/bench_search.py [--trials 20] [--epochs 30] [--repeats 2]
      (about 10 minutes on 2 cores)

The search: a random search of 20 trials over the digits MLP (width, activation, dropout,
learning rate; `examples/digits_search.yaml` without early stopping, so every trial trains the
same number of epochs). Each side runs in a fresh process, alternating:

- dlkit: ``dlkit.search(spec)``, with ``runtime: {precision: float32,
  steps_per_execution: 1}`` so that training itself is what Keras does by default and the
  difference is dlkit's own work per trial (validating the trial's spec, its run directory,
  history, backup, TensorBoard scalars and hparams, the saved model, search.json);
- by hand: ``keras_tuner.RandomSearch`` over a model-building function with the same spaces,
  ``tuner.search(x, y, validation_data=..., callbacks=[TensorBoard(...)])`` on the same data
  split (KerasTuner then logs hparams too, and checkpoints each trial's best epoch).

Printed: wall time of the search (imports excluded), its ratio dlkit / by hand (target
<= 1.05) and the overhead per trial in seconds, and the same for the process's CPU time (less
moved by other work on a shared machine; the workers' own is not counted); the resident memory after the first trial and
the peak growth over it during the rest (target <= 50 MB); trials per minute through dlkit
with 1 worker (in process) and with ``workers=2`` (two worker processes and the chief; worker
start-up included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
PAGE = os.sysconf("SC_PAGE_SIZE")


def spec(trials: int, epochs: int) -> dict:
    import yaml

    data = yaml.safe_load((REPO / "examples" / "digits_search.yaml").read_text())
    data["train"]["epochs"] = epochs
    data["callbacks"] = {}
    data["runtime"] = {"precision": "float32", "steps_per_execution": 1}
    data["search"]["max_trials"] = trials
    return data


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class Memory:
    """Samples this process's resident memory, and notes it each time `ended()` grows."""

    def __init__(self, ended: Callable[[], int]) -> None:
        self.ended, self.at_trial, self.samples = ended, {}, []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            now = rss()
            self.samples.append((self.ended(), now))
            count = self.samples[-1][0]
            if count and count not in self.at_trial:
                self.at_trial[count] = now

    def result(self) -> dict:
        self.stop.set()
        self.thread.join()
        first = self.at_trial.get(1, 0)
        later = [value for count, value in self.samples if count >= 1]
        return {"rss_after_first": first, "peak_growth": max(later, default=first) - first,
                "rss_at": self.at_trial}


def read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # not written yet, or being replaced
        return {}


def dlkit_trials(root: Path) -> int:
    """Trials ended so far, from dlkit's search.json."""
    return sum(len(read(path).get("trials", [])) for path in root.glob("*/*/search.json"))


def keras_tuner_trials(root: Path) -> int:
    """Trials ended so far, from KerasTuner's trial.json files."""
    return sum(read(path).get("status") in ("COMPLETED", "FAILED")
               for path in root.glob("bench/trial_*/trial.json"))


def run_dlkit(trials: int, epochs: int, workers: int, root: Path) -> dict:
    import dlkit

    memory = Memory(lambda: dlkit_trials(root))
    start, cpu = time.perf_counter(), time.process_time()
    result = dlkit.search(spec(trials, epochs), logdir=root, workers=workers, verbose=0)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"seconds": seconds, "cpu_seconds": cpu, "trials": len(result.trials),
            **memory.result()}


def run_by_hand(trials: int, epochs: int, root: Path) -> dict:
    import keras
    import keras_tuner
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = (digits.data / 16.0).astype("float32"), digits.target
    order = np.random.default_rng(42).permutation(len(x))
    cut = int(len(x) * 0.8)
    train, val = order[:cut], order[cut:]

    def build(hp):  # KerasTuner's model-building function
        model = keras.Sequential([
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("units", 32, 256, step=32),
                               activation=hp.Choice("activation", ["relu", "tanh"]),
                               kernel_initializer="he_normal"),
            keras.layers.Dropout(hp.Float("rate", 0.0, 0.5, step=0.1)),
            keras.layers.Dense(10, activation="softmax")])
        model.compile(keras.optimizers.Adam(hp.Float("learning_rate", 1e-4, 1e-2,
                                                     sampling="log")),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    memory = Memory(lambda: keras_tuner_trials(root))
    start, cpu = time.perf_counter(), time.process_time()
    tuner = keras_tuner.RandomSearch(build, objective="val_accuracy", max_trials=trials,
                                     seed=1, directory=str(root), project_name="bench")
    tuner.search(x[train], y[train], epochs=epochs, batch_size=64, verbose=0,
                 validation_data=(x[val], y[val]),
                 callbacks=[keras.callbacks.TensorBoard(str(root / "tensorboard"))])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"seconds": seconds, "cpu_seconds": cpu, "trials": len(tuner.oracle.trials),
            **memory.result()}


def child(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-search-"))
    if args.child == "by_hand":
        result = run_by_hand(args.trials, args.epochs, root)
    else:
        result = run_dlkit(args.trials, args.epochs, 2 if args.child == "workers2" else 1, root)
    Path(args.out).write_text(json.dumps(result))


def measure(kind: str, args: argparse.Namespace) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, __file__, "--child", kind, "--trials", str(args.trials),
                        "--epochs", str(args.epochs), "--out", out.name], check=True,
                       env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL)
        return json.loads(Path(out.name).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", choices=("dlkit", "by_hand", "workers2"))
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    runs: dict[str, list[dict]] = {"dlkit": [], "by_hand": [], "workers2": []}
    for _ in range(args.repeats):
        for kind in runs:
            runs[kind].append(measure(kind, args))
            print(kind, json.dumps({k: v for k, v in runs[kind][-1].items() if k != "rss_at"}),
                  flush=True)
    report(runs, args.trials)


def report(runs: dict[str, list[dict]], trials: int) -> None:
    seconds = {kind: statistics.median(r["seconds"] for r in found)
               for kind, found in runs.items()}
    mb = 2**20
    print(f"\n{trials} trials; median wall time of the search:")
    print(f"  by hand with KerasTuner: {seconds['by_hand']:.1f} s")
    print(f"  dlkit.search:            {seconds['dlkit']:.1f} s   ratio "
          f"{seconds['dlkit'] / seconds['by_hand']:.3f} (target <= 1.05); overhead "
          f"{(seconds['dlkit'] - seconds['by_hand']) / trials:+.2f} s per trial")
    cpu = {kind: statistics.median(r["cpu_seconds"] for r in runs[kind])
           for kind in ("dlkit", "by_hand")}
    print(f"  CPU time: by hand {cpu['by_hand']:.1f} s, dlkit {cpu['dlkit']:.1f} s, ratio "
          f"{cpu['dlkit'] / cpu['by_hand']:.3f}; overhead "
          f"{(cpu['dlkit'] - cpu['by_hand']) / trials:+.2f} s per trial")
    for kind in ("dlkit", "by_hand"):  # the chief of workers=2 trains nothing itself
        worst = max(runs[kind], key=lambda r: r["peak_growth"])
        print(f"  {kind}: memory after the first trial {worst['rss_after_first'] / mb:.0f} MB, "
              f"peak growth over the next {trials - 1} trials "
              f"{worst['peak_growth'] / mb:.1f} MB (target <= 50 MB)")
    for kind, workers in (("dlkit", 1), ("workers2", 2)):
        print(f"  trials per minute with {workers} worker(s): {60 * trials / seconds[kind]:.1f}")


if __name__ == "__main__":
    main()
