"""The JSON Schema of specs (`dlkit schema`, `dlkit.schema()`): generated from the installed
Keras; the committed copy is current; every spec that validates passes it; the catalogue's bad
specs it can express fail it, where `dlkit validate` says they are wrong.

Its keys against pass 1's are in tests/test_schema_drift.py, the editor in
tests/test_schema_editor.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import jsonschema
import pytest
import yaml

import dlkit
from conftest import EXAMPLES, MLP, REPO, SEARCH, cli, python
from dlkit._schema.schema import DIALECT, dumps
from dlkit._spec.rules import key_path

SCHEMA_FILE = REPO / "schema" / "dlkit.schema.json"
REGENERATE = ("schema/dlkit.schema.json is not what `dlkit schema` generates from this dlkit "
              "and Keras; regenerate it: dlkit schema --out schema/dlkit.schema.json")
# Errors whose message lists keys the mapping must not have.
UNKNOWN_KEYS = ("additionalProperties", "unevaluatedProperties")
CATALOGUE = sorted((REPO / "tests" / "bad_specs").glob("*.yaml"))
# Bad specs that are not YAML data: the editor's YAML parser itself reports them.
NOT_DATA = {"malformed_yaml", "python_tag"}
# Bad specs a schema cannot tell from good ones, and why: what dlkit checks across keys,
# between sections, with shapes, or with Keras' own arithmetic.
CANNOT_EXPRESS = {
    "conv_on_flat_input": "shapes: a layer's input rank comes from the layers before it",
    "lstm_without_return_sequences": "shapes: a layer's input rank comes from the layers before it",
    "graph_merge_shapes": "shapes: the shapes a merge layer receives",
    "model_too_large": "the parameter count, from the shapes",
    "graph_block_parameter_typo": "a $parameter names one of its block's params",
    "graph_cycle": "the wiring of graph nodes",
    "autoencoder_graph_unknown_node": "inputs name the network's input or earlier nodes",
    "gan_graph_merge_shapes": "shapes: the shapes a merge layer receives",
    "graph_duplicate_name": "node names unique across the graph",
    "graph_output_typo": "outputs name graph nodes",
    "graph_unknown_block": "a node names a block of model.blocks",
    "graph_unknown_node": "inputs name graph inputs or earlier nodes",
    "graph_used_before_defined": "the order of graph nodes",
    "graph_metrics_for_several_outputs": "compile keys by the model's output names",
    "graph_output_without_loss": "compile keys by the model's output names",
    "nan_learning_rate": "NaN is a number to JSON Schema",
}


def suite_specs() -> dict[str, dict]:
    """Specs the test suite builds or trains, by name."""
    from test_build import CNN_SPEC, MLP_SPEC, RNN_SPEC, SIGMOID_SPEC
    from test_gan import GAUSSIAN
    from test_graph import GRAPH
    from test_kinds import AUTOENCODER, GAN
    from test_multi_worker import SPEC as MULTI_WORKER
    from test_resolve import DOCUMENTED_LAYERS

    specs = {"conftest.MLP": MLP, "conftest.SEARCH": SEARCH, "test_build.MLP_SPEC": MLP_SPEC,
             "test_build.CNN_SPEC": CNN_SPEC, "test_build.RNN_SPEC": RNN_SPEC,
             "test_build.SIGMOID_SPEC": SIGMOID_SPEC, "test_graph.GRAPH": GRAPH,
             "test_kinds.AUTOENCODER": AUTOENCODER, "test_kinds.GAN": GAN,
             "test_gan.GAUSSIAN": GAUSSIAN, "test_multi_worker.SPEC": MULTI_WORKER}
    for shape, layers in DOCUMENTED_LAYERS:  # as test_documented_layers_build builds them
        name = "-".join(layer["type"] for layer in layers)
        specs[f"test_resolve.DOCUMENTED_LAYERS.{name}"] = {
            "model": {"input_shape": shape, "layers": layers}, "compile": {"loss": "mse"}}
    return specs


@pytest.fixture(scope="module")
def printed() -> str:
    """`dlkit schema` in a new process (no layer registered by another test)."""
    result = cli("schema")
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def validator(printed) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(printed))


def test_dlkit_schema_prints_a_draft_2020_12_schema(printed):
    document = json.loads(printed)
    assert document["$schema"] == DIALECT
    jsonschema.Draft202012Validator.check_schema(document)


def test_the_committed_schema_is_what_dlkit_schema_generates(printed):
    assert SCHEMA_FILE.read_text() == dumps(json.loads(printed)), REGENERATE


def test_dlkit_schema_out_writes_the_same_schema(tmp_path):
    out = tmp_path / "editor" / "dlkit.schema.json"
    (tmp_path / "editor").mkdir()
    returned = dlkit.schema(out=out)
    assert out.read_text() == dumps(returned)
    assert returned["$defs"]["layer"]["properties"]["type"]["enum"]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_passes_the_schema(path, validator):
    assert _errors(validator, yaml.safe_load(path.read_text())) == []


@pytest.mark.parametrize("name", list(suite_specs()))
def test_every_spec_the_suite_builds_passes_the_schema(name, validator):
    assert _errors(validator, suite_specs()[name]) == []


@pytest.mark.parametrize("path", CATALOGUE, ids=lambda p: p.stem)
def test_bad_specs_fail_the_schema_unless_listed_as_beyond_it(path, validator):
    if path.stem in NOT_DATA:
        with pytest.raises(yaml.YAMLError):
            yaml.safe_load(path.read_text())
        return
    errors = _errors(validator, yaml.safe_load(path.read_text()))
    if path.stem in CANNOT_EXPRESS:
        assert errors == [], f"the schema now catches {path.stem}: drop it from CANNOT_EXPRESS"
    else:
        assert errors, f"{path.stem} passes the schema; if it cannot, list it in CANNOT_EXPRESS"


def test_the_list_of_specs_beyond_the_schema_names_catalogue_entries():
    assert set(CANNOT_EXPRESS) | NOT_DATA <= {path.stem for path in CATALOGUE}


@pytest.mark.parametrize("path", [p for p in CATALOGUE
                                  if p.stem not in {*CANNOT_EXPRESS, *NOT_DATA}],
                         ids=lambda p: p.stem)
def test_validate_and_the_schema_name_the_same_place(path, validator):
    """Each place `dlkit validate` names is a place the schema marks (a missing key: the
    mapping that misses it, as the editor marks it)."""
    with pytest.raises(dlkit.SpecError) as info:
        dlkit.load_spec(path)
    marked = set(_paths(validator.iter_errors(yaml.safe_load(path.read_text()))))
    for problem in info.value.errors:
        assert problem.path in marked, f"{problem.path} not in {sorted(marked)}"


def test_a_layer_registered_with_keras_appears_with_its_arguments(validator):
    result = python(
        "import json, keras, dlkit\n"
        "@keras.saving.register_keras_serializable(package='mine')\n"
        "class Scale(keras.layers.Layer):\n"
        "    '''Multiplies its input by a factor.\n\n    Args:\n"
        "        factor: float, what the input is multiplied by.\n    '''\n"
        "    def __init__(self, factor=2.0, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.factor = factor\n"
        "    def call(self, x):\n"
        "        return x * self.factor\n"
        "print(json.dumps(dlkit.schema()))\n")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert {"mine>Scale", "Scale"} <= set(document["$defs"]["layer"]["properties"]["type"]["enum"])
    assert "Scale" not in validator.schema["$defs"]["layer"]["properties"]["type"]["enum"]
    scale = document["$defs"]["layer.Scale"]
    assert scale["description"] == "Multiplies its input by a factor."
    assert scale["properties"]["factor"]["default"] == 2.0
    spec = {**MLP, "model": {"input_shape": [64], "layers": [{"type": "Scale", "factor": 3.0}]}}
    checker = jsonschema.Draft202012Validator(document)
    assert _errors(checker, spec) == []
    spec["model"]["layers"][0] = {"type": "mine>Scale", "factr": 3.0}
    assert "model.layers[0]" in set(_paths(checker.iter_errors(spec)))


def _errors(validator: jsonschema.Draft202012Validator, spec: object) -> list[str]:
    return [f"{_path(error.absolute_path)}: {error.message[:300]}"
            for error in validator.iter_errors(spec)]


def _paths(errors) -> Iterator[str]:
    """The spec paths of `errors` and of the errors under them, as dlkit writes paths; a
    missing key's path is the key's own."""
    for error in errors:
        path = _path(error.absolute_path)
        yield path
        if error.validator == "required":
            yield key_path(path, error.message.split("'")[1])
        if error.validator in UNKNOWN_KEYS:  # ... ('unitz' was unexpected): the editor marks unitz
            for key in re.findall(r"'([^']*)'", error.message.split("(", 1)[1]):
                yield key_path(path, key)
        yield from _paths(error.context or ())


def _path(steps) -> str:
    path = ""
    for step in steps:
        path = key_path(path, step)
    return path


def test_dlkit_schema_out_into_a_missing_folder_exits_2(tmp_path, capsys):
    from dlkit._cli import main

    assert main(["schema", "--out", str(tmp_path / "missing" / "dlkit.schema.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write") and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
