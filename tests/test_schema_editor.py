"""The schema in a real editor's engine: the YAML language server (npm's `yaml-language-server`,
behind VS Code's YAML extension and the Vim, Emacs and JupyterLab clients) driven over stdio
with pytest-lsp, on an example spec that names the schema in its first line.

`.ci/run` installs the server into `.ci/node/`; without it these tests skip, and under
``CI=true`` they fail.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil

import keras
import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

from conftest import EXAMPLES, REPO

SERVER = REPO / ".ci" / "node" / "node_modules" / ".bin" / "yaml-language-server"
EXAMPLE = EXAMPLES / "digits_cnn.yaml"
MODELINE = "# yaml-language-server: $schema=../schema/dlkit.schema.json"
pytestmark = pytest.mark.asyncio(loop_scope="module")


def server_command() -> list[str]:
    """The server's command line; a missing server skips (fails under CI=true)."""
    found = str(SERVER) if SERVER.exists() else shutil.which("yaml-language-server")
    if found is None or shutil.which("node") is None:
        message = ("yaml-language-server (npm) is not installed: run npm ci --prefix .ci/node "
                   "(the version .ci/node/package-lock.json pins), as .ci/run does")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return [found, "--stdio"]


def _client() -> LanguageClient:
    client = make_test_lsp_client()

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params):  # the server asks to watch its settings; nothing to do
        return None

    @client.feature(types.TELEMETRY_EVENT)
    def telemetry(params):
        return None

    return client


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def server():
    """One language server for the module, set up as VS Code's YAML extension sets it up."""
    client = _client()
    client.set_configuration({"yaml": {"validate": True, "hover": True, "completion": True}})
    await client.start_io(*server_command())
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=REPO.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=REPO.as_uri(), name="dlkit")]))
    yield client
    await client.shutdown_session()
    await client.stop()


class Document:
    """A spec opened in the server, at a place next to the examples (so its first line finds
    the schema as an example's does)."""

    count = 0

    def __init__(self, server: LanguageClient, text: str) -> None:
        Document.count += 1
        self.server, self.text = server, text
        self.uri = (EXAMPLES / f"editor-{Document.count}.yaml").as_uri()
        server.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
            uri=self.uri, language_id="yaml", version=1, text=text)))

    def position(self, marker: str, offset: int = 0) -> types.Position:
        """Where `marker` (which must occur once) starts, plus `offset` characters."""
        assert self.text.count(marker) == 1, marker
        before = self.text[: self.text.index(marker) + offset]
        return types.Position(before.count("\n"), len(before.rsplit("\n", 1)[-1]))

    async def diagnostics(self) -> list[types.Diagnostic]:
        async with asyncio.timeout(60):
            while self.uri not in self.server.diagnostics:
                await self.server.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        return list(self.server.diagnostics[self.uri])

    async def completion(self, position: types.Position) -> list[str]:
        result = await self.server.text_document_completion_async(types.CompletionParams(
            types.TextDocumentIdentifier(self.uri), position))
        items = result.items if isinstance(result, types.CompletionList) else result or []
        return [item.label for item in items]

    async def hover(self, position: types.Position) -> str:
        result = await self.server.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(self.uri), position))
        assert result is not None, f"no hover at {position}"
        return result.contents.value


def example_with(layers: str) -> str:
    """The digits CNN example with `layers` put first in its model.layers."""
    text = EXAMPLE.read_text()
    assert text.startswith(MODELINE + "\n")
    anchor = "  layers:\n"
    return text.replace(anchor, anchor + layers, 1)


async def test_the_examples_name_the_schema_and_pass_it_in_the_editor(server):
    for path in sorted(EXAMPLES.glob("*.yaml")):
        assert path.read_text().splitlines()[0] == MODELINE, path.name
    document = Document(server, EXAMPLE.read_text())
    assert await document.diagnostics() == []


async def test_completion_offers_layer_types_and_a_dense_layers_arguments(server):
    document = Document(server, example_with("    - type: \n    - type: Dense\n      \n"))
    types_offered = await document.completion(document.position("- type: \n", 8))
    assert "Conv2D" in types_offered and "Dense" in types_offered
    arguments = await document.completion(document.position("Dense\n      \n", 12))
    assert {"units", "kernel_initializer", "activation", "use_bias"} <= set(arguments)
    assert "filters" not in arguments  # a Conv2D argument, not a Dense one


async def test_hover_shows_keras_own_description(server):
    document = Document(server, example_with("    - {type: Dropout, rate: 0.2}\n"))
    first_line = inspect.cleandoc(keras.layers.Dropout.__doc__).splitlines()[0]
    assert first_line in await document.hover(document.position("Dropout, rate: 0.2", 2))


async def test_a_misspelt_key_gets_a_diagnostic(server):
    document = Document(server, example_with("    - type: Dense\n      units: 8\n"
                                             "      kernel_initialiser: he_normal\n"))
    found = await document.diagnostics()
    assert [(d.range.start.line, d.message) for d in found] == [
        (document.position("kernel_initialiser").line,
         "Property kernel_initialiser is not allowed.")]
