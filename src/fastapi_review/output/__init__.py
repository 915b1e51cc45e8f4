"""Formatters: pure functions from findings to text; reviews also take the run's context."""

from __future__ import annotations

from typing import Callable, Sequence

from fastapi_review.findings import Finding
from fastapi_review.output.github import format_github
from fastapi_review.output.html import format_html
from fastapi_review.output.json_format import format_json, format_json_lines
from fastapi_review.output.junit import format_junit
from fastapi_review.output.markdown import format_markdown
from fastapi_review.output.pylint import format_pylint
from fastapi_review.output.review import ReviewContext
from fastapi_review.output.sarif import format_sarif
from fastapi_review.output.text import format_text

FORMATTERS: dict[str, Callable[[Sequence[Finding]], str]] = {
    "text": format_text,
    "json": format_json,
    "json-lines": format_json_lines,
    "sarif": format_sarif,
    "github": format_github,
    "junit": format_junit,
    "pylint": format_pylint,
}
# formats that read the checked files: rdjson's byte columns (from the source) and GitLab's
# fingerprints (from the text of each finding's line), given by the caller
SOURCE_FORMATS = ("gitlab", "rdjson")
# reviews: what was checked and which rules ran decide what they say (see output/review.py)
REVIEW_FORMATTERS: dict[str, Callable[[Sequence[Finding], ReviewContext], str]] = {
    "markdown": format_markdown,
    "html": format_html,  # needs jinja2 (the html extra)
}
