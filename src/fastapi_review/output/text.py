"""flake8-style text: `path:line:col: CODE message`."""

from __future__ import annotations

from collections import Counter
from typing import Callable, Optional, Sequence

from fastapi_review.findings import Finding


def fixable(finding: Finding, unsafe_fixes: bool = False) -> bool:
    """Whether `--fix` (with `--unsafe-fixes` when `unsafe_fixes`) would fix the finding."""
    return finding.fix is not None and (finding.fix.safety == "safe" or unsafe_fixes)


def _line(f: Finding, unsafe_fixes: bool) -> str:
    marker = "[*] " if fixable(f, unsafe_fixes) else ""
    return f"{f.path}:{f.line}:{f.column}: {f.code} {marker}{f.message}\n"


def format_text(findings: Sequence[Finding], unsafe_fixes: bool = False) -> str:
    """One line per finding; `[*]` before the message of a finding `--fix` can fix (ruff's mark)."""
    return "".join(_line(f, unsafe_fixes) for f in findings)


def format_text_with_source(
    findings: Sequence[Finding], source_of: Callable[[str], Optional[str]], unsafe_fixes: bool = False
) -> str:
    """Each finding followed by its source line and a caret under the reported range."""
    out = []
    cache: dict[str, list[str]] = {}
    for f in findings:
        out.append(_line(f, unsafe_fixes))
        if f.path not in cache:
            text = source_of(f.path)
            cache[f.path] = text.splitlines() if text is not None else []
        lines = cache[f.path]
        if 0 < f.line <= len(lines):
            line = lines[f.line - 1].expandtabs(1)
            width = (f.end_column - f.column) if f.end_line == f.line else len(line) - f.column + 1
            out.append(f"    {line}\n    {' ' * (f.column - 1)}{'^' * max(width, 1)}\n")
    return "".join(out)


def format_statistics(findings: Sequence[Finding], unsafe_fixes: bool = False) -> str:
    """Counts per code, most frequent first (like `flake8 --statistics`), with how many of them
    `--fix` can fix."""
    counts = Counter((f.code, f.name) for f in findings)
    fixes = Counter(f.code for f in findings if fixable(f, unsafe_fixes))
    hidden = Counter(f.code for f in findings if fixable(f, True) and not fixable(f, unsafe_fixes))
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    return "".join(f"{count:<6} {code} {name}{_fix_note(fixes[code], hidden[code])}\n" for (code, name), count in rows)


def _fix_note(safe: int, unsafe: int) -> str:
    notes = ([f"{safe} fixable"] if safe else []) + ([f"{unsafe} with --unsafe-fixes"] if unsafe else [])
    return f" ({', '.join(notes)})" if notes else ""
