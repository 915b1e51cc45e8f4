"""reviewdog's Diagnostic Format (rdjson): a DiagnosticResult with one diagnostic per finding and
each fix's edits as suggestions, for `reviewdog -f=rdjson` (pull request comments and
suggested changes on GitHub, GitLab, Bitbucket, Gitea)."""

from __future__ import annotations

import json
from typing import Any, Callable, Optional, Sequence

from fastapi_review.findings import Finding
from fastapi_review.output.sarif import DOCS_URL

_SEVERITY = {"error": "ERROR", "warning": "WARNING"}


def format_rdjson(findings: Sequence[Finding], source_of: Callable[[str], Optional[str]]) -> str:
    """The DiagnosticResult; columns are UTF-8 byte columns, as rdjson counts them (the file's
    text from `source_of` converts them; without it, character columns are given)."""
    lines: dict[str, list[str]] = {}

    def position(path: str, line: int, column: int) -> dict[str, int]:
        if path not in lines:
            text = source_of(path)
            lines[path] = text.split("\n") if text is not None else []
        known = lines[path]
        prefix = known[line - 1][: column - 1] if 0 < line <= len(known) else ""
        return {"line": line, "column": column + len(prefix.encode("utf-8", "surrogatepass")) - len(prefix)}

    diagnostics = []
    for f in findings:
        diagnostic: dict[str, Any] = {
            "message": f.message,
            "location": {
                "path": f.path,
                "range": {"start": position(f.path, f.line, f.column), "end": position(f.path, f.end_line, f.end_column)},
            },
            "severity": _SEVERITY[f.severity],
            "code": {"value": f.code, "url": DOCS_URL.format(code=f.code)},
        }
        if f.fix is not None and f.fix.edits:
            diagnostic["suggestions"] = [
                {
                    "range": {"start": position(f.path, e.line, e.column), "end": position(f.path, e.end_line, e.end_column)},
                    "text": e.content,
                }
                for e in f.fix.edits
            ]
        diagnostics.append(diagnostic)
    result = {
        "source": {"name": "fastapi-review", "url": "https://github.com/fastapi-review/fastapi-review"},
        "severity": "WARNING",
        "diagnostics": diagnostics,
    }
    return json.dumps(result, indent=2) + "\n"
