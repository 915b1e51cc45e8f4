"""The whole run: discover → per-file phase → project phase → sorted findings."""

from __future__ import annotations

import dataclasses
import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from fastapi_review.checker_details import DETAIL
from fastapi_review.config import Config
from fastapi_review.discovery import SourceFile, discover
from fastapi_review.engine import FileResult, check_source, module_name, on_big_stack
from fastapi_review.facts import Requirement
from fastapi_review.findings import Finding
from fastapi_review.project import ProjectIndex
from fastapi_review.rules.fr001_syntax_error import SyntaxErrorRule
from fastapi_review.selection import RuleSet


@dataclass
class Report:
    """The result of a run."""

    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0


def check_file(file: SourceFile, ruleset: RuleSet) -> FileResult:
    """The per-file phase for one discovered file (unreadable files become FR001)."""
    codes = ruleset.codes_for(file.relative, file.path)
    try:
        data = file.path.read_bytes()
    except OSError as exc:
        result = FileResult()
        if SyntaxErrorRule.code in codes:
            reason = f"cannot read file: {exc.strerror or exc}"
            result.findings.append(SyntaxErrorRule.finding(file.display, 1, 1, reason))
        return result
    return check_source(file.display, data, ruleset, codes, module_name(file.path, file.relative), file.relative)


def run_project_phase(results: Sequence[FileResult]) -> list[Finding]:
    """Build the ProjectIndex from every file's facts and keep the deferred findings it confirms."""
    index = ProjectIndex(r.facts for r in results if r.facts is not None)
    findings = [f for r in results for f in r.findings]
    for result in results:
        for finding, needed in result.deferred:
            if all(index.satisfies(n) for n in needed):
                findings.append(_with_details(finding, needed, index))
    return sorted(findings, key=Finding.sort_key)


def _with_details(finding: Finding, needed: Sequence[Requirement], index: ProjectIndex) -> Finding:
    if DETAIL not in finding.message:
        return finding
    detail = next((d for n in needed if (d := index.detail(n)) is not None), "")
    return dataclasses.replace(finding, message=finding.message.replace(DETAIL, detail))


def check_paths(paths: Sequence[str], config: Config) -> Report:
    """Check every file under `paths` with `config`."""
    ruleset = RuleSet.from_config(config)
    files = discover(paths, config)
    with _quiet_gc():
        results = on_big_stack(_check_files, files, ruleset)
    return Report(findings=run_project_phase(results), files_checked=len(files))


def _check_files(files: Sequence[SourceFile], ruleset: RuleSet) -> list[FileResult]:
    results = []
    for number, file in enumerate(files, start=1):
        results.append(check_file(file, ruleset))
        if number % 100 == 0:
            # finished results live until the end: keep the cyclic GC from re-scanning them
            # while the next files' parses allocate millions of (acyclic) nodes
            gc.freeze()
    return results


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """Fewer cyclic-GC passes during a run (CST nodes are acyclic and freed by refcounting)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), thresholds[1], thresholds[2])
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def check_text(source: bytes, filename: str, config: Config) -> list[Finding]:
    """Check one in-memory source as if it were `filename` (single-file project)."""
    ruleset = RuleSet.from_config(config)
    path = Path(filename)
    try:
        relative = path.resolve().relative_to(config.root).as_posix()
    except ValueError:
        relative = path.as_posix()
    codes = ruleset.codes_for(relative, path)
    result = check_source(os.path.normpath(filename), source, ruleset, codes, module_name(path, relative), relative)
    return run_project_phase([result])
