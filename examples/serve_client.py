"""A TensorFlow Serving REST client: the same script talks to `dlkit serve` and to TensorFlow
Serving running the SavedModel that `dlkit export --format saved_model` wrote.

    python examples/serve_client.py http://127.0.0.1:8501/v1/models/digits-cnn samples.npz

Sends the .npz's ``x`` rows as ``{"instances": [...]}`` in requests of ``--batch`` samples and
prints one predicted class (the largest output) per sample. Python's standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request

import numpy as np


def predict(url: str, instances: list) -> list:
    """POST ``{"instances": ...}`` to ``<url>:predict``; returns ``predictions``."""
    body = json.dumps({"instances": instances}).encode()
    request = urllib.request.Request(f"{url}:predict", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())["predictions"]
    except urllib.error.HTTPError as error:  # TF Serving and dlkit both answer {"error": ...}
        raise SystemExit(f"{error.code}: {json.loads(error.read())['error']}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the model's URL, http://HOST:PORT/v1/models/NAME")
    parser.add_argument("npz", help="a .npz file with an array x of samples")
    parser.add_argument("--batch", type=int, default=32, help="samples per request")
    args = parser.parse_args()
    with urllib.request.urlopen(args.url, timeout=60) as answer:  # is the model there?
        state = json.loads(answer.read())["model_version_status"][0]["state"]
    print(f"model state: {state}", file=sys.stderr)
    x = np.load(args.npz)["x"]
    for start in range(0, len(x), args.batch):
        for row in predict(args.url, x[start:start + args.batch].tolist()):
            print(int(np.argmax(row)))


if __name__ == "__main__":
    main()
