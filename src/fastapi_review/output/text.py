"""flake8-style text: `path:line:col: CODE message`."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from fastapi_review.findings import Finding


def format_text(findings: Sequence[Finding]) -> str:
    """One line per finding."""
    return "".join(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}\n" for f in findings)


def format_statistics(findings: Sequence[Finding]) -> str:
    """Counts per code, most frequent first (like `flake8 --statistics`)."""
    counts = Counter((f.code, f.name) for f in findings)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    return "".join(f"{count:<6} {code} {name}\n" for (code, name), count in rows)
