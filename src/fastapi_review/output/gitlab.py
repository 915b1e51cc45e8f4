"""GitLab Code Quality: a JSON array of issues (description, check_name, fingerprint, severity,
location.path, location.lines.begin), shown in merge requests and pipelines.

The fingerprint identifies an issue across pipelines, so that GitLab can tell new issues from
fixed ones: the caller computes it from the file, the code and the text of the line (not its
number: code moved up or down keeps its fingerprint), see `baseline.unique_fingerprints`.
"""

from __future__ import annotations

import json
import os
from pathlib import PurePath
from typing import Sequence

from fastapi_review.findings import Finding
from fastapi_review.output.sarif import DOCS_URL

# GitLab's severities: info, minor, major, critical, blocker
_SEVERITY = {"error": "critical", "warning": "major"}


def _path(path: str) -> str:
    """Relative to the directory the job runs in (GitLab resolves paths from the repository root)."""
    if os.path.isabs(path):
        path = os.path.relpath(path)
    return PurePath(os.path.normpath(path)).as_posix()


def format_gitlab(findings: Sequence[Finding], fingerprints: Sequence[str]) -> str:
    """One Code Quality issue per finding, with the fingerprint given for it."""
    issues = [
        {
            "type": "issue",
            "check_name": f.code,
            "description": f"{f.code} {f.message}",
            "content": {"body": f"[{f.code} {f.name}]({DOCS_URL.format(code=f.code)})"},
            "fingerprint": fingerprint,
            "severity": _SEVERITY[f.severity],
            "location": {"path": _path(f.path), "lines": {"begin": f.line, "end": f.end_line}},
        }
        for f, fingerprint in zip(findings, fingerprints)
    ]
    return json.dumps(issues, indent=2) + "\n"
