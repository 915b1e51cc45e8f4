"""SARIF 2.1.0: one run, the rule catalogue as `tool.driver.rules`, one result per finding."""

from __future__ import annotations

import json
from typing import Any, Sequence
from urllib.parse import quote

from fastapi_review import __version__
from fastapi_review.findings import Finding

DOCS_URL = "https://github.com/fastapi-review/fastapi-review/blob/main/rules/{code}.md"
_LEVELS = {"error": "error", "warning": "warning"}


def _uri(path: str) -> str:
    """A relative URI reference (RFC 3986) for a path: `/` separators, everything else that is
    not unreserved percent-encoded as UTF-8 (`my app/ü.py` → `my%20app/%C3%BC.py`)."""
    return quote(path.replace("\\", "/"), safe="/")


def _rules() -> list[dict[str, Any]]:
    from fastapi_review.rules import ALL_RULES

    return [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "helpUri": DOCS_URL.format(code=rule.code),
            "defaultConfiguration": {"level": _LEVELS[rule.severity], "enabled": rule.default_enabled},
        }
        for rule in ALL_RULES
    ]


def format_sarif(findings: Sequence[Finding]) -> str:
    """A SARIF log with every rule's metadata and the findings as results."""
    rules = _rules()
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _LEVELS[f.severity],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": max(f.end_column, f.column) if f.end_line == f.line else f.end_column,
                        },
                    }
                }
            ],
        }
        if f.fix is not None:
            result["properties"] = {"fix": {"safety": f.fix.safety, "description": f.fix.description}}
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "fastapi-review",
                        "version": __version__,
                        "informationUri": "https://github.com/fastapi-review/fastapi-review",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
