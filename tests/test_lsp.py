"""The language server, end to end with a real LSP client (pytest-lsp)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

BAD = "def f(x):\n    return x\n"


README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
# the command the README's Neovim setup starts, from this environment's scripts
assert 'cmd = { "fastapi-review", "lsp" }' in README
COMMAND = [str(Path(sys.executable).parent / "fastapi-review"), "lsp"]


def _open(client: LanguageClient, uri: str, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )


@pytest_lsp.fixture(config=ClientServerConfig(server_command=COMMAND))
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_diagnostics_on_open_change_and_close(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-review]\nextend-select = ["FR101", "FR102"]\n')
    path = tmp_path / "app.py"
    path.write_text(BAD)
    uri = path.as_uri()
    _open(client, uri, BAD)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    diagnostics = client.diagnostics[uri]
    assert [(d.code, d.range.start.line, d.range.start.character) for d in diagnostics] == [("FR102", 0, 4), ("FR101", 0, 6)]
    assert diagnostics[0].source == "fastapi-review"
    assert diagnostics[0].code_description.href.endswith("rules/FR102.md")

    fixed = "def f(x: int) -> int:\n    return x\n"
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []

    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []


MIXIN = '''\
from datetime import datetime

from sqlalchemy.orm import DeclarativeBase, Mapped


class Base(DeclarativeBase):
    pass


class CreatedMixin:
    created_by: Mapped[str]  # who, not when: the model has no timestamps
'''

MODEL = '''\
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedMixin


class User(CreatedMixin, Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
'''


@pytest.mark.asyncio
async def test_diagnostics_know_the_rest_of_the_project(client: LanguageClient, tmp_path: Path) -> None:
    # the mixin (without timestamps) is in another file: only the project knows (FR502)
    (tmp_path / "pyproject.toml").write_text("[tool.fastapi-review]\nselect = ['FR502']\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "db.py").write_text(MIXIN)
    path = tmp_path / "app" / "models.py"
    path.write_text(MODEL)
    uri = path.as_uri()
    _open(client, uri, MODEL)
    # the first diagnostics come from the document alone: the project is not cached yet...
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []
    # ...a background run indexes it, and the document's diagnostics follow
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [(d.code, d.range.start.line) for d in client.diagnostics[uri]] == [("FR502", 5)]
    assert (tmp_path / ".fastapi_review_cache").is_dir()
