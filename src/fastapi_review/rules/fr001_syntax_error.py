"""FR001 syntax-error: a file that cannot be parsed (produced by the engine, not a visitor)."""

from __future__ import annotations

from typing import ClassVar

from fastapi_review.facts import ROLES
from fastapi_review.findings import Finding, Severity
from fastapi_review.rule import Rule


class SyntaxErrorRule(Rule):
    """Reported by the engine when libcst cannot parse a file; the run goes on."""

    code = "FR001"
    name = "syntax-error"
    summary = "a file that cannot be parsed (the run goes on)"
    message = "cannot parse this file: {reason}"
    severity: ClassVar[Severity] = "error"
    roles = frozenset(ROLES)  # a file that cannot be parsed is reported whatever it is

    @classmethod
    def finding(cls, path: str, line: int, column: int, reason: str) -> Finding:
        """The FR001 finding for a parse failure at 1-based line/column."""
        reason = " ".join(reason.split())
        return Finding(
            path=path, line=line, column=column, end_line=line, end_column=column,
            code=cls.code, name=cls.name, message=cls.message.format(reason=reason), severity=cls.severity,
        )
