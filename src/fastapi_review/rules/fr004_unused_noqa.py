"""FR004 unused-noqa: a `# noqa: FRxxx` that suppresses nothing (produced by the engine after
the rules ran, like ruff's RUF100)."""

from __future__ import annotations

from typing import ClassVar, Iterable, Sequence

from fastapi_review.facts import ROLES
from fastapi_review.findings import Finding, Severity
from fastapi_review.rule import Rule
from fastapi_review.suppress import find_directive, line_ends


class UnusedNoqaRule(Rule):
    """Reported by the engine: a `# noqa` item naming a rule that ran on the file and reported
    nothing it suppressed on that line."""

    code = "FR004"
    name = "unused-noqa"
    default_enabled = False
    summary = "a # noqa: FRxxx whose rule ran and reported nothing on that line"
    message = "unused noqa: {items} reported nothing on this line"
    severity: ClassVar[Severity] = "warning"
    roles = frozenset(ROLES)

    @classmethod
    def findings(cls, path: str, data: bytes, used: set[tuple[int, str]], ran: Sequence[type[Rule]]) -> list[Finding]:
        """One finding per `# noqa` comment listing a code (or rule name) of a rule in `ran`
        that suppressed nothing there (`used`: the (line, item) pairs that did)."""
        if b"noqa" not in data.lower():
            return []
        ends = line_ends(data)
        if ends is None:
            return []
        judged = {rule.code for rule in ran} | {rule.name for rule in ran}
        found = []
        for line, (column, comment) in sorted(ends.comments.items()):
            directive = find_directive(comment)
            if directive is None or directive.items is None:
                continue  # a bare `# noqa` may serve other linters: never judged
            items = {item for item, _ in directive.items}
            if any(_is_ours(item, (cls.code, cls.name)) for item in items):
                continue  # the line silences this rule itself
            if any(line == used_line and item not in items for used_line, item in used):
                continue  # a `# noqa` in a string before the comment did the suppressing
            unused = [(item, offset) for item, offset in directive.items if _judged(item, judged) and (line, item) not in used]
            if unused:
                found.append(cls._finding(path, line, column, unused))
        return found

    @classmethod
    def _finding(cls, path: str, line: int, column: int, unused: list[tuple[str, int]]) -> Finding:
        start = column + unused[0][1] + 1
        end = column + unused[-1][1] + len(unused[-1][0]) + 1
        return Finding(
            path=path, line=line, column=start, end_line=line, end_column=end,
            code=cls.code, name=cls.name, message=cls.message.format(items=", ".join(i for i, _ in unused)),
            severity=cls.severity,
        )


def _judged(item: str, judged: set[str]) -> bool:
    """A whole code (any case) or a rule name of a rule that ran; prefixes and other linters'
    codes are never judged."""
    return item.upper() in judged or item in judged


def _is_ours(item: str, keys: Iterable[str]) -> bool:
    return item.upper() in keys or item in keys
