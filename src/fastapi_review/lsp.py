"""A language server (pygls): diagnostics on open, change and save — the editor on-save path.

Each document is checked with the configuration of its nearest pyproject.toml, against the
rest of its project as recorded in the project's cache (see checker.check_text).  The first
diagnostics never wait for the project: when the cache lacks some of its files, they come from
the document alone, a background run indexes the project, and the document's diagnostics are
published again (with the cross-file findings) when it is done.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from fastapi_review import __version__
from fastapi_review.cache import Cache, default_cache_dir
from fastapi_review.checker import check_text, index_in_background
from fastapi_review.config import Config, ConfigError, load_config
from fastapi_review.discovery import SourceFile
from fastapi_review.findings import Finding
from fastapi_review.output.sarif import DOCS_URL

server = LanguageServer("fastapi-review", __version__)

_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}


def to_diagnostic(finding: Finding) -> types.Diagnostic:
    """An LSP diagnostic (0-based positions) for a finding."""
    return types.Diagnostic(
        range=types.Range(
            start=types.Position(line=finding.line - 1, character=finding.column - 1),
            end=types.Position(line=finding.end_line - 1, character=max(finding.end_column - 1, 0)),
        ),
        message=finding.message,
        severity=_SEVERITY[finding.severity],
        code=finding.code,
        code_description=types.CodeDescription(href=DOCS_URL.format(code=finding.code)),
        source="fastapi-review",
    )


def diagnostics_for(
    path: str, text: str, indexing: Optional["list[subprocess.Popen[bytes]]"] = None
) -> tuple[list[types.Diagnostic], Optional[str]]:
    """Diagnostics of one document, and a configuration error to show, if any; given
    `indexing`, a background run started to index the files the project's cache lacked."""
    try:
        config = load_config(None, Path(path))
    except ConfigError as exc:
        return [], str(exc)
    except OSError:
        config = Config(root=Path.cwd().resolve())
    # the rest of the project comes from the cache (the first check of a project fills it)
    cache = Cache(default_cache_dir(config), config)
    missing: list[SourceFile] = []
    findings = check_text(text.encode("utf-8"), path, config, cache=cache, missing=missing)
    if missing and indexing is not None:
        process = index_in_background(Path(path), config, cache)
        if process is not None:
            indexing.append(process)
    return [to_diagnostic(f) for f in findings], None


def _publish(ls: LanguageServer, uri: str, version: Optional[int] = None, index: bool = True) -> None:
    document = ls.workspace.get_text_document(uri)
    path = to_fs_path(uri) or uri
    indexing: "list[subprocess.Popen[bytes]]" = []
    diagnostics, error = diagnostics_for(path, document.source, indexing if index else None)
    if error is not None:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"fastapi-review: {error}"))
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
    )
    for process in indexing:
        asyncio.ensure_future(_publish_when_indexed(ls, uri, process))


async def _publish_when_indexed(ls: LanguageServer, uri: str, process: "subprocess.Popen[bytes]") -> None:
    """Publish a document's diagnostics again once the background run indexed its project."""
    await asyncio.get_running_loop().run_in_executor(None, process.wait)
    if uri in ls.workspace.text_documents:
        _publish(ls, uri, ls.workspace.get_text_document(uri).version, index=False)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    """Check a document when it is opened."""
    _publish(ls, params.text_document.uri, params.text_document.version)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    """Check a document on every change (single-file checks take milliseconds)."""
    _publish(ls, params.text_document.uri, params.text_document.version)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: LanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    """Check a document when it is saved."""
    _publish(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    """Clear a closed document's diagnostics."""
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


def run() -> None:
    """Serve over stdin/stdout."""
    server.start_io()
