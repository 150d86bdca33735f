"""Conditions between keys that pass 1 checks and a schema can state: what each ``model.kind``
allows (the model and compile keys of a stack or graph, an autoencoder, a VAE or a GAN,
`dlkit._spec.sections.kinds`), a stack or a graph but not both (`dlkit._spec.sections.model`),
and the path and target a file source needs (`dlkit._spec.sections.data`).

A stack or graph needs a compile section with a loss; the other kinds have a default for every
part of theirs, and need their own stacks. Each condition marks the key pass 1 names in its
error, so the editor underlines the same place.
"""

from __future__ import annotations

from dlkit._spec.sections.compile import COMPILE_KEYS
from dlkit._spec.sections.data import FOLDER_SOURCES
from dlkit._spec.sections.graph import GRAPH_KEYS
from dlkit._spec.sections.kinds import COMPILE_KEYS as KIND_COMPILE_KEYS
from dlkit._spec.sections.kinds import KINDS, STACKS
from dlkit._spec.sections.kinds import MODEL_KEYS as KIND_MODEL_KEYS
from dlkit._spec.sections.model import MODEL_KEYS, STACK_KEYS

DEFAULT_KIND = KINDS[0]
# Keys every kind's model section takes besides its own (`check_model`).
SHARED_MODEL_KEYS = ("regularization",)
FILE_SOURCES = ("npz", "csv", *FOLDER_SOURCES)  # a path to a file or a folder
# A key that must not be there (not `false`: jsonschema would report it at the mapping).
ABSENT = {"not": {}}


def kind_rules() -> list[dict]:
    """One ``if``/``then`` per kind: the keys its model and compile sections take."""
    rules = []
    for kind in KINDS:
        if kind == DEFAULT_KIND:
            named = {"anyOf": [{"not": {"required": ["kind"]}},
                               {"properties": {"kind": {"const": kind}}}]}
            then = {"required": ["compile"], "properties": {
                "model": {**_keys(MODEL_KEYS), **stack_or_graph()},
                "compile": {**_keys(COMPILE_KEYS), "required": ["loss"]}}}
        else:
            named = {"properties": {"kind": {"const": kind}}, "required": ["kind"]}
            model_keys = (*KIND_MODEL_KEYS[kind], *SHARED_MODEL_KEYS)
            needed = ["input_shape", *STACKS[kind],
                      *(["latent_dim"] if "latent_dim" in model_keys else [])]
            then = {"properties": {"model": {**_keys(model_keys), "required": needed},
                                   "compile": _keys(KIND_COMPILE_KEYS[kind])}}
        rules.append({"if": {"properties": {"model": named}}, "then": then})
    return rules


def stack_or_graph() -> dict:
    """A graph (any of its keys) takes no stack keys; a stack needs its input shape and
    layers."""
    return {"if": {"anyOf": [{"required": [key]} for key in GRAPH_KEYS]},
            "then": {"properties": {key: ABSENT for key in STACK_KEYS}},
            "else": {"required": list(STACK_KEYS)}}


def data_rules() -> list[dict]:
    """A file or folder source needs its path; a csv source its target column; categorical
    belongs to csv sources, bad_files to folder sources."""
    return [{"if": _source_in(FILE_SOURCES), "then": {"required": ["path"]}},
            {"if": _source_in(("csv",)), "then": {"required": ["target"]},
             "else": {"properties": {"categorical": ABSENT}}},
            {"if": _source_in(FOLDER_SOURCES), "else": {"properties": {"bad_files": ABSENT}}}]


def _source_in(sources: tuple[str, ...]) -> dict:
    return {"properties": {"source": {"enum": list(sources)}}, "required": ["source"]}


def _keys(names: tuple[str, ...]) -> dict:
    """Only these keys (the others are described, for completion, but belong to other kinds)."""
    return {"propertyNames": {"enum": list(names)}}
