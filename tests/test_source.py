"""Reading spec files: YAML through a safe loader only, JSON, and errors with line and column."""

import json

import pytest

import dlkit
from dlkit._spec.source import parse_yaml

from conftest import MLP


def test_yaml_and_json_files_load_to_equal_specs(tmp_path):
    import yaml

    (tmp_path / "a.yaml").write_text(yaml.safe_dump(MLP))
    (tmp_path / "a.json").write_text(json.dumps(MLP))
    assert dlkit.load_spec(tmp_path / "a.yaml") == dlkit.load_spec(tmp_path / "a.json")


def test_name_defaults_to_the_file_stem(tmp_path):
    spec = {k: v for k, v in MLP.items() if k != "name"}
    (tmp_path / "my run.json").write_text(json.dumps(spec))
    assert dlkit.load_spec(tmp_path / "my run.json").name == "my-run"


def test_exponent_without_dot_is_a_float():
    # PyYAML alone reads `1e-3` as the string "1e-3" (YAML 1.1).
    assert parse_yaml("lr: 1e-3\nb: 2E+2\nc: 1.5") == {"lr": 0.001, "b": 200.0, "c": 1.5}


def test_malformed_yaml_names_line_and_column(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  layers: [1, 2\n  input_shape: [3]\n")
    with pytest.raises(dlkit.SpecError, match=r"bad.yaml: malformed YAML at line 3, column \d+"):
        dlkit.load_spec(path)


def test_malformed_json_names_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "model": {,}\n}')
    with pytest.raises(dlkit.SpecError, match=r"malformed JSON at line 2, column 13"):
        dlkit.load_spec(path)


def test_yaml_python_tags_are_refused_and_run_nothing(tmp_path):
    canary = tmp_path / "canary"
    path = tmp_path / "evil.yaml"
    path.write_text(f"name: !!python/object/apply:os.system ['touch {canary}']\n")
    with pytest.raises(dlkit.SpecError, match="YAML Python tags are refused"):
        dlkit.load_spec(path)
    assert not canary.exists()


@pytest.mark.parametrize("text, words", [
    ("", "this file is empty"),
    ("- 1\n- 2\n", "this file is a list"),
])
def test_a_spec_file_is_a_mapping(tmp_path, text, words):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(dlkit.SpecError, match=words):
        dlkit.load_spec(path)


def test_missing_file_and_wrong_suffix(tmp_path):
    with pytest.raises(dlkit.SpecError, match="no such spec file"):
        dlkit.load_spec(tmp_path / "missing.yaml")
    (tmp_path / "spec.txt").write_text("{}")
    with pytest.raises(dlkit.SpecError, match=r"ends in .yaml, .yml or .json"):
        dlkit.load_spec(tmp_path / "spec.txt")


def test_load_spec_refuses_other_types():
    with pytest.raises(dlkit.SpecError, match="takes a path"):
        dlkit.load_spec(42)
