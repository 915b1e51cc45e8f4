"""JSON: a list of finding objects (documented in the README), with ruff's `url` and `fix.edits`."""

from __future__ import annotations

import json
from typing import Any, Sequence

from fastapi_review.findings import Finding, TextEdit
from fastapi_review.output.sarif import DOCS_URL


def edit_to_dict(edit: TextEdit) -> dict[str, Any]:
    """One edit as ruff's JSON writes it: `content` replaces `location` up to `end_location`."""
    return {
        "content": edit.content,
        "location": {"row": edit.line, "column": edit.column},
        "end_location": {"row": edit.end_line, "column": edit.end_column},
    }


def finding_to_dict(f: Finding) -> dict[str, Any]:
    """The JSON object of one finding."""
    fix = None
    if f.fix is not None:
        fix = {
            "safety": f.fix.safety,
            "description": f.fix.description,
            "applicability": f.fix.safety,
            "edits": [edit_to_dict(edit) for edit in f.fix.edits],
        }
    return {
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "code": f.code,
        "name": f.name,
        "message": f.message,
        "severity": f.severity,
        "url": DOCS_URL.format(code=f.code),
        "fix": fix,
    }


def format_json(findings: Sequence[Finding]) -> str:
    """A JSON array, one object per finding."""
    return json.dumps([finding_to_dict(f) for f in findings], indent=2) + "\n"


def format_json_lines(findings: Sequence[Finding]) -> str:
    """One JSON object per line (streamable, greppable)."""
    return "".join(json.dumps(finding_to_dict(f)) + "\n" for f in findings)
