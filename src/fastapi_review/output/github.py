"""GitHub Actions workflow commands: `::warning file=...,line=...::message`."""

from __future__ import annotations

from typing import Sequence

from fastapi_review.findings import Finding


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: Sequence[Finding]) -> str:
    """One annotation per finding; errors as `::error`, warnings as `::warning`."""
    lines = []
    for f in findings:
        properties = ",".join(
            [
                f"file={_escape_property(f.path)}",
                f"line={f.line}",
                f"col={f.column}",
                f"endLine={f.end_line}",
                f"endColumn={f.end_column}",
                f"title={_escape_property(f'{f.code} {f.name}')}",
            ]
        )
        lines.append(f"::{f.severity} {properties}::{_escape_data(f'{f.code} {f.message}')}\n")
    return "".join(lines)
