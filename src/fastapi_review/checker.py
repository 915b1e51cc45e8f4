"""The whole run: discover → per-file phase → project phase → sorted findings."""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Protocol, Sequence

from fastapi_review.cache import Cache, content_digest
from fastapi_review.config import Config
from fastapi_review.discovery import PathProblem, SourceFile, discover, is_force_excluded, named_file, project_root
from fastapi_review.engine import FileResult, check_file
from fastapi_review.findings import Finding
from fastapi_review.parallel import Task, default_jobs, on_big_stack, run_tasks
from fastapi_review.rule import FileRoles, Profile
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
    # a run on single files: the project's files whose facts the cache lacked (not checked)
    context_missing: int = 0


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
    shard: Optional[tuple[int, int]] = None,
) -> Report:
    """Check every file under `paths` with `config`.

    With a cache, a run on single files (no directories) reasons over the whole project as far
    as the cache knows it: the other files' facts come from the cache, and files missing from
    it are counted in `Report.context_missing`, never checked here (see `check_text`).  With a
    `shard` (K, N), only the per-file phase of the K-th of N size-balanced parts of the files
    runs, filling the cache; no findings are reported (a run over the merged caches reports).
    """
    ruleset = RuleSet.from_config(config)
    problems: list[PathProblem] = []
    files = discover(paths, config, problems)
    if shard is not None:
        mine = shard_files(files, *shard)
        per_file_phase(mine, ruleset, jobs, cache, progress)
        if cache is not None:
            cache.compact()
        return Report(files_checked=len(mine), problems=problems)
    context: list[FileResult] = []
    missing: list[SourceFile] = []
    whole_project = True
    if paths and all(Path(p).is_file() for p in paths):
        if cache is not None:
            context = cached_context(files, Path(paths[0]), config, ruleset, cache, missing)
        whole_project = not missing and (cache is not None or project_root(config, Path(paths[0])) is None)
    keys: list[Optional[str]] = []
    results = per_file_phase(files, ruleset, jobs, cache, progress, keys)
    memo = None
    if cache is not None and not context and None not in keys:
        memo = content_digest("\0".join((*keys, *(f.display for f in files))).encode()).hex()
    findings = cache.load_project(memo) if cache is not None and memo is not None else None
    if findings is None:
        findings = run_project_phase(results, context, whole_project)
        if cache is not None and memo is not None:
            cache.store_project(memo, findings)
    if cache is not None:
        cache.compact()  # the packs this run's processes wrote, and those it read
    if SyntaxErrorRule.code in ruleset.enabled:
        findings += [SyntaxErrorRule.finding(p.path, 1, 1, f"cannot read file: {p.message}") for p in problems if p.file]
        findings.sort(key=Finding.sort_key)
    return Report(findings=findings, files_checked=len(files), problems=problems, context_missing=len(missing))


def shard_files(files: Sequence[SourceFile], number: int, count: int) -> list[SourceFile]:
    """The `number`-th (1-based) of `count` parts of `files`, balanced by size: largest first,
    each to the part with the fewest bytes so far (ties by path), so every runner of a CI
    matrix computes the same parts from the same checkout."""
    sizes = {}
    for file in files:
        try:
            sizes[file.relative] = file.path.stat().st_size
        except OSError:
            sizes[file.relative] = 0
    loads = [0] * count
    mine = []
    for file in sorted(files, key=lambda f: (-sizes[f.relative], f.relative)):
        part = min(range(count), key=lambda p: (loads[p], p))
        loads[part] += sizes[file.relative]
        if part == number - 1:
            mine.append(file)
    return sorted(mine, key=lambda f: f.display)


def check_text(
    source: bytes,
    filename: str,
    config: Config,
    *,
    cache: Optional[Cache] = None,
    whole_project: Optional[bool] = None,
    missing: Optional[list[SourceFile]] = None,
) -> list[Finding]:
    """Check one in-memory source as if it were `filename`: the editor's on-save path.

    Without a cache the source is a project of its own (cross-file findings stay silent, and
    so do findings only the whole project can confirm when the file belongs to a project, or
    when `whole_project` is False).  With one, the rest of the project comes from the cache —
    only from it: files missing from it are added to `missing` (for the caller to index them
    in the background) and never checked here, so the answer never waits for a cold check of
    the project; until they are cached, the findings only the whole project can confirm stay
    silent and cross-file findings see what the cache knows.  Nothing is reported for a file
    that `force-exclude` leaves out.
    """
    ruleset = RuleSet.from_config(config)
    file = named_file(filename, config)
    if is_force_excluded(file, config):
        return []
    context: list[FileResult] = []
    if cache is not None:
        absent: list[SourceFile] = []
        context = cached_context([file], file.path, config, ruleset, cache, absent)
        if missing is not None:
            missing += absent
        whole_project = not absent if whole_project is None else whole_project and not absent
    elif whole_project is None:
        whole_project = project_root(config, file.path) is None
    result = on_big_stack(check_file, file, source, ruleset)
    return run_project_phase([result], context, whole_project)


def per_file_phase(
    files: Sequence[SourceFile],
    ruleset: RuleSet,
    jobs: int = 1,
    cache: Optional[Cache] = None,
    progress: Optional[Progress] = None,
    keys: Optional[list[Optional[str]]] = None,
) -> list[FileResult]:
    """Every file's result, from the cache when its bytes are unchanged, else by checking it;
    `keys` gets each file's cache key (None for a file that is not cached)."""
    results: list[Optional[FileResult]] = [None] * len(files)
    tasks: list[Task] = []
    for index, file in enumerate(files):
        entry = None
        try:
            data = file.path.read_bytes()
        except OSError as exc:
            results[index] = _unreadable(file, ruleset.codes_for(file.relative), exc)
        else:
            entry, codes, roles, profile = _cache_entry(file, data, ruleset, cache)
            cached = cache.load(*entry, file.display) if cache is not None and entry is not None else None
            if cached is not None:
                results[index] = cached
            else:
                tasks.append(Task(index, file, codes, data, entry, roles, profile))
        if keys is not None:
            keys.append(None if entry is None else entry[0] + entry[1].hex())
    if progress is not None:
        progress.start(len(files))
        progress.advance(len(files) - len(tasks))

    def on_result(index: int, result: FileResult) -> None:
        results[index] = result
        if progress is not None:
            progress.advance(1)
        if keys is not None and result.timed_out:
            keys[index] = None  # not cached: its result is this run's alone

    run_tasks(tasks, ruleset, cache, jobs, on_result)
    return results  # type: ignore[return-value] - every slot is filled


def _cache_entry(
    file: SourceFile, data: bytes, ruleset: RuleSet, cache: Optional[Cache]
) -> tuple[Optional[tuple[str, bytes]], tuple[str, ...], FileRoles, Profile]:
    """A file's cache entry (name, content digest) and what decides it: rules, roles, profile."""
    roles = ruleset.roles_for(file, data)
    profile = ruleset.profile_for(file)
    codes = ruleset.codes_for(file.relative, roles.role)
    entry = None if cache is None else (cache.entry_name(file.relative, codes, repr(profile)), content_digest(data))
    return entry, codes, roles, profile


def cached_context(
    targets: Sequence[SourceFile], start: Path, config: Config, ruleset: RuleSet, cache: Cache, missing: list[SourceFile]
) -> list[FileResult]:
    """The cached results of the project's other files, for a run on single files (none when
    there is no project); the files the cache lacks (or holds for other bytes) go to `missing`."""
    results = []
    for file in _project_context(targets, start, config):
        try:
            data = file.path.read_bytes()
        except OSError:
            continue
        entry, _, _, _ = _cache_entry(file, data, ruleset, cache)
        cached = cache.load(*entry, file.display) if entry is not None else None
        if cached is None:
            missing.append(file)
        else:
            results.append(cached)
    return results


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


INDEX_LOCK = "indexing.lock"  # in the cache directory while a background run fills it
_STALE_LOCK_SECONDS = 30 * 60
_INDEXER = "import pickle, sys\nfrom fastapi_review.checker import build_index\nbuild_index(*pickle.load(sys.stdin.buffer))"


def index_in_background(start: Path, config: Config, cache: Cache) -> "Optional[subprocess.Popen[bytes]]":
    """Fill the cache with the facts of the project around `start` in a detached, low-priority
    process, one at a time per cache (None when one is already running, or there is no
    project): what a single-file run found missing is in the cache for the next run."""
    root = project_root(config, start)
    if root is None:
        return None
    lock = cache.directory / INDEX_LOCK
    try:
        cache.prepare()
        try:
            claim = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if not _stale(lock):
                return None
            os.replace(lock, lock.with_suffix(f".{os.getpid()}.stale"))  # only one run takes it over
            os.unlink(lock.with_suffix(f".{os.getpid()}.stale"))
            claim = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except OSError:
        return None
    package_parent = str(Path(__file__).resolve().parent.parent)  # the child imports this same build
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (package_parent, os.environ.get("PYTHONPATH"))))}
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", _INDEXER], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, env=environment,
        )
        assert process.stdin is not None
        process.stdin.write(pickle.dumps((str(root), config, cache.directory, lock)))
        process.stdin.close()
        os.write(claim, str(process.pid).encode())
    except OSError:
        os.close(claim)
        os.unlink(lock)
        return None
    os.close(claim)
    return process


def _stale(lock: Path) -> bool:
    """A lock left by a background run that died, or one older than any run takes."""
    try:
        pid = int(lock.read_text() or 0)
        age = time.time() - lock.stat().st_mtime
    except (OSError, ValueError):
        return False
    if age > _STALE_LOCK_SECONDS:
        return True
    if pid:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            pass
    return False


def build_index(root: str, config: Config, directory: Path, lock: Path) -> None:
    """The background run of `index_in_background`: check the project into the cache."""
    try:
        os.nice(10)  # the editor's foreground runs come first
        check_paths([root], config, jobs=default_jobs(), cache=Cache(directory, config))
    finally:
        try:
            os.unlink(lock)
        except OSError:
            pass
