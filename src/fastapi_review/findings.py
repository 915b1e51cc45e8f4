"""The finding record every rule produces and every formatter consumes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from fastapi_review.packing import Packed

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Fix(Packed):
    """A proposed edit; `safety` is "safe" or "unsafe"."""

    safety: Literal["safe", "unsafe"]
    description: str


@dataclass(frozen=True)
class Finding(Packed):
    """One reported problem at a 1-based line / 1-based column range of a file."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    message: str
    severity: Severity
    fix: Optional[Fix] = None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Deterministic output order: path, position, code, message."""
        return (self.path, self.line, self.column, self.code, self.message)
