"""pylint's parseable format, as ruff writes it: `path:line: [CODE] message`."""

from __future__ import annotations

from typing import Sequence

from fastapi_review.findings import Finding


def format_pylint(findings: Sequence[Finding]) -> str:
    """One line per finding (pylint's `--output-format=parseable` shape, read by many CI tools)."""
    return "".join(f"{f.path}:{f.line}: [{f.code}] {f.message}\n" for f in findings)
