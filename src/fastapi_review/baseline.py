"""Baselines: record today's findings, report only new ones later.

A finding's fingerprint is its code, its file (relative to the project root) and the text of
its line, stripped — not the line number — so unrelated edits that shift lines keep matching.
Identical fingerprints are counted, so a second copy of the same mistake is new.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Callable, Optional, Sequence

from fastapi_review.findings import Finding

VERSION = 1


class BaselineError(Exception):
    """An unreadable or malformed baseline file."""


def fingerprint(finding: Finding, root: Path, line_text: str) -> str:
    """Stable identity of a finding across line shifts."""
    try:
        path = Path(finding.path).resolve().relative_to(root).as_posix()
    except ValueError:
        path = Path(finding.path).as_posix()
    digest = hashlib.sha256(f"{finding.code}\0{path}\0{line_text.strip()}".encode("utf-8", "replace"))
    return digest.hexdigest()[:20]


def _line(source_of: Callable[[str], Optional[str]], cache: dict[str, list[str]], finding: Finding) -> str:
    if finding.path not in cache:
        text = source_of(finding.path)
        cache[finding.path] = text.splitlines() if text is not None else []
    lines = cache[finding.path]
    return lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""


def fingerprints(findings: Sequence[Finding], root: Path, source_of: Callable[[str], Optional[str]]) -> list[str]:
    """The fingerprint of each finding, in order."""
    cache: dict[str, list[str]] = {}
    return [fingerprint(f, root, _line(source_of, cache, f)) for f in findings]


def unique_fingerprints(findings: Sequence[Finding], root: Path, source_of: Callable[[str], Optional[str]]) -> list[str]:
    """A fingerprint per finding that no other finding of the report shares (GitLab Code Quality
    needs unique ones): the baseline fingerprint plus how many findings before it share it."""
    seen: Counter = Counter()
    unique = []
    for fp in fingerprints(findings, root, source_of):
        unique.append(hashlib.sha256(f"{fp}\0{seen[fp]}".encode()).hexdigest()[:32])
        seen[fp] += 1
    return unique


def write_baseline(path: Path, findings: Sequence[Finding], root: Path, source_of: Callable[[str], Optional[str]]) -> None:
    """Write the findings' fingerprints atomically."""
    entries = [
        {"code": f.code, "path": f.path, "fingerprint": fp}
        for f, fp in zip(findings, fingerprints(findings, root, source_of))
    ]
    data = json.dumps({"version": VERSION, "tool": "fastapi-review", "findings": entries}, indent=1) + "\n"
    temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
    temporary.write_text(data, encoding="utf-8")
    os.replace(temporary, path)


def read_baseline(path: Path) -> Counter:
    """The fingerprints recorded in a baseline file (with multiplicity)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: not a fastapi-review baseline (invalid JSON: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path}: not a fastapi-review baseline (expected version {VERSION})")
    return Counter(e.get("fingerprint") for e in data["findings"] if isinstance(e, dict))


def filter_new(
    findings: Sequence[Finding], baseline: Counter, root: Path, source_of: Callable[[str], Optional[str]]
) -> list[Finding]:
    """The findings not in the baseline (each baseline entry absorbs one finding)."""
    remaining = Counter(baseline)
    new = []
    for finding, fp in zip(findings, fingerprints(findings, root, source_of)):
        if remaining[fp] > 0:
            remaining[fp] -= 1
        else:
            new.append(finding)
    return new
