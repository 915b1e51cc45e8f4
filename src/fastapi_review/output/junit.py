"""JUnit XML: one test suite per file, one failing test case per finding (ruff's layout), for CI
systems that show test reports (GitLab, Jenkins, Azure Pipelines)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import groupby
from typing import Sequence

from fastapi_review.findings import Finding

# characters XML 1.0 cannot hold, even escaped (they can come from a finding's quoted code)
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def format_junit(findings: Sequence[Finding]) -> str:
    """A `<testsuites>` document; no findings is one passing test case."""
    root = ET.Element("testsuites", name="fastapi-review", tests=str(len(findings) or 1), failures=str(len(findings)), errors="0")
    if not findings:
        suite = ET.SubElement(root, "testsuite", name="fastapi-review", tests="1", failures="0", errors="0", skipped="0")
        ET.SubElement(suite, "testcase", name="No findings", classname="fastapi-review")
    for path, group in groupby(sorted(findings, key=Finding.sort_key), key=lambda f: f.path):
        cases = list(group)
        suite = ET.SubElement(
            root, "testsuite", name=_text(path), tests=str(len(cases)), failures=str(len(cases)), errors="0", skipped="0",
            package="fastapi-review",
        )
        for f in cases:
            case = ET.SubElement(
                suite, "testcase", name=f"fastapi-review.{f.code}", classname=_text(path), file=_text(path),
                line=str(f.line), column=str(f.column),
            )
            failure = ET.SubElement(case, "failure", message=_text(f.message), type=f.code)
            failure.text = _text(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
