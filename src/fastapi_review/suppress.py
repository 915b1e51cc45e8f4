"""`# noqa` directives, flake8-style, on the reported line: reading them (`# noqa`,
`# noqa: FR401,FR102`, `# noqa: FR302 FR303`, `# noqa: http-status-literal`), finding the
real comments of a file, and writing codes into a line's directive (`--add-noqa`)."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Optional, Sequence

# A listed item is a code (`FR302`, `fr302`), a prefix in capitals (`FR3`, `FR`) or a rule name
# (`http-status-literal`).  The list ends at the first word that is none of these, so a reason
# written after the codes (`# noqa: FR302 kept for the v1 clients`) is not read as codes.
_ITEM = r"(?:[A-Za-z]+[0-9]+|[A-Z]+|[a-z][a-z0-9]*(?:-[a-z0-9]+)+)(?![\w-])"
_NOQA = re.compile(r"#\s*(?i:noqa)(?::\s*(?P<codes>%s(?:(?:\s*,\s*|\s+)%s)*))?" % (_ITEM, _ITEM))
_ITEMS = re.compile(_ITEM)
ALL = "*"  # what a bare `# noqa` lists
# Other linters' codes for the same finding: a project that silenced flake8-annotations / ruff
# there has decided (`def f(x):  # noqa: ANN001`).
EQUIVALENT_CODES = {
    "FR101": ("ANN001", "ANN002", "ANN003"),
    "FR102": ("ANN201", "ANN202", "ANN204", "ANN205", "ANN206"),
    "FR401": ("S608",),  # bandit's / ruff's hardcoded-SQL-expression check
}


@dataclass(frozen=True)
class Directive:
    """A `# noqa` in a piece of text: where it is, and what it lists (None: everything)."""

    start: int  # offset of its `#`
    end: int  # offset just past its last listed item (or past `noqa`)
    items: Optional[tuple[tuple[str, int], ...]]  # (item as written, offset)


def find_directive(text: str) -> Optional[Directive]:
    """The first `# noqa` directive in `text` (a line or a comment), if any."""
    match = _NOQA.search(text) if "#" in text else None
    if match is None:
        return None
    if match.group("codes") is None:
        return Directive(match.start(), match.end(), None)
    base = match.start("codes")
    items = tuple((m.group(), base + m.start()) for m in _ITEMS.finditer(match.group("codes")))
    return Directive(match.start(), match.end(), items)


def covers(item: str, code: str, name: str) -> bool:
    """Whether a listed item covers the rule `code` named `name`: the code, a prefix of it, its
    name, or another linter's code for the same finding."""
    if item == ALL or item == name:
        return True
    listed = item.upper()
    if code.startswith(listed):
        return True
    return any(equivalent.startswith(listed) for equivalent in EQUIVALENT_CODES.get(code, ()))


class NoqaLines:
    """Answers "which `# noqa` item suppresses code X on line N?" for one file's text, parsing
    lines lazily."""

    def __init__(self, text: str) -> None:
        self._lines = [line.rstrip("\r\n") for line in source_lines(text)]
        self._cache: dict[int, Optional[Directive]] = {}

    def directive(self, line: int) -> Optional[Directive]:
        """The `# noqa` on a 1-based line (anywhere in it: even a string's `#` counts here)."""
        if line not in self._cache:
            self._cache[line] = find_directive(self._lines[line - 1]) if 0 < line <= len(self._lines) else None
        return self._cache[line]

    def suppressing(self, line: int, code: str, name: str) -> Optional[str]:
        """The item of the `# noqa` on `line` that covers the rule (`ALL` for a bare `# noqa`),
        or None when nothing on the line suppresses it."""
        directive = self.directive(line)
        if directive is None:
            return None
        if directive.items is None:
            return ALL
        return next((item for item, _ in directive.items if covers(item, code, name)), None)


@dataclass(frozen=True)
class LineEnds:
    """Where the comments of a file are, and on which lines one may be added."""

    comments: dict[int, tuple[int, str]]  # 1-based line → (0-based column, the comment's text)
    open: frozenset[int]  # lines that end outside a string and without a backslash continuation


def line_ends(data: bytes) -> Optional[LineEnds]:
    """The comments of a file's source and the lines a comment can end (None when the source
    does not tokenize)."""
    comments: dict[int, tuple[int, str]] = {}
    open_lines: set[int] = set()
    try:
        for token in tokenize.tokenize(io.BytesIO(data).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = (token.start[1], token.string)
            elif token.type in (tokenize.NEWLINE, tokenize.NL):
                open_lines.add(token.start[0])
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, LookupError):
        return None
    return LineEnds(comments, frozenset(open_lines))


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def source_lines(text: str) -> list[str]:
    """`text`'s lines with their line breaks, as Python's tokenizer (and an editor) counts them:
    broken at \\n, \\r\\n and \\r only (`str.splitlines` also breaks at \\f, \\x1c, \\u2028...)."""
    return _LINE.findall(text)


def with_codes(line: str, comment: Optional[str], codes: Sequence[str]) -> str:
    """`line` (without its line break) whose `# noqa:` also lists `codes`: added to the
    directive of its comment (`comment`, the line's real comment, or None), else a new
    `  # noqa: CODES` at the end.  Unchanged when everything is suppressed already."""
    directive = find_directive(comment) if comment is not None else None
    if directive is not None:
        if directive.items is None:
            return line
        listed = [item for item, _ in directive.items]
        missing = [c for c in codes if not any(covers(item, c, "") for item in listed)]
        if not missing:
            return line
        offset = len(line) - len(comment)  # type: ignore[arg-type] - a directive came from it
        end = offset + directive.end
        return f"{line[:end]}, {', '.join(missing)}{line[end:]}"
    return f"{line.rstrip()}  # noqa: {', '.join(codes)}"
