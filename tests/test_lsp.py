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


ROUTES = '''\
from fastapi import APIRouter, HTTPException

router = APIRouter()


@router.post("/items")
async def create_item(item_id: int) -> dict:
    """Create."""
    if item_id < 0:
        raise HTTPException(404, detail="no such item")
    raise HTTPException(409, detail="exists")  # keep this comment
'''


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    """`text` with LSP edits applied (positions as line / UTF-16 column; ASCII here)."""
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)

    def offset(position: types.Position) -> int:
        return min(starts[position.line] + position.character, len(text))

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


async def _actions(client: LanguageClient, uri: str, line: int, only: list[str] | None = None) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line, 0), end=types.Position(line, 0)),
            context=types.CodeActionContext(diagnostics=[], only=only),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def _open_routes(client: LanguageClient, tmp_path: Path, select: str) -> str:
    (tmp_path / "pyproject.toml").write_text(f"[tool.fastapi-review]\nselect = [{select}]\nlearn-conventions = false\n")
    path = tmp_path / "routes.py"
    path.write_text(ROUTES)
    uri = path.as_uri()
    _open(client, uri, ROUTES)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


@pytest.mark.asyncio
async def test_code_actions_fix_one_finding_or_add_noqa(client: LanguageClient, tmp_path: Path) -> None:
    uri = await _open_routes(client, tmp_path, '"FR206", "FR302"')
    assert [(d.code, d.range.start.line) for d in client.diagnostics[uri]] == [("FR206", 6), ("FR302", 9), ("FR302", 10)]

    actions = await _actions(client, uri, 9)
    assert [(a.title, a.kind, a.is_preferred) for a in actions] == [
        ("fastapi-review (FR302): Use status.HTTP_404_NOT_FOUND", "quickfix", True),
        ("fastapi-review (FR302): Disable for this line (# noqa)", "quickfix", None),
        ("fastapi-review: Fix all safe fixes", "source.fixAll.fastapi-review", None),  # asked for no kind in particular
    ]
    assert [d.code for d in actions[0].diagnostics] == ["FR302"]
    fixed = _apply(ROUTES, actions[0].edit.changes[uri])
    assert fixed == ROUTES.replace("HTTPException\n", "HTTPException, status\n").replace("(404,", "(status.HTTP_404_NOT_FOUND,")
    assert _apply(ROUTES, actions[1].edit.changes[uri]) == ROUTES.replace('"no such item")\n', '"no such item")  # noqa: FR302\n')

    # the noqa goes after the comment the line has; the unsafe fix is marked and not preferred
    noqa = (await _actions(client, uri, 10))[1]
    assert _apply(ROUTES, noqa.edit.changes[uri]) == ROUTES.replace("# keep this comment\n", "# keep this comment  # noqa: FR302\n")
    unsafe = (await _actions(client, uri, 6))[0]
    assert (unsafe.title, unsafe.is_preferred) == ("fastapi-review (FR206): Add status_code=status.HTTP_201_CREATED (unsafe)", False)
    assert '@router.post("/items", status_code=status.HTTP_201_CREATED)' in _apply(ROUTES, unsafe.edit.changes[uri])


@pytest.mark.asyncio
async def test_fix_all_applies_every_safe_fix_and_only_those(client: LanguageClient, tmp_path: Path) -> None:
    uri = await _open_routes(client, tmp_path, '"FR206", "FR302"')
    actions = await _actions(client, uri, 0, only=["source.fixAll"])
    assert [(a.title, a.kind) for a in actions] == [("fastapi-review: Fix all safe fixes", "source.fixAll.fastapi-review")]
    assert _apply(ROUTES, actions[0].edit.changes[uri]) == (
        ROUTES.replace("HTTPException\n", "HTTPException, status\n")
        .replace("(404,", "(status.HTTP_404_NOT_FOUND,")
        .replace("(409,", "(status.HTTP_409_CONFLICT,")
    )
    # quick fixes are not what `only: source.fixAll` asks for
    assert await _actions(client, uri, 9, only=["source.fixAll"]) == actions


REGISTERED: list[types.Registration] = []


@pytest_lsp.fixture(config=ClientServerConfig(server_command=COMMAND))
async def watching_client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    """A client that lets servers register file watchers (as VS Code does)."""

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        REGISTERED.extend(params.registrations)

    watched = types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)
    capabilities = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(did_change_watched_files=watched))
    await lsp_client.initialize_session(types.InitializeParams(capabilities=capabilities))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_config_change_checks_open_documents_again(watching_client: LanguageClient, tmp_path: Path) -> None:
    client = watching_client
    uri = await _open_routes(client, tmp_path, '"FR302"')
    assert [(r.method, [w["globPattern"] for w in r.register_options["watchers"]]) for r in REGISTERED] == [
        ("workspace/didChangeWatchedFiles", ["**/pyproject.toml"])
    ]
    assert [d.code for d in client.diagnostics[uri]] == ["FR302", "FR302"]
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.fastapi-review]\nselect = ['FR206']\nlearn-conventions = false\n")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Changed)])
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [d.code for d in client.diagnostics[uri]] == ["FR206"]
