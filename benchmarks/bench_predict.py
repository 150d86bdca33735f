"""Memory of `dlkit predict` on a large input: peak RSS on N and 20N samples, against the plain
Keras script (read the whole input, then ``model.predict``).

Run:  python benchmarks/bench_predict.py [--samples 10000] [--factor 20] [--source digits|table]

``--source digits`` (default) trains the digits CNN example for one epoch and writes two .npz
files of N and factor*N digits (noisy copies of scikit-learn's 8x8 digits); ``--source table``
trains examples/own_csv.yaml (raw passengers: numbers, text, blanks) for 2 epochs and writes two
raw CSV files of N and factor*N passengers, which dlkit encodes through the model's own inputs
and the plain script reads whole with the csv module. Each file is predicted in a fresh process,
four processes in all (dlkit N, dlkit 20N, Keras N, Keras 20N), one after another. Each child reports
its own peak resident set size (``VmHWM`` on Linux: ``ru_maxrss`` would carry over the parent's
size through fork and exec) and seconds. Target (issue 19): dlkit's peak RSS
does not grow with the input (20N within a few percent of N), while the plain script's grows
with the array it holds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
CLEAN_ENV = dict(os.environ)  # as the shell gave it: TensorFlow adds variables once imported
REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
import numpy as np
which, run_dir, data, out = sys.argv[1:5]
started = time.perf_counter()
if which == "dlkit":
    import dlkit
    dlkit.predict_file(run_dir, data, out=out, batch_size=256, verbose=0)
elif data.endswith(".csv"):  # a raw table: every column whole, then model.predict
    import csv, tensorflow as tf
    import dlkit
    model = dlkit.load_model(f"{run_dir}/model.keras")  # Keras' loader, FillMissing registered
    with open(data, newline="") as handle:
        rows = list(csv.DictReader(handle))
    text = {t.name for t in model.inputs if t.dtype == "string"}
    x = {t.name: tf.constant([[r[t.name].strip()] for r in rows]) if t.name in text else
         tf.constant([[float(r[t.name]) if r[t.name].strip() else float("nan")] for r in rows])
         for t in model.inputs}
    p = model.predict(x, batch_size=256, verbose=0)
    np.savetxt(out, p, delimiter=",", fmt="%.6g")
else:
    import keras
    model = keras.saving.load_model(f"{run_dir}/model.keras")
    x = np.load(data)["x"]
    p = model.predict(x, batch_size=256, verbose=0)
    np.savetxt(out, p, delimiter=",", fmt="%.6g")
seconds = time.perf_counter() - started
try:  # this process's own high-water mark (ru_maxrss keeps the parent's across fork + exec)
    status = open("/proc/self/status").read()
    peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
except (OSError, IndexError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"peak_rss_mb": peak, "seconds": seconds}))
"""


def make_npz(path: Path, samples: int) -> None:
    """`samples` noisy digits, written in chunks so this process stays small too."""
    from sklearn.datasets import load_digits

    images = (load_digits().images / 16.0).astype("float32")[..., None]
    rng = np.random.default_rng(0)
    x = np.lib.format.open_memmap(path.with_suffix(".npy"), mode="w+", dtype="float32",
                                  shape=(samples, 8, 8, 1))
    for start in range(0, samples, 50_000):
        n = min(50_000, samples - start)
        x[start:start + n] = images[rng.integers(0, len(images), n)] + \
            rng.normal(0, 0.05, (n, 8, 8, 1)).astype("float32")
    x.flush()
    del x
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.write(path.with_suffix(".npy"), "x.npy")
    path.with_suffix(".npy").unlink()


def trained(source: str, work: Path) -> tuple[Path, object, str]:
    """The run to predict with, the function that writes an input of n samples, its suffix."""
    import dlkit

    if source == "digits":
        spec = dlkit.load_spec(REPO / "examples" / "digits_cnn.yaml",
                               overrides=["train.epochs=1"])
        return dlkit.train(spec, logdir=work / "logs", verbose=0).log_dir, make_npz, ".npz"
    import importlib.util

    found = importlib.util.spec_from_file_location("own_csv", REPO / "examples" / "own_csv.py")
    own_csv = importlib.util.module_from_spec(found)
    found.loader.exec_module(own_csv)
    own_csv.write_passengers(work / "train.csv")
    spec = dlkit.load_spec(REPO / "examples" / "own_csv.yaml",
                           overrides=[f"data.path={work / 'train.csv'}", "train.epochs=2"])
    run_dir = dlkit.train(spec, logdir=work / "logs", verbose=0).log_dir
    return run_dir, lambda path, n: own_csv.write_passengers(path, rows=n, seed=1), ".csv"


def child(which: str, run_dir: Path, data: Path, out: Path) -> dict:
    env = {**CLEAN_ENV, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run([sys.executable, "-c", CHILD, which, str(run_dir), str(data),
                             str(out)], capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{which} on {data.name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--factor", type=int, default=20)
    parser.add_argument("--source", choices=("digits", "table"), default="digits")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        run_dir, make, suffix = trained(args.source, work)
        sizes = {"N": args.samples, f"{args.factor}N": args.samples * args.factor}
        results = {}
        for label, samples in sizes.items():
            make(work / f"{label}{suffix}", samples)
            for which in ("dlkit", "keras"):
                results[which, label] = child(which, run_dir, work / f"{label}{suffix}",
                                              work / f"{which}-{label}.out.csv")
        big = f"{args.factor}N"
        file_mb = (work / f"{big}{suffix}").stat().st_size / 2**20
        print(f"predict on N={args.samples:,} and {big}={sizes[big]:,} samples "
              f"(the {big} file: {file_mb:.0f} MB)")
        print(f"{'':8}{'peak RSS N':>12}{'peak RSS ' + big:>16}{'growth':>10}"
              f"{'seconds N':>12}{'seconds ' + big:>14}")
        for which in ("dlkit", "keras"):
            small, large = results[which, "N"], results[which, big]
            print(f"{which:8}{small['peak_rss_mb']:>10.0f}MB{large['peak_rss_mb']:>14.0f}MB"
                  f"{large['peak_rss_mb'] / small['peak_rss_mb']:>9.2f}x"
                  f"{small['seconds']:>12.1f}{large['seconds']:>14.1f}")


if __name__ == "__main__":
    import numpy as np

    main()
