"""The file and table sources under ``strategy: mirrored`` (two logical CPUs) and
``multi_worker`` (two real processes, each reading its share of every batch)."""

import json
import re
import subprocess
import sys

import pytest
import yaml

from test_folders import image_spec, write_images
from test_multi_worker import free_ports, start_worker
from test_table import table_spec, write_table

MIRRORED = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import dlkit
results = []
for spec in json.loads(sys.argv[1]):
    try:
        run = dlkit.train(spec, logdir=sys.argv[2], verbose=0)
        results.append(json.loads((run.log_dir / "run.json").read_text()))
    except dlkit.DataError as exc:
        results.append(str(exc))
print(json.dumps(results))
"""


@pytest.mark.slow
def test_images_and_tables_train_under_mirrored_on_two_logical_cpus(tmp_path):
    images = image_spec(write_images(tmp_path / "images", per_class=8))
    images["model"]["layers"].insert(1, {"type": "Normalization"})  # adapted under the strategy
    table = table_spec(write_table(tmp_path / "people.csv", rows=60), 11)
    for spec in (images, table):
        spec["runtime"] = {"strategy": "mirrored"}
        spec["train"]["epochs"] = 2
    result = subprocess.run([sys.executable, "-c", MIRRORED, json.dumps([images, table]),
                             str(tmp_path / "logs")], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    [status, refused] = json.loads(result.stdout.strip().splitlines()[-1])
    assert status["strategy"] == "MirroredStrategy" and status["replicas"] == 2
    assert status["status"] == "finished" and status["adapted"]
    assert "a table with text columns cannot be split over 2 replicas" in refused


@pytest.mark.slow
def test_two_workers_train_one_model_on_an_image_folder(tmp_path):
    spec = image_spec(write_images(tmp_path / "images", per_class=12))
    spec["runtime"] = {"strategy": "multi_worker", "peer_timeout": 60}
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(spec))
    (tmp_path / "tmp").mkdir()
    addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
    workers = [start_worker(spec_file, tmp_path / "logs", addresses, i, tmp_path / "tmp")
               for i in (0, 1)]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
    digests = [re.search(r"weights digest (\w+)", out).group(1) for out, _ in outputs]
    assert digests[0] == digests[1], "the workers' weights differ"
    [run_dir] = (tmp_path / "logs" / "shapes").iterdir()
    status = json.loads((run_dir / "run.json").read_text())
    assert status["workers"] == 2 and status["status"] == "finished"
    assert status["classes"] == ["bar", "circle", "square"]
