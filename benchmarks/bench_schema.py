"""`dlkit schema`: its wall time against a bare `import keras` (the floor: the registries live
in Keras), side by side, and the size of the schema it writes.

Run:  python benchmarks/bench_schema.py [--repeats 3]

Alternates the two commands, each in a new process, and prints medians and the ratio; then the
schema's size as written (what an editor loads) and minified, and its shared definitions.
Target (issue 20): `dlkit schema` under 5 s; a file small enough for an editor, shared
definitions through $defs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def seconds(command: list[str]) -> float:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp()) / "dlkit.schema.json"
    schema_cmd = [sys.executable, "-m", "dlkit", "schema", "--out", str(out)]
    keras_cmd = [sys.executable, "-c", "import keras"]
    dlkit_times, keras_times = [], []
    for _ in range(args.repeats):
        dlkit_times.append(seconds(schema_cmd))
        keras_times.append(seconds(keras_cmd))
    schema, keras_only = statistics.median(dlkit_times), statistics.median(keras_times)
    print(f"dlkit schema --out FILE  {schema:6.2f} s (median of {args.repeats})")
    print(f"python -c 'import keras' {keras_only:6.2f} s")
    print(f"ratio                    {schema / keras_only:6.2f}x  (target: dlkit schema < 5 s)")
    document = json.loads(out.read_text())
    minified = len(json.dumps(document, separators=(",", ":")))
    defs = document["$defs"]
    shared = [name for name in defs if ".argument" in name]
    print(f"schema file              {out.stat().st_size / 1024:6.0f} KiB as written, "
          f"{minified / 1024:.0f} KiB minified")
    print(f"$defs                    {len(defs):6d} ({len(shared)} shared arguments, "
          f"{len(document['$defs']['layer']['properties']['type']['enum'])} layer types)")


if __name__ == "__main__":
    main()
