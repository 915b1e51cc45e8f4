"""FR003 file-too-complex: a file not checked because it is too large or too deeply built to
check in bounded time (produced by the engine, not a visitor)."""

from __future__ import annotations

from typing import ClassVar

from fastapi_review.facts import ROLES
from fastapi_review.findings import Finding, Severity
from fastapi_review.rule import Rule


class FileTooComplexRule(Rule):
    """Reported by the engine when a file exceeds the per-file time budget or the nesting
    bound; the file's other findings are not reported, and the run goes on."""

    code = "FR003"
    name = "file-too-complex"
    summary = "a file whose check exceeded the per-file time budget or nesting bound; the run goes on"
    message = "file not checked: {reason}"
    severity: ClassVar[Severity] = "warning"
    roles = frozenset(ROLES)  # whatever the file is, the user learns it was not checked

    @classmethod
    def finding(cls, path: str, line: int, reason: str) -> Finding:
        """The FR003 finding for a file left unchecked, at the 1-based line the cause starts."""
        return Finding(
            path=path, line=line, column=1, end_line=line, end_column=1,
            code=cls.code, name=cls.name, message=cls.message.format(reason=reason), severity=cls.severity,
        )
