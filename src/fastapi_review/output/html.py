"""HTML review: one self-contained file (inline style and script, no network assets) with the
checklist, counts per rule and per directory with bars, and every finding with its code
excerpt and a link to its rule's doc, filterable by rule and severity. Needs jinja2 (the
`html` extra)."""

from __future__ import annotations

import posixpath
from collections import Counter
from pathlib import Path
from typing import Any, Optional, Sequence

from fastapi_review.findings import Finding
from fastapi_review.output.review import Review, ReviewContext, build_review, most_severe_first
from fastapi_review.output.sarif import DOCS_URL

MAX_SHOWN = 2_000  # findings shown with their excerpt; the counts include every finding
EXCERPT_CONTEXT = 2  # lines shown above and below a finding's line
VERDICT_CLASSES = {"Clean": "clean", "Changes suggested": "suggested", "Changes requested": "requested"}


class HtmlUnavailable(Exception):
    """jinja2 is not installed."""


def _excerpt(lines: list[str], finding: Finding) -> list[tuple[int, str, bool]]:
    first = max(finding.line - EXCERPT_CONTEXT, 1)
    last = min(max(finding.end_line, finding.line) + EXCERPT_CONTEXT, len(lines), finding.line + 8)
    return [(n, lines[n - 1].rstrip("\r\n"), finding.line <= n <= finding.end_line) for n in range(first, last + 1)]


def _bars(counts: Counter[str]) -> list[dict[str, Any]]:
    top = max(counts.values(), default=1)
    return [
        {"name": name, "count": count, "width": round(100 * count / top, 1)}
        for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def template_values(review: Review) -> dict[str, Any]:
    """Everything the template shows, computed here so the template only lays it out."""
    sources: dict[str, list[str]] = {}
    source_of = review.context.source_of

    def lines_of(path: str) -> list[str]:
        if path not in sources:
            text: Optional[str] = source_of(path) if source_of is not None else None
            sources[path] = text.splitlines() if text is not None else []
        return sources[path]

    first_of = {f.code: f for f in review.findings}
    rules = []
    for row in _bars(Counter(f.code for f in review.findings)):
        code = row["name"]
        rules.append({**row, "code": code, "name": first_of[code].name, "severity": first_of[code].severity, "doc": DOCS_URL.format(code=code)})
    directories = _bars(Counter(posixpath.dirname(review.relative(f.path)) or "." for f in review.findings))
    ordered = most_severe_first(review.findings)
    findings = [
        {
            "code": f.code, "name": f.name, "severity": f.severity, "path": review.relative(f.path),
            "line": f.line, "column": f.column, "message": f.message, "doc": DOCS_URL.format(code=f.code),
            "excerpt": _excerpt(lines_of(f.path), f),
        }
        for f in ordered[:MAX_SHOWN]
    ]
    work = review.work
    return {
        "review": review,
        "verdict_class": VERDICT_CLASSES[review.verdict],
        "errors": sum(f.severity == "error" for f in review.findings),
        "files_with_findings": len({f.path for f in review.findings}),
        "next_agent": work[0].agent.name if work else "Workflow complete",
        "others": [w.agent.name for w in work[1:]],
        "rules": rules,
        "directories": directories,
        "findings": findings,
        "hidden": max(len(ordered) - MAX_SHOWN, 0),
    }


def format_html(findings: Sequence[Finding], context: ReviewContext) -> str:
    """The HTML review of a run."""
    try:
        import jinja2
    except ImportError as exc:
        raise HtmlUnavailable(
            "the html format needs jinja2 (the html extra): pip install jinja2, or pip install '.[html]' in a fastapi-review checkout"
        ) from exc
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("review.html.j2").render(**template_values(build_review(findings, context)))
