"""A language server (pygls): diagnostics on open, change and save — the editor on-save path —
and code actions: each finding's fix (safe ones preferred, unsafe ones marked), a `# noqa` for
its line, and every safe fix of the document at once (`source.fixAll.fastapi-review`).

Each document is checked with the configuration of its nearest pyproject.toml, against the
rest of its project as recorded in the project's cache (see checker.check_text); a changed
pyproject.toml (`workspace/didChangeWatchedFiles`) checks every open document again.  The first
diagnostics never wait for the project: when the cache lacks some of its files, they come from
the document alone, a background run indexes the project, and the document's diagnostics are
published again (with the cross-file findings) when it is done.
"""

from __future__ import annotations

import asyncio
import difflib
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
from fastapi_review.engine import ENGINE_CODES
from fastapi_review.findings import Finding
from fastapi_review.fixes import fix_findings
from fastapi_review.output.sarif import DOCS_URL
from fastapi_review.suppress import line_ends, source_lines, with_codes

server = LanguageServer("fastapi-review", __version__)

_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}
FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.fastapi-review"
CONFIG_GLOB = "**/pyproject.toml"
# per open document: the text last checked, its configuration and findings (code actions use them)
_checked: dict[str, tuple[str, Config, list[Finding]]] = {}


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


def findings_for(
    path: str, text: str, indexing: Optional["list[subprocess.Popen[bytes]]"] = None
) -> tuple[Config, list[Finding], Optional[str]]:
    """The configuration and findings of one document, and a configuration error to show, if
    any; given `indexing`, a background run started to index the files the project's cache lacked."""
    try:
        config = load_config(None, Path(path))
    except ConfigError as exc:
        return Config(root=Path.cwd().resolve()), [], str(exc)
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
    return config, findings, None


def diagnostics_for(path: str, text: str) -> tuple[list[types.Diagnostic], Optional[str]]:
    """Diagnostics of one document, and a configuration error to show, if any."""
    _, findings, error = findings_for(path, text)
    return [to_diagnostic(f) for f in findings], error


def _publish(ls: LanguageServer, uri: str, version: Optional[int] = None, index: bool = True) -> None:
    document = ls.workspace.get_text_document(uri)
    path = to_fs_path(uri) or uri
    indexing: "list[subprocess.Popen[bytes]]" = []
    config, findings, error = findings_for(path, document.source, indexing if index else None)
    _checked[uri] = (document.source, config, findings)
    if error is not None:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"fastapi-review: {error}"))
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=[to_diagnostic(f) for f in findings], version=version)
    )
    for process in indexing:
        asyncio.ensure_future(_publish_when_indexed(ls, uri, process))


async def _publish_when_indexed(ls: LanguageServer, uri: str, process: "subprocess.Popen[bytes]") -> None:
    """Publish a document's diagnostics again once the background run indexed its project."""
    await asyncio.get_running_loop().run_in_executor(None, process.wait)
    if uri in ls.workspace.text_documents:
        _publish(ls, uri, ls.workspace.get_text_document(uri).version, index=False)


@server.feature(types.INITIALIZED)
def initialized(ls: LanguageServer, params: types.InitializedParams) -> None:
    """Ask the client to report pyproject.toml changes, when it can watch files for a server."""
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace is not None else None
    if watched is None or not watched.dynamic_registration:
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(watchers=[types.FileSystemWatcher(glob_pattern=CONFIG_GLOB)])
    registration = types.Registration(id="fastapi-review-config", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)
    ls.client_register_capability(types.RegistrationParams(registrations=[registration]))


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
    _checked.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: LanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
    """A pyproject.toml changed: check every open document again with the configuration now."""
    if not any((to_fs_path(change.uri) or change.uri).endswith("pyproject.toml") for change in params.changes):
        return
    for uri in list(ls.workspace.text_documents):
        document = ls.workspace.get_text_document(uri)
        _publish(ls, uri, document.version)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=False),
)
def code_action(ls: LanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """Quick fixes and `# noqa` for the findings in the range; every safe fix of the document."""
    uri = params.text_document.uri
    text = ls.workspace.get_text_document(uri).source
    path = to_fs_path(uri) or uri
    checked = _checked.get(uri)
    if checked is None or checked[0] != text:
        config, findings, _ = findings_for(path, text)
        _checked[uri] = (text, config, findings)
    else:
        _, config, findings = checked
    only = params.context.only
    actions: list[types.CodeAction] = []
    if _wanted(only, types.CodeActionKind.QuickFix):
        first, last = params.range.start.line + 1, params.range.end.line + 1
        for finding in findings:
            if finding.line <= last and finding.end_line >= first:
                actions += _finding_actions(uri, path, text, config, finding)
    if _wanted(only, FIX_ALL):
        safe = [f for f in findings if f.fix is not None and f.fix.safety == "safe"]
        fixed = fix_findings(text.encode("utf-8"), path, config, safe) if safe else None
        if fixed is not None:
            actions.append(
                types.CodeAction(
                    title="fastapi-review: Fix all safe fixes",
                    kind=FIX_ALL,
                    edit=_edit(uri, text, fixed.decode("utf-8")),
                )
            )
    return actions


def _wanted(only: Optional[list[str]], kind: str) -> bool:
    """Whether the client asked for this kind of action (`only` lists kinds or their parents)."""
    return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)


def _finding_actions(uri: str, path: str, text: str, config: Config, finding: Finding) -> list[types.CodeAction]:
    actions = []
    diagnostic = to_diagnostic(finding)
    if finding.fix is not None:
        fixed = fix_findings(text.encode("utf-8"), path, config, [finding])
        if fixed is not None:
            safe = finding.fix.safety == "safe"
            actions.append(
                types.CodeAction(
                    title=f"fastapi-review ({finding.code}): {finding.fix.description}{'' if safe else ' (unsafe)'}",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=safe,
                    edit=_edit(uri, text, fixed.decode("utf-8")),
                )
            )
    noqa = _noqa_edit(text, finding)
    if noqa is not None:
        actions.append(
            types.CodeAction(
                title=f"fastapi-review ({finding.code}): Disable for this line (# noqa)",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                edit=types.WorkspaceEdit(changes={uri: [noqa]}),
            )
        )
    return actions


def _noqa_edit(text: str, finding: Finding) -> Optional[types.TextEdit]:
    """The edit giving the finding's line a `# noqa: CODE` (None where no comment can go)."""
    if finding.code in ENGINE_CODES:
        return None  # `# noqa` does not silence the checker's own findings
    ends = line_ends(text.encode("utf-8"))
    lines = source_lines(text)
    if ends is None or finding.line not in ends.open or finding.line > len(lines):
        return None
    content = lines[finding.line - 1].rstrip("\r\n")
    comment = ends.comments.get(finding.line, (0, None))[1]
    new = with_codes(content, comment, [finding.code])
    if new == content:
        return None
    line = finding.line - 1
    return types.TextEdit(
        range=types.Range(start=types.Position(line, 0), end=types.Position(line, _utf16(content))),
        new_text=new,
    )


def _edit(uri: str, before: str, after: str) -> types.WorkspaceEdit:
    """The edits turning `before` into `after`, whole lines at a time."""
    old = source_lines(before)
    new = source_lines(after)
    edits = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        end = types.Position(i2, 0)
        if i2 == len(old) and old and not old[-1].endswith(("\n", "\r")):
            end = types.Position(i2 - 1, _utf16(old[-1]))  # the last line has no line break
        edits.append(types.TextEdit(range=types.Range(start=types.Position(i1, 0), end=end), new_text="".join(new[j1:j2])))
    return types.WorkspaceEdit(changes={uri: edits})


def _utf16(text: str) -> int:
    """The length of `text` in UTF-16 code units (LSP's default column unit)."""
    return len(text.encode("utf-16-le")) // 2


def run() -> None:
    """Serve over stdin/stdout."""
    server.start_io()
