"""FR002 internal-error: a rule (or the engine) failed on a file; the run goes on without it."""

from __future__ import annotations

from typing import ClassVar

from fastapi_review.facts import ROLES
from fastapi_review.findings import Finding, Severity
from fastapi_review.rule import Rule

BUG_REPORT = "https://github.com/fastapi-review/fastapi-review/issues"


class InternalErrorRule(Rule):
    """Reported by the engine when a rule raises; the other rules and files still run."""

    code = "FR002"
    name = "internal-error"
    summary = "a rule crashed on this file (please report it); the other rules still ran"
    message = "internal error in {component} ({error}): please report it at " + BUG_REPORT
    severity: ClassVar[Severity] = "error"
    roles = frozenset(ROLES)

    @classmethod
    def finding(cls, path: str, component: str, error: BaseException) -> Finding:
        """The FR002 finding for a crash of `component` (a rule code and name, or the engine)."""
        text = f"{type(error).__name__}: {error}".replace("\n", " ")[:200]
        return Finding(
            path=path, line=1, column=1, end_line=1, end_column=1,
            code=cls.code, name=cls.name, message=cls.message.format(component=component, error=text),
            severity=cls.severity,
        )
