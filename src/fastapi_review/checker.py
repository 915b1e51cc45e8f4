"""The whole run: discover → per-file phase → project phase → sorted findings."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Protocol, Sequence

from fastapi_review.cache import Cache, content_digest
from fastapi_review.config import Config
from fastapi_review.discovery import PathProblem, SourceFile, discover, is_force_excluded, named_file, project_root
from fastapi_review.engine import FileResult, check_file
from fastapi_review.findings import Finding
from fastapi_review.parallel import Task, on_big_stack, run_tasks
from fastapi_review.project import ProjectIndex, Requirement
from fastapi_review.rules.fr001_syntax_error import SyntaxErrorRule
from fastapi_review.selection import RuleSet


@dataclass
class Report:
    """The result of a run."""

    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0
    # paths that could not be checked as given (errors make the run exit 2) and warnings
    problems: list[PathProblem] = field(default_factory=list)


def run_project_phase(
    results: Sequence[FileResult], context: Sequence[FileResult] = (), whole_project: bool = True
) -> list[Finding]:
    """Build the ProjectIndex from every file's facts and keep the deferred findings it confirms.

    `context` results add facts only: their findings belong to files not being reported on.
    Without the `whole_project` in view, findings waiting on a requirement that only the whole
    project can answer (`Requirement.needs_whole_project`) are dropped.
    """
    index = ProjectIndex(r.facts for r in (*results, *context) if r.facts is not None)
    findings = [f for r in results for f in r.findings]
    for result in results:
        for fields, needed, args in result.deferred:
            for requirement in needed:
                if not (whole_project or not requirement.needs_whole_project) or not index.satisfies(requirement):
                    break
            else:
                finding = Finding(*fields)
                if args is not None:  # the message is completed by the requirements that answered
                    finding = dataclasses.replace(finding, message=finding.message.format(**{k: _answer(v, index) for k, v in args.items()}))
                findings.append(finding)
    return sorted(findings, key=Finding.sort_key)


def _answer(value: object, index: ProjectIndex) -> object:
    if not isinstance(value, Requirement):
        return value
    detail = value.detail(index)
    return detail if detail is not None else ""


class Progress(Protocol):
    """Told the number of files of a run, then how many have finished, as they finish."""

    def start(self, total: int) -> None:
        """The run has `total` files."""

    def advance(self, count: int) -> None:
        """`count` more files are done."""


def check_paths(
    paths: Sequence[str],
    config: Config,
    *,
    jobs: int = 1,
    cache: Optional[Cache] = None,
    progress: Optional[Progress] = None,
) -> Report:
    """Check every file under `paths` with `config`.

    With a cache, a run on single files (no directories) reasons over the whole project: the
    other files' facts come from the cache (files missing from it are checked and cached), so
    the cross-file findings are those of a full run.
    """
    ruleset = RuleSet.from_config(config)
    problems: list[PathProblem] = []
    files = discover(paths, config, problems)
    context: list[SourceFile] = []
    whole_project = True
    if paths and all(Path(p).is_file() for p in paths):
        if cache is not None:
            context = _project_context(files, Path(paths[0]), config)
        else:  # single files of a project whose other files are not read
            whole_project = project_root(config, Path(paths[0])) is None
    results = per_file_phase([*files, *context], ruleset, jobs, cache, progress)
    findings = run_project_phase(results[: len(files)], results[len(files) :], whole_project)
    if SyntaxErrorRule.code in ruleset.enabled:
        findings += [SyntaxErrorRule.finding(p.path, 1, 1, f"cannot read file: {p.message}") for p in problems if p.file]
        findings.sort(key=Finding.sort_key)
    return Report(findings=findings, files_checked=len(files), problems=problems)


def check_text(
    source: bytes,
    filename: str,
    config: Config,
    *,
    jobs: int = 1,
    cache: Optional[Cache] = None,
    whole_project: Optional[bool] = None,
) -> list[Finding]:
    """Check one in-memory source as if it were `filename`.

    Without a cache the source is a project of its own (cross-file findings stay silent, and
    so do findings only the whole project can confirm when the file belongs to a project, or
    when `whole_project` is False); with one, the rest of the project comes from the cache as
    in `check_paths`.  Nothing is reported for a file that `force-exclude` leaves out.
    """
    ruleset = RuleSet.from_config(config)
    file = named_file(filename, config)
    if is_force_excluded(file, config):
        return []
    context: list[FileResult] = []
    if cache is not None:  # first: a pool (for files missing from the cache) forks fastest
        others = _project_context([file], file.path, config)
        context = per_file_phase(others, ruleset, jobs, cache, None)
    elif whole_project is None:
        whole_project = project_root(config, file.path) is None
    result = on_big_stack(check_file, file, source, ruleset)
    return run_project_phase([result], context, True if whole_project is None else whole_project)


def per_file_phase(
    files: Sequence[SourceFile],
    ruleset: RuleSet,
    jobs: int = 1,
    cache: Optional[Cache] = None,
    progress: Optional[Progress] = None,
) -> list[FileResult]:
    """Every file's result, from the cache when its bytes are unchanged, else by checking it."""
    results: list[Optional[FileResult]] = [None] * len(files)
    tasks: list[Task] = []
    for index, file in enumerate(files):
        try:
            data = file.path.read_bytes()
        except OSError as exc:
            results[index] = _unreadable(file, ruleset.codes_for(file.relative), exc)
            continue
        roles = ruleset.roles_for(file, data)
        profile = ruleset.profile_for(file)
        codes = ruleset.codes_for(file.relative, roles.role)
        entry = None
        if cache is not None:
            entry = (cache.entry_name(file.path, file.relative, codes, repr(profile)), content_digest(data))
            cached = cache.load(*entry, file.display)
            if cached is not None:
                results[index] = cached
                continue
        tasks.append(Task(index, file, codes, data, entry, roles, profile))
    if progress is not None:
        progress.start(len(files))
        progress.advance(len(files) - len(tasks))

    def on_result(index: int, result: FileResult) -> None:
        results[index] = result
        if progress is not None:
            progress.advance(1)

    run_tasks(tasks, ruleset, cache, jobs, on_result)
    return results  # type: ignore[return-value] - every slot is filled


def _unreadable(file: SourceFile, codes: Sequence[str], exc: OSError) -> FileResult:
    result = FileResult()
    if SyntaxErrorRule.code in codes:
        reason = f"cannot read file: {exc.strerror or exc}"
        result.findings.append(SyntaxErrorRule.finding(file.display, 1, 1, reason))
    return result


def _project_context(targets: Sequence[SourceFile], start: Path, config: Config) -> list[SourceFile]:
    """The project's other files, for a run on single files (none when there is no project)."""
    root = project_root(config, start)
    if root is None:
        return []
    checked = {t.path.resolve() for t in targets}
    # shown like the file the run was given: absolute, or relative to the current directory
    shown_root = str(root) if start.is_absolute() else os.path.relpath(root)
    return [f for f in discover([shown_root], config) if f.path.resolve() not in checked]
