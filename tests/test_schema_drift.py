"""The schema's keys are pass 1's keys, section by section, both ways: a key pass 1 accepts
that the schema does not describe (or the reverse) fails here, naming the section.

Pass 1 is asked, not read: each section of a valid spec gets an unknown key, and the keys
pass 1 then lists as expected are compared with the schema's. A new tuple of keys in
dlkit._spec (a new section) fails until it is placed here and described in
dlkit/_schema/keys.py.
"""

from __future__ import annotations

import copy
import importlib
import json
import pkgutil
import re

import pytest
import yaml

import dlkit._spec
from conftest import EXAMPLES, MLP, REPO, SEARCH
from dlkit._core.errors import Problems
from dlkit._schema.keys import DEFINITIONS, SECTIONS
from dlkit._schema.sections import UNDESCRIBED
from dlkit._spec.spaces import find_spaces
from dlkit._spec.structure import check_schema
from test_kinds import AUTOENCODER, GAN

UNKNOWN = "zzzzzzzz"  # far from every key: pass 1 lists the keys it expects instead
DESCRIBE = "describe it in dlkit/_schema/keys.py and regenerate schema/dlkit.schema.json"
RESNET = yaml.safe_load((EXAMPLES / "toy_resnet.yaml").read_text())
SPACES = {"int": {"search": "int", "min": 8, "max": 16}, "float": {
    "search": "float", "min": 0.1, "max": 0.5}, "choice": {"search": "choice", "values": [1, 2]},
    "bool": {"search": "bool"}}
ON_BASE = {**MLP, "model": {**MLP["model"], "base": {"path": "pretrained.keras", "trainable": False}},
           "train": {**MLP["train"], "fine_tune": {"epochs": 2}}}
# Each section: a valid spec, where in it the section is, and where the schema holds its keys
# (a $defs name; ("kind", k, section): what model.kind k allows; ("space", k): a k space).
PLACES = {
    "": (MLP, (), None),
    "data": (MLP, ("data",), DEFINITIONS["data"]),
    "model": (MLP, ("model",), ("kind", "sequential", "model")),
    "model (graph)": (RESNET, ("model",), ("kind", "sequential", "model")),
    "model (autoencoder)": (AUTOENCODER, ("model",), ("kind", "autoencoder", "model")),
    "model (vae)": ({**AUTOENCODER, "model": {**AUTOENCODER["model"], "kind": "vae",
                                               "latent_dim": 2}}, ("model",),
                    ("kind", "vae", "model")),
    "model (gan)": (GAN, ("model",), ("kind", "gan", "model")),
    "model.anomaly": (AUTOENCODER, ("model", "anomaly"), DEFINITIONS["model.anomaly"]),
    "model.base (saved)": (ON_BASE, ("model", "base"), DEFINITIONS["model.base (saved)"]),
    "train.fine_tune": (ON_BASE, ("train", "fine_tune"), DEFINITIONS["train.fine_tune"]),
    "model.regularization": ({**MLP, "model": {**MLP["model"], "regularization": {"l2": 0.1}}},
                             ("model", "regularization"), DEFINITIONS["model.regularization"]),
    "model.blocks.<block>": (RESNET, ("model", "blocks", "residual"),
                             DEFINITIONS["model.blocks.<block>"]),
    "model.<network>": ({**AUTOENCODER, "model": {**AUTOENCODER["model"], "encoder": {
        "inputs": ["x"], "graph": [{"name": "code", "type": "Dense", "units": 2, "inputs": "x"}]}}},
        ("model", "encoder"), DEFINITIONS["model.<network>"]),
    "model.graph[<block instance>]": (RESNET, ("model", "graph", 3),
                                      DEFINITIONS["model.graph[<block instance>]"]),
    "compile": (MLP, ("compile",), ("kind", "sequential", "compile")),
    "compile (autoencoder)": (AUTOENCODER, ("compile",), ("kind", "autoencoder", "compile")),
    "compile (gan)": (GAN, ("compile",), ("kind", "gan", "compile")),
    "train": (MLP, ("train",), DEFINITIONS["train"]),
    "callbacks": ({**MLP, "callbacks": {}}, ("callbacks",), DEFINITIONS["callbacks"]),
    "runtime": ({**MLP, "runtime": {}}, ("runtime",), DEFINITIONS["runtime"]),
    "search": (SEARCH, ("search",), DEFINITIONS["search"]),
    "search.objective": ({**SEARCH, "search": {"objective": {"name": "val_loss"}}},
                         ("search", "objective"), DEFINITIONS["search.objective"]),
    **{f"<search space> ({kind})": ({**MLP, "seed": space}, ("seed",), ("space", kind))
       for kind, space in SPACES.items()},
}
# Every tuple of keys in dlkit._spec, and the places above that hold its keys.
KEY_TUPLES = {
    "structure.TOP_KEYS": [""], "sections.data.DATA_KEYS": ["data"],
    "sections.model.MODEL_KEYS": ["model", "model (graph)"],
    "sections.model.STACK_KEYS": ["model"], "sections.graph.GRAPH_KEYS": ["model (graph)"],
    "sections.kinds.MODEL_KEYS": ["model (autoencoder)", "model (vae)", "model (gan)"],
    "sections.graph.BLOCK_KEYS": ["model.blocks.<block>"],
    "sections.graph.BLOCK_NODE_KEYS": ["model.graph[<block instance>]"],
    "sections.graph.NETWORK_KEYS": ["model.<network>"],
    "sections.base.SAVED_KEYS": ["model.base (saved)"],
    "sections.base.COMMON_KEYS": ["model.base (saved)"],
    "sections.base.FINE_TUNE_KEYS": ["train.fine_tune"],
    # An application base takes its own arguments too, so pass 1 lists no keys for it: see
    # test_an_application_base_takes_dlkits_keys_and_the_applications_own.
    "sections.base.APPLICATION_KEYS": [],
    "sections.compile.COMPILE_KEYS": ["compile"],
    "sections.kinds.COMPILE_KEYS": ["compile (autoencoder)", "compile (gan)"],
    "sections.train.TRAIN_KEYS": ["train"], "sections.callbacks.CALLBACK_KEYS": ["callbacks"],
    "sections.runtime.RUNTIME_KEYS": ["runtime"], "sections.search.SEARCH_KEYS": ["search"],
    "sections.search.HYPERBAND_KEYS": ["search"],
    "spaces.KEYS": [f"<search space> ({kind})" for kind in SPACES],
    "rules.SERIALIZATION_KEYS": [],  # Keras' own serialization keys, which a spec may not use
}


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads((REPO / "schema" / "dlkit.schema.json").read_text())


def accepted_by_pass_1(spec: dict, steps: tuple) -> list[str]:
    """The keys pass 1 expects where `steps` lead in `spec`, by giving it an unknown one."""
    problems = pass_1(with_key(spec, steps, UNKNOWN))
    messages = [p.message for p in problems if f"unknown key '{UNKNOWN}'" in p.message]
    assert len(messages) == 1, [str(p) for p in problems]
    return re.search(r"expected one of: (.*)\)$", messages[0]).group(1).split(", ")


def refused_by_pass_1(spec: dict, steps: tuple, key: str) -> bool:
    """Whether pass 1 calls `key` unknown where `steps` lead in `spec`."""
    return any(f"unknown key '{key}'" in p.message for p in pass_1(with_key(spec, steps, key)))


def with_key(spec: dict, steps: tuple, key: str) -> dict:
    spec = copy.deepcopy(spec)
    parent = spec
    for step in steps[:-1]:
        parent = parent[step]
    if steps:
        here = parent[steps[-1]] if isinstance(parent, list) else parent.get(steps[-1], {})
        parent[steps[-1]] = {**here, key: None}
    else:
        spec[key] = None
    return spec


def pass_1(spec: dict) -> list:
    problems = Problems()
    check_schema(find_spaces(spec, problems).stand_in, "drift", problems)
    return problems.items


def in_schema(document: dict, where: str | tuple | None) -> list[str]:
    """The keys the schema takes at a place of `PLACES`."""
    if where is None:
        return list(document["properties"])
    if isinstance(where, str):
        return list(document["$defs"][where]["properties"])
    if where[0] == "space":
        forms = document["$defs"]["search_space"]["allOf"]
        form = next(f for f in forms if f["if"]["properties"]["search"]["const"] == where[1])
        return list(form["then"]["properties"])
    _, kind, section = where
    rule = next(r for r in document["allOf"] if f'"const": "{kind}"' in json.dumps(r["if"]))
    allowed = rule["then"]["properties"][section]["propertyNames"]["enum"]
    described = document["$defs"][DEFINITIONS[section]]["properties"]
    assert set(allowed) <= set(described), f"{section}: {kind} allows keys not described"
    return allowed


@pytest.mark.parametrize("place", list(PLACES))
def test_the_schema_takes_exactly_the_keys_pass_1_takes(place, document):
    spec, steps, where = PLACES[place]
    accepted, described = set(accepted_by_pass_1(spec, steps)), set(in_schema(document, where))
    assert accepted - described == set(), f"{place}: pass 1 accepts keys the schema lacks; " \
                                          + DESCRIBE
    # A key pass 1 takes without listing it (a kind's model.regularization) is put to it.
    refused = {key for key in described - accepted if refused_by_pass_1(spec, steps, key)}
    assert refused == set(), f"{place}: the schema takes keys pass 1 refuses"


def test_every_section_of_the_schema_is_checked_here():
    placed = {where for _, _, where in PLACES.values() if isinstance(where, str)}
    sections = {name for path, name in DEFINITIONS.items() if name
                and path not in ("model", "compile", "<search space>", "model.graph[<layer>]",
                                 "model.base (application)")}
    assert sections <= placed, f"not compared with pass 1: {sections - placed}"
    assert set(SECTIONS) == set(DEFINITIONS)


def key_tuples() -> dict[str, object]:
    """Every module-level tuple (or mapping of tuples) of key names in dlkit._spec."""
    found = {}
    for module in pkgutil.walk_packages(dlkit._spec.__path__, "dlkit._spec."):
        namespace = vars(importlib.import_module(module.name))
        for name, value in namespace.items():
            if re.fullmatch(r"[A-Z_]*KEYS", name) and isinstance(value, (tuple, dict)):
                found.setdefault(id(value), f"{module.name.removeprefix('dlkit._spec.')}.{name}")
    return found


def test_every_tuple_of_keys_in_pass_1_is_placed_here():
    found = set(key_tuples().values())
    assert found - set(KEY_TUPLES) == set(), (
        f"pass 1 has new keys {found - set(KEY_TUPLES)}: place their section in PLACES and "
        f"KEY_TUPLES here, and {DESCRIBE}")
    assert set(KEY_TUPLES) - found == set(), "KEY_TUPLES names tuples pass 1 no longer has"
    for name, places in KEY_TUPLES.items():
        module, attribute = name.rsplit(".", 1)
        value = getattr(importlib.import_module(f"dlkit._spec.{module}"), attribute)
        keys = {k for v in value.values() for k in v} if isinstance(value, dict) else set(value)
        accepted = {k for place in places for k in accepted_by_pass_1(*PLACES[place][:2])}
        assert not places or keys <= accepted, f"{name}: {keys - accepted} not placed"


def test_every_key_of_a_pass_1_tuple_is_described_and_no_other():
    for path, section in SECTIONS.items():
        if section.pass_1 is not None:
            assert set(section.pass_1) - set(section.keys) == set(), f"{path!r}: {DESCRIBE}"
            assert set(section.keys) - set(section.pass_1) == set(), \
                f"{path!r}: described keys that pass 1 does not take"


def test_the_schema_has_no_undescribed_key(document):
    assert UNDESCRIBED["description"] not in json.dumps(document), DESCRIBE


# Sections pass 1 fills with defaults: a valid spec that leaves them out (or nearly), and
# where the filled section is.
DEFAULTED = {
    "train": ({k: v for k, v in MLP.items() if k != "train"}, ("train",)),
    "runtime": (MLP, ("runtime",)),
    "callbacks": (MLP, ("callbacks",)),
    "data": ({**MLP, "data": {"source": "digits"}}, ("data",)),
    "compile": ({**MLP, "compile": {"loss": "mse"}}, ("compile",)),
    "search": ({**SEARCH, "search": {}}, ("search",)),
    "model.anomaly": (AUTOENCODER, ("model", "anomaly")),
    "compile (gan)": ({k: v for k, v in GAN.items() if k != "compile"}, ("compile",)),
}


@pytest.mark.parametrize("place", list(DEFAULTED))
def test_the_schema_states_pass_1s_defaults(place, document):
    spec, steps = DEFAULTED[place]
    problems = Problems()
    filled = check_schema(find_spaces(copy.deepcopy(spec), problems).stand_in, "drift", problems)
    assert problems.items == []
    for step in steps:
        filled = filled[step]
    where = DEFINITIONS[place.split(" ")[0]]
    described = document["$defs"][where]["properties"]
    stated = {key: described[key]["default"] for key in filled if "default" in described[key]}
    assert stated == {key: filled[key] for key in stated}, f"{place}: defaults differ"
    assert stated, f"{place}: no default stated"


def test_an_application_base_takes_dlkits_keys_and_the_applications_own(document):
    from dlkit._plan.applications import DECIDED, application_functions
    from dlkit._spec.sections.base import APPLICATION_KEYS

    section = document["$defs"][DEFINITIONS["model.base (application)"]]
    assert set(section["properties"]) == set(APPLICATION_KEYS)
    assert section["properties"]["application"]["enum"] == sorted(application_functions())
    forms = {f["if"]["properties"]["application"]["const"]: f["then"] for f in section["allOf"]}
    assert set(forms) == set(application_functions())
    alpha = forms["MobileNetV2"]["propertyNames"]["enum"]
    assert "alpha" in alpha and not set(DECIDED) & set(alpha)
