"""dlkit.diagnose and `dlkit diagnose SPEC`: a spec's model checked on its data, the
histograms beside the runs, the table or JSON, and why He initialisation beats zeros."""

from __future__ import annotations

import json
import warnings

import pytest
import yaml

import dlkit
from conftest import MLP, cli


def with_initializer(spec: dict, initializer: str) -> dict:
    spec["model"]["layers"][0]["kernel_initializer"] = initializer
    return spec


def test_a_specs_diagnosis_goes_beside_its_runs_and_trains_nothing(mlp, log_root):
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

    result = dlkit.diagnose(mlp, steps=3)
    [folder] = (log_root / "tiny-mlp-diagnose").iterdir()
    assert result["log_dir"] == str(folder) and not (log_root / "tiny-mlp").exists()
    assert result["steps"] == 3 and result["batch_size"] == 64  # the spec's batch size
    assert json.loads((folder / "diagnose.json").read_text()) == json.loads(json.dumps(result))
    assert dlkit.load_spec(folder / "spec.yaml") == dlkit.load_spec(mlp)
    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    first = result["layers"][0]["name"]
    steps = {event.step for event in accumulator.Tensors(f"diagnose/{first}/activations")}
    assert steps == {0, 3}
    assert dlkit.diagnose(mlp, steps=1, histograms=False)["log_dir"] is None


def test_the_command_prints_json_with_the_numbers_of_a_zero_initialised_network(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(MLP))
    result = cli("diagnose", str(path), "--json", "--steps", "3", "--logdir",
                 str(tmp_path / "logs"), "--set", "model.layers[0].kernel_initializer=zeros")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    hidden = found["layers"][0]
    assert {"name", "type", "activation", "units", "at_init", "after"} <= set(hidden)
    for phase in ("at_init", "after"):
        assert hidden[phase]["dead_fraction"] == 1.0 and hidden[phase]["gradient_norm"] == 0.0
        assert hidden[phase]["activation_std"] == 0.0 and hidden[phase]["symmetric"] is True
    assert {"dead", "symmetric", "vanishing"} <= {w["kind"] for w in found["warnings"]
                                                  if w["layer"] == hidden["name"]}
    assert f"TensorBoard histograms: {tmp_path / 'logs' / 'tiny-mlp-diagnose'}" in result.stderr
    assert "warning: model.layers[0].kernel_initializer: 'zeros'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_table_shows_with_numbers_why_he_beats_zeros(mlp, capsys, monkeypatch, tmp_path):
    from dlkit._cli import main

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main replaces it
    tables = {}
    for initializer in ("zeros", "he_normal"):
        path = tmp_path / f"{initializer}.yaml"
        path.write_text(yaml.safe_dump(with_initializer(mlp, initializer)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dlkit.InitializationWarning)
            assert main(["diagnose", str(path), "--steps", "5"]) == 0
        tables[initializer] = capsys.readouterr().out
    zeros, he = (tables[k].splitlines() for k in ("zeros", "he_normal"))
    # The hidden ReLU layer, at init: every unit dead, no spread, no gradient, all alike...
    assert zeros[1].split()[6:] == ["100%", "-", "0", "0", "yes"]
    assert "100% of its 16 ReLU units output <= 0" in tables["zeros"]
    assert "the kernel's gradient norm is 0 " in tables["zeros"]
    # ... and with He: few dead units, a spread, a gradient, distinct units, no warning.
    dead, _, spread, gradient, symmetric = he[1].split()[6:]
    assert int(dead.rstrip("%")) < 50 and float(spread) > 0.05 and float(gradient) > 0.01
    assert symmetric == "no" and "no warnings" in tables["he_normal"]
    assert "TensorBoard histograms (diagnose/<layer>/...): tensorboard --logdir " in he[-1]


def test_what_cannot_be_diagnosed_is_refused_with_exit_2(mlp, tmp_path, capsys, monkeypatch):
    from dlkit._cli import main

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    del mlp["data"]
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(mlp))
    assert main(["diagnose", str(path)]) == 2
    assert "data: no data to diagnose on: add a data section" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["diagnose", str(path), "--steps", "0"])
    assert stop.value.code == 2
    assert "argument --steps: expected an integer from 1 to 100000" in capsys.readouterr().err
    with pytest.raises(ValueError, match="Received: steps=0"):
        dlkit.diagnose(mlp, steps=0)
