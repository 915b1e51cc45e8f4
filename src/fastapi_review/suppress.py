"""`# noqa` and `# noqa: FR401,FR102` suppression, flake8-style, on the reported line."""

from __future__ import annotations

import re

_NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*))?", re.IGNORECASE)
_SPLIT = re.compile(r"[,\s]+")
# Other linters' codes for the same finding: a project that silenced flake8-annotations / ruff
# there has decided (`def f(x):  # noqa: ANN001`).
EQUIVALENT_CODES = {
    "FR101": ("ANN001", "ANN002", "ANN003"),
    "FR102": ("ANN201", "ANN202", "ANN204", "ANN205", "ANN206"),
    "FR401": ("S608",),  # bandit's / ruff's hardcoded-SQL-expression check
}


class NoqaLines:
    """Answers "is code X suppressed on line N?" for one file's text, parsing lines lazily."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._cache: dict[int, object] = {}

    def _codes(self, line: int) -> object:
        if line not in self._cache:
            text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
            match = _NOQA.search(text) if "#" in text else None
            if match is None:
                self._cache[line] = None
            elif match.group("codes"):
                self._cache[line] = frozenset(c.upper() for c in _SPLIT.split(match.group("codes").strip()) if c)
            else:
                self._cache[line] = "all"
        return self._cache[line]

    def suppresses(self, line: int, code: str) -> bool:
        """Whether a `# noqa` on `line` covers `code` (a listed code or prefix covers it)."""
        codes = self._codes(line)
        if codes is None:
            return False
        if codes == "all":
            return True
        for listed in codes:  # type: ignore[union-attr]
            if code.startswith(listed):
                return True
            for equivalent in EQUIVALENT_CODES.get(code, ()):
                if equivalent.startswith(listed):
                    return True
        return False
