"""flake8-style text: `path:line:col: CODE message`."""

from __future__ import annotations

from collections import Counter
from typing import Callable, Optional, Sequence

from fastapi_review.findings import Finding


def format_text(findings: Sequence[Finding]) -> str:
    """One line per finding."""
    return "".join(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}\n" for f in findings)


def format_text_with_source(findings: Sequence[Finding], source_of: Callable[[str], Optional[str]]) -> str:
    """Each finding followed by its source line and a caret under the reported range."""
    out = []
    cache: dict[str, list[str]] = {}
    for f in findings:
        out.append(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}\n")
        if f.path not in cache:
            text = source_of(f.path)
            cache[f.path] = text.splitlines() if text is not None else []
        lines = cache[f.path]
        if 0 < f.line <= len(lines):
            line = lines[f.line - 1].expandtabs(1)
            width = (f.end_column - f.column) if f.end_line == f.line else len(line) - f.column + 1
            out.append(f"    {line}\n    {' ' * (f.column - 1)}{'^' * max(width, 1)}\n")
    return "".join(out)


def format_statistics(findings: Sequence[Finding]) -> str:
    """Counts per code, most frequent first (like `flake8 --statistics`)."""
    counts = Counter((f.code, f.name) for f in findings)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    return "".join(f"{count:<6} {code} {name}\n" for (code, name), count in rows)
