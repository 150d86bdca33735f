"""`dlkit serve`: TensorFlow Serving's REST API over real HTTP on loopback, batching, bad
requests that never take the server down, and Ctrl-C."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
from sklearn.datasets import load_digits

import dlkit
from dlkit._deploy.serve.batcher import Batcher

MAX_BODY_MB = 0.25


def start_server(run_dir):
    """`dlkit serve` in its own process on a free port; yields {"url", "process"}. Afterwards it
    is stopped as a user stops it, with Ctrl-C (SIGINT), and must exit 0 saying "stopped" (a
    teardown error otherwise)."""
    env = {**os.environ}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "dlkit", "serve", str(run_dir), "--port", "0",
         "--max-body-mb", str(MAX_BODY_MB)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env)
    line = process.stdout.readline()  # printed once the server listens
    if not line.startswith("serving at "):
        process.kill()
        raise AssertionError(f"no server: {line!r} {process.stderr.read()[-3000:]}")
    url = line.split()[2]
    yield {"url": url, "process": process}
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-3000:]
    assert out.strip().endswith("stopped") and "Traceback" not in err, (out, err[-3000:])


@pytest.fixture(scope="module")
def server(cnn_run):
    yield from start_server(cnn_run)


def call(url, body=None, method=None):
    """(status, JSON answer) of one HTTP request; `body` a dict (sent as JSON) or bytes."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def samples():
    return (load_digits().images[:12, ..., None] / 16.0).astype("float32")


def test_status_and_metadata_as_tensorflow_serving_gives_them(server):
    assert server["url"].startswith("http://127.0.0.1:")
    assert server["url"].endswith("/v1/models/digits-cnn")
    status, answer = call(server["url"])
    assert status == 200
    assert answer["model_version_status"][0]["state"] == "AVAILABLE"
    status, answer = call(server["url"] + "/metadata")
    [signature] = answer["metadata"]["signature_def"].values()
    assert [v["shape"] for v in signature["inputs"].values()] == [[-1, 8, 8, 1]]


def test_instances_and_inputs_predict_what_the_model_predicts(server, cnn_run, samples):
    expected = dlkit.predict(cnn_run, samples)
    status, answer = call(server["url"] + ":predict", {"instances": samples.tolist()})
    assert status == 200
    np.testing.assert_allclose(answer["predictions"], expected, atol=1e-5)
    status, answer = call(server["url"] + ":predict", {"inputs": samples[:3].tolist(),
                                                       "signature_name": "serving_default"})
    assert status == 200
    np.testing.assert_allclose(answer["outputs"], expected[:3], atol=1e-5)


def test_concurrent_clients_each_get_their_own_rows(server, cnn_run, samples):
    expected = dlkit.predict(cnn_run, samples)
    answers = {}

    def client(i):
        answers[i] = call(server["url"] + ":predict", {"instances": samples[i:i + 1].tolist()})

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(samples))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i in range(len(samples)):
        status, answer = answers[i]
        assert status == 200
        np.testing.assert_allclose(answer["predictions"], expected[i:i + 1], atol=1e-5)


@pytest.mark.parametrize("body,status,words", [
    (b'{"instances": [[1, 2', 400, "the body is not valid JSON"),
    (b"[1, 2]", 400, "a JSON object with \"instances\" or \"inputs\""),
    ({"instance": []}, 400, "unknown key(s): instance"),
    ({"instances": [[1, 2, 3]]}, 400, "takes samples of shape [8, 8, 1]; received [3]"),
    ({"instances": [[["a"] * 1] * 8] * 8}, 400, "takes numbers, received strings"),
    ({"instances": [[[[0.0]] * 8] * 8, [[0.0]]]}, 400, "not all of one shape"),
    ({"inputs": {"pixels": [[[[0.0]] * 8] * 8]}}, 400, "missing input(s)"),
    ({"instances": [], "signature_name": "serving_default"}, 400, "a non-empty list"),
    ({"instances": [[[[None]] * 8] * 8]}, 400, "mixed or null values"),
    ({"inputs": [[[[0.0]] * 8] * 8], "signature_name": "other"}, 400, "unknown signature_name"),
    (b"0" * int(MAX_BODY_MB * 1024 * 1024 + 10), 413, "the limit is 262,144"),
])
def test_bad_requests_get_a_4xx_naming_what_is_wrong_and_the_server_goes_on(server, samples,
                                                                           body, status, words):
    got, answer = call(server["url"] + ":predict", body)
    assert got == status and words in answer["error"], answer
    assert call(server["url"] + ":predict", {"instances": samples[:1].tolist()})[0] == 200


def test_unknown_models_and_methods_are_json_errors(server):
    base = server["url"].rsplit("/", 1)[0]
    assert call(base + "/other") == (404, {"error": "no model 'other'; this server has "
                                                    "'digits-cnn'"})
    status, answer = call(base + "/other:predict", {"instances": [1]})
    assert status == 404 and "POST /v1/models/digits-cnn:predict" in answer["error"]
    status, answer = call(server["url"], method="DELETE")
    assert status == 405 and answer["error"]


# --- the batcher, in-process: no clock, requests already queued join one batch ---------------

def test_requests_queued_together_run_as_one_model_call():
    calls = []

    def model(arrays):
        calls.append(len(arrays["x"]))
        if np.any(arrays["x"] < 0):
            raise ValueError("negative")
        return [arrays["x"] * 2]

    async def scenario():
        batcher = Batcher(model, max_batch=8, window=0.0)
        requests = [np.full((2, 1), i, "float32") for i in range(6)]  # 12 samples, max 8
        answers = await asyncio.gather(*(batcher.predict({"x": r}) for r in requests))
        for request, [answer] in zip(requests, answers):
            np.testing.assert_array_equal(answer, request * 2)
        failed = await asyncio.gather(batcher.predict({"x": -np.ones((1, 1), "float32")}),
                                      return_exceptions=True)
        after = await batcher.predict({"x": np.ones((1, 1), "float32")})
        await batcher.close()
        return batcher.stats, failed, after

    stats, failed, after = asyncio.run(scenario())
    assert calls[:2] == [8, 4]  # six requests in two calls, none over max_batch
    assert stats.requests >= 6 and stats.largest == 8
    assert isinstance(failed[0], ValueError)  # the failing call's requests get its error...
    np.testing.assert_array_equal(after[0], [[2.0]])  # ...and the batcher goes on


# --- several named inputs and outputs, and a table's raw columns --------------------------------

@pytest.fixture(scope="module")
def heads_server(heads_run):
    yield from start_server(heads_run["run"])


@pytest.mark.slow
def test_a_graph_model_takes_named_inputs_as_tensorflow_serving_does(heads_server, heads_run):
    data = heads_run["data"]
    image, meta = data["x_image"][:3], data["x_meta"][:3]
    expected = dlkit.predict(heads_run["run"], {"image": image, "meta": meta})
    url = heads_server["url"] + ":predict"
    status, answer = call(url, {"instances": [{"image": i.tolist(), "meta": m.tolist()}
                                              for i, m in zip(image, meta)]})
    assert status == 200 and [sorted(p) for p in answer["predictions"]] == [["digit", "ink"]] * 3
    for name in ("digit", "ink"):
        np.testing.assert_allclose([p[name] for p in answer["predictions"]], expected[name],
                                   atol=1e-5)
    status, answer = call(url, {"inputs": {"image": image.tolist(), "meta": meta.tolist()}})
    assert status == 200
    np.testing.assert_allclose(answer["outputs"]["ink"], expected["ink"], atol=1e-5)
    status, answer = call(url, {"instances": [{"image": image[0].tolist()}]})
    assert status == 400 and "instances[0]: missing input(s) meta; the model takes image, " \
        "meta" in answer["error"]
    status, answer = call(heads_server["url"] + "/metadata")
    [signature] = answer["metadata"]["signature_def"].values()
    assert signature["inputs"]["meta"]["shape"] == [-1, 4] and set(signature["outputs"]) == {
        "digit", "ink"}


@pytest.fixture(scope="module")
def table_server(table_run):
    yield from start_server(table_run["run"])


@pytest.mark.slow
def test_a_table_model_takes_raw_values_under_the_exports_input_names(table_server, table_run):
    rows = [{"age": 8.0, "fare": 90.0, "sex": "female", "port": "cherbourg", "deck": "1",
             "class_": 1.0, "siblings": 1.0},
            {"age": float("nan"), "fare": 8.0, "sex": "", "port": "atlantis", "deck": "4",
             "class_": 3.0, "siblings": 0.0}]  # a blank age is NaN, a blank sex ""
    arrays = {("class" if k == "class_" else k): np.array(
        [[r[k]] for r in rows], "float32" if isinstance(rows[0][k], float) else str)
        for k in rows[0]}
    expected = dlkit.predict(table_run["run"], arrays)
    body = json.dumps({"instances": rows}).encode()  # NaN as JSON's NaN, as TF Serving reads it
    status, answer = call(table_server["url"] + ":predict", body)
    assert status == 200
    np.testing.assert_allclose(answer["predictions"], expected, atol=1e-5)
    status, answer = call(table_server["url"] + ":predict", {"instances": [
        {**{k: v for k, v in rows[0].items() if k != "class_"}, "class": 1.0}]})
    assert status == 400 and "missing input(s) class_; unknown input(s) class" in answer["error"]
    status, answer = call(table_server["url"] + ":predict",
                          {"instances": [{**rows[0], "sex": None}]})
    assert status == 400 and "input sex takes strings" in answer["error"]
