"""The digits CNN in every runtime dlkit exports to, side by side in one run.

Run:  python benchmarks/bench_deploy.py [--epochs 3] [--large 200000] [--requests 640]

1. Trains examples/digits_cnn.yaml and exports it (`dlkit.export`): SavedModel, ONNX, LiteRT,
   LiteRT int8; prints each file size and its check against model.keras.
2. Batch-1 latency (median of many calls) and batch-256 throughput of `model.predict`,
   `model(x)`, the SavedModel's serving signature, ONNX Runtime and LiteRT (float and int8),
   after a warm-up, taking turns call by call (medians).
3. `dlkit.predict_file` on a large .npz against the plain Keras script (load the model and the
   array, then `model.predict` and a CSV written with the csv module), both from the run
   directory, alternating, best of three.
4. `dlkit serve` in its own process: requests per second from one client at a time, from 32
   concurrent clients, and from 32 clients with batching off (``--max-batch 1``); each client
   keeps one connection and sends one sample per request.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
CLEAN_ENV = dict(os.environ)
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import dlkit  # noqa: E402
from dlkit._deploy.runtimes import load_runner  # noqa: E402


def runtimes(run_dir: Path, model: keras.Model) -> dict:
    """name -> f(x) for every runtime compared."""
    name = model.inputs[0].name
    export = run_dir / "export"
    found = {"model.predict": lambda x: model.predict(x, verbose=0, batch_size=256),
             "model(x)": lambda x: model(x, training=False)}
    for label, fmt, path in (("SavedModel", "saved_model", export / "saved_model"),
                             ("ONNX Runtime", "onnx", export / "onnx" / "model.onnx"),
                             ("LiteRT float32", "litert", export / "litert" / "model.tflite"),
                             ("LiteRT int8", "litert", export / "litert-int8" / "model.tflite")):
        runner = load_runner(fmt, path, [name], ["out"])
        found[label] = lambda x, runner=runner: runner({name: x})
    return found


def speeds(fns: dict, x1: np.ndarray, x256: np.ndarray, rounds: int) -> dict:
    """name -> (median batch-1 latency in ms, median batch-256 samples per second), the
    runtimes taking turns call by call so that a busy machine slows them all alike."""
    for fn in fns.values():
        for _ in range(5):
            fn(x1), fn(x256)
    latency = {name: [] for name in fns}
    batch = {name: [] for name in fns}
    for round_ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn(x1)
            latency[name].append(time.perf_counter() - start)
            if round_ % 10 == 0:
                start = time.perf_counter()
                fn(x256)
                batch[name].append(time.perf_counter() - start)
    return {name: (statistics.median(latency[name]) * 1000, 256 / statistics.median(batch[name]))
            for name in fns}


def plain_keras(run_dir: Path, data: Path, out: Path) -> None:
    """What a user writes by hand: load the model and the whole array, model.predict, a CSV."""
    model = keras.saving.load_model(run_dir / "model.keras")
    x = np.load(data)["x"]
    probabilities = model.predict(x, batch_size=256, verbose=0)
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["prediction", *(f"p_{i}" for i in range(probabilities.shape[1]))])
        for row in probabilities:
            writer.writerow([int(row.argmax()), *(f"{v:.6g}" for v in row)])


def large_npz(path: Path, samples: int) -> None:
    images = (load_digits().images / 16.0).astype("float32")[..., None]
    picks = np.random.default_rng(0).integers(0, len(images), samples)
    np.savez(path, x=images[picks])


def start_server(run_dir: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    env = {**CLEAN_ENV, "PYTHONPATH": f"{REPO}{os.pathsep}{CLEAN_ENV.get('PYTHONPATH', '')}"}
    process = subprocess.Popen([sys.executable, "-m", "dlkit", "serve", str(run_dir), "--port",
                                "0", *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=env)
    line = process.stdout.readline()
    if not line.startswith("serving at "):
        process.kill()
        raise SystemExit(f"dlkit serve did not start: {line!r}")
    return process, line.split()[2]


def requests_per_second(url: str, clients: int, total: int, sample: list) -> float:
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1] + ":predict"
    body = json.dumps({"instances": [sample]})

    def client(count: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        for _ in range(count):
            connection.request("POST", path, body, {"Content-Type": "application/json"})
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                raise SystemExit(f"status {answer.status}")
        connection.close()

    client(5)  # warm-up
    threads = [threading.Thread(target=client, args=(total // clients,)) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (total // clients) * clients / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=640)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        spec = dlkit.load_spec(REPO / "examples" / "digits_cnn.yaml",
                               overrides=[f"train.epochs={args.epochs}"])
        run_dir = dlkit.train(spec, logdir=work / "logs", verbose=0).log_dir
        exports(run_dir)
        model = keras.saving.load_model(run_dir / "model.keras")
        x = (load_digits().images / 16.0).astype("float32")[..., None]
        latency_table(run_dir, model, x, args.rounds)
        predict_table(run_dir, work, args.large)
        serve_table(run_dir, x[0].tolist(), args.requests)


def exports(run_dir: Path) -> None:
    print(f"{'export':<16}{'bytes':>10}{'max abs diff':>14}{'agreement':>11}{'accuracy':>18}")
    for fmt, quantize in (("saved_model", None), ("onnx", None), ("litert", None),
                          ("litert", "int8")):
        e = dlkit.export(run_dir, fmt, quantize=quantize)
        accuracy = f"{e['accuracy_before']:.3f} -> {e['accuracy_after']:.3f}"
        print(f"{e['path'].split('/')[-1]:<16}{e['bytes']:>10,}{e['max_abs_diff']:>14.2g}"
              f"{e['agreement']:>11.3f}{accuracy:>18}")
    print(f"model.keras     {(run_dir / 'model.keras').stat().st_size:>10,}")


def latency_table(run_dir: Path, model: keras.Model, x: np.ndarray, rounds: int) -> None:
    precision = model.layers[0].dtype_policy.name
    print(f"\n{'runtime':<16}{'batch-1 ms':>12}{'batch-256 samples/s':>22}   "
          f"(model.keras computes in {precision})")
    for label, (latency, throughput) in speeds(runtimes(run_dir, model), x[:1], x[:256],
                                               rounds).items():
        print(f"{label:<16}{latency:>12.3f}{throughput:>22,.0f}")


def predict_table(run_dir: Path, work: Path, samples: int) -> None:
    data = work / "large.npz"
    large_npz(data, samples)
    times = {"dlkit predict": [], "plain Keras": []}
    for _ in range(3):
        start = time.perf_counter()
        dlkit.predict_file(run_dir, data, out=work / "dlkit.csv", verbose=0)
        times["dlkit predict"].append(time.perf_counter() - start)
        start = time.perf_counter()
        plain_keras(run_dir, data, work / "keras.csv")
        times["plain Keras"].append(time.perf_counter() - start)
    best = {k: min(v) for k, v in times.items()}
    print(f"\npredict {samples:,} samples from .npz to CSV (best of 3): dlkit "
          f"{best['dlkit predict']:.1f}s, plain Keras {best['plain Keras']:.1f}s, ratio "
          f"{best['dlkit predict'] / best['plain Keras']:.2f}x")


def serve_table(run_dir: Path, sample: list, total: int) -> None:
    results = {}
    for label, extra, clients in (("1 client at a time", (), 1), ("32 concurrent clients", (),
                                  32), ("32 clients, batching off", ("--max-batch", "1"), 32)):
        process, url = start_server(run_dir, *extra)
        try:
            results[label] = requests_per_second(url, clients, total, sample)
        finally:
            process.terminate()
            process.wait(timeout=60)
    print("\ndlkit serve, one sample per request:")
    for label, rate in results.items():
        print(f"  {label:<26}{rate:>8.0f} requests/s")
    print(f"  32 concurrent / one at a time: "
          f"{results['32 concurrent clients'] / results['1 client at a time']:.2f}x")


if __name__ == "__main__":
    main()
