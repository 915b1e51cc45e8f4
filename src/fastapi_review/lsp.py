"""A language server (pygls): diagnostics on open, change and save — the editor on-save path.

Each document is checked with the configuration of its nearest pyproject.toml, against the
rest of its project as recorded in the project's cache (see checker.check_text).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from fastapi_review import __version__
from fastapi_review.cache import Cache, default_cache_dir
from fastapi_review.checker import check_text
from fastapi_review.config import Config, ConfigError, load_config
from fastapi_review.findings import Finding
from fastapi_review.output.sarif import DOCS_URL
from fastapi_review.parallel import default_jobs

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


def diagnostics_for(path: str, text: str) -> tuple[list[types.Diagnostic], Optional[str]]:
    """Diagnostics of one document, and a configuration error to show, if any."""
    try:
        config = load_config(None, Path(path))
    except ConfigError as exc:
        return [], str(exc)
    except OSError:
        config = Config(root=Path.cwd().resolve())
    # the rest of the project comes from the cache (the first check of a project fills it)
    cache = Cache(default_cache_dir(config), config)
    findings = check_text(text.encode("utf-8"), path, config, jobs=default_jobs(), cache=cache)
    return [to_diagnostic(f) for f in findings], None


def _publish(ls: LanguageServer, uri: str, version: Optional[int] = None) -> None:
    document = ls.workspace.get_text_document(uri)
    path = to_fs_path(uri) or uri
    diagnostics, error = diagnostics_for(path, document.source)
    if error is not None:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"fastapi-review: {error}"))
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
    )


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
