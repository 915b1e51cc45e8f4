"""The finding record every rule produces and every formatter consumes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from fastapi_review.packing import Packed

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class TextEdit(Packed):
    """Replace the text from (line, column) up to (end_line, end_column) — 1-based, columns in
    characters, the end excluded — by `content`."""

    content: str
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Fix(Packed):
    """A proposed edit; `safety` is "safe" or "unsafe".  `edits` (the change as text edits of the
    checked source) is filled in only for the formats that print it (fixes.fix_edits)."""

    safety: Literal["safe", "unsafe"]
    description: str
    edits: tuple[TextEdit, ...] = ()


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
