"""JSON: a list of finding objects (documented in the README)."""

from __future__ import annotations

import json
from typing import Any, Sequence

from fastapi_review.findings import Finding


def finding_to_dict(f: Finding) -> dict[str, Any]:
    """The JSON object of one finding."""
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
        "fix": None if f.fix is None else {"safety": f.fix.safety, "description": f.fix.description},
    }


def format_json(findings: Sequence[Finding]) -> str:
    """A JSON array, one object per finding."""
    return json.dumps([finding_to_dict(f) for f in findings], indent=2) + "\n"


def format_json_lines(findings: Sequence[Finding]) -> str:
    """One JSON object per line (streamable, greppable)."""
    return "".join(json.dumps(finding_to_dict(f)) + "\n" for f in findings)
