"""Paths → files to check (default excludes, .gitignore, exclude / extend-exclude), each
knowing its module name; reading a file's text."""

from __future__ import annotations

import io
import os
import re
import tokenize
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Iterator, Optional, Sequence

import pathspec

from fastapi_review.config import Config, is_project_directory, safe_resolve

DEFAULT_EXCLUDES = (
    ".git", ".venv", "venv", "env", "node_modules", "build", "dist", "__pycache__",
    "site-packages", ".tox", ".mypy_cache",
)


class DiscoveryError(Exception):
    """A path given on the command line that does not exist."""


@dataclass(frozen=True)
class PathProblem:
    """A path the run could not check as given: an error (a path named on the command line
    that does not exist or leads nowhere: the run exits 2), a file that cannot be read (a
    broken symlink found in a directory: reported as FR001) or a warning (a directory without
    Python files)."""

    path: str
    message: str
    error: bool
    file: bool = True  # reported as the file's FR001 finding

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _leads_nowhere(path: Path) -> bool:
    """A symlink whose target does not exist (dangling) or is itself (a loop)."""
    return path.is_symlink() and not os.path.exists(path)


@dataclass(frozen=True)
class SourceFile:
    """A file to check: where it is, how to show it, and its path relative to the config root."""

    path: Path
    display: str
    relative: str

    @cached_property
    def module(self) -> tuple[str, bool]:
        """Its dotted module name, and whether it is a package's `__init__.py` (see module_name)."""
        return module_name(self.path, self.relative)


class _Patterns:
    """A pathspec spec with a fast negative answer: one regex made of all its patterns tells
    that none of them matches a path (the common case) in one search; a path some pattern
    matches is decided by pathspec itself (last match wins, negations), so its semantics hold."""

    def __init__(self, spec: pathspec.PathSpec) -> None:
        self.spec = spec
        sources = [
            _GROUP_NAME.sub("(?:", p.regex.pattern)
            for p in spec.patterns
            if p.include is not None and getattr(p, "regex", None) is not None
        ]
        self._any = re.compile("|".join(f"(?:{source})" for source in sources)) if sources else None

    def match_file(self, path: str) -> bool:
        """Whether the spec matches `path` (POSIX, relative; a trailing / for a directory)."""
        if self._any is None or self._any.match(path) is None:
            return False
        return self.spec.match_file(path)


_GROUP_NAME = re.compile(r"\(\?P<\w+>")  # named groups would clash once the patterns are joined


def _spec(patterns: Sequence[str]) -> _Patterns:
    return _Patterns(pathspec.PathSpec.from_lines("gitignore", patterns))


class _GitIgnores:
    """Nested .gitignore files, each applying to the paths below its directory."""

    def __init__(self) -> None:
        self._specs: dict[Path, Optional[_Patterns]] = {}
        self._chains: dict[tuple[Path, Path], list[tuple[int, _Patterns]]] = {}

    def _load(self, directory: Path) -> Optional[_Patterns]:
        if directory not in self._specs:
            lines: list[str] = []
            # a repository's own .git/info/exclude, as git reads it: below the .gitignore files
            for ignore_file in (directory / ".git" / "info" / "exclude", directory / ".gitignore"):
                try:
                    if ignore_file.is_file():
                        lines += ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    pass
            self._specs[directory] = _Patterns(pathspec.GitIgnoreSpec.from_lines(lines)) if lines else None
        return self._specs[directory]

    def ignored(self, path: Path, is_dir: bool, top: Path) -> bool:
        """Whether any .gitignore between the repository root and `path` ignores it."""
        key = (path.parent, top)
        chain = self._chains.get(key)
        if chain is None:  # the .gitignore files above a directory, with where their paths start
            chain = self._chains[key] = [
                (len(directory.as_posix().rstrip("/")) + 1, spec)
                for directory in _dirs_from_repo_root(path.parent, top)
                if (spec := self._load(directory)) is not None
            ]
        posix = path.as_posix() + ("/" if is_dir else "")
        return any(spec.match_file(posix[start:]) for start, spec in chain)


def _dirs_from_repo_root(directory: Path, top: Path) -> list[Path]:
    chain = [directory]
    current = directory
    while current != top and current.parent != current:
        current = current.parent
        chain.append(current)
    return list(reversed(chain))


def _repo_root(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return start


def project_root(config: Config, start: Path) -> Optional[Path]:
    """The project a file belongs to — the configuration's root (the directory of the
    pyproject.toml, or of the nearest project marker) — or None when there is none."""
    here = safe_resolve(start)
    root = config.root
    if root not in (here, *here.parents):
        return None
    if config.source is None and not is_project_directory(root):
        return None  # the current directory, for want of anything better: not a project
    return root


def discover(paths: Sequence[str], config: Config, problems: Optional[list[PathProblem]] = None) -> list[SourceFile]:
    """Every Python file under `paths`, sorted, without excluded and git-ignored ones.

    Files named explicitly are always checked (like flake8 and ruff).  Paths that cannot be
    checked are added to `problems` and the others still found; without a `problems` list, a
    path that does not exist raises DiscoveryError.
    """
    excludes = _excludes(config)
    gitignores = _GitIgnores() if config.respect_gitignore else None
    found: dict[Path, SourceFile] = {}
    noted: list[PathProblem] = [] if problems is None else problems
    for given in paths:
        path = Path(given)
        if _leads_nowhere(path):
            noted.append(PathProblem(given, "a symlink that leads nowhere (dangling, or a loop)", error=True))
            continue
        if not path.exists():
            if problems is None:
                raise DiscoveryError(f"{given}: no such file or directory")
            noted.append(PathProblem(given, "no such file or directory", error=True))
            continue
        if path.is_file():
            resolved = path.resolve()
            relative = _relative(resolved, config.root)
            if not (config.force_exclude and _excluded(relative, excludes)):
                found.setdefault(resolved, SourceFile(path, os.path.normpath(given), relative))
            continue
        top = _repo_root(path.resolve())
        before = len(found)
        for file in _walk(path, excludes, gitignores, top, config.root, noted):
            found.setdefault(file.path.resolve(), file)
        if len(found) == before:
            noted.append(PathProblem(given, "no Python files found", error=False, file=False))
    return sorted(found.values(), key=lambda f: f.display)


def _excludes(config: Config) -> _Patterns:
    return _spec((*(config.exclude if config.exclude is not None else DEFAULT_EXCLUDES), *config.extend_exclude))


def _excluded(relative: str, excludes: _Patterns) -> bool:
    """Whether a file (its path relative to the config root) or a directory above it matches
    `exclude` / `extend-exclude`, as the directory walk would have decided."""
    if excludes.match_file(relative):
        return True
    parts = relative.split("/")[:-1]
    return any(_excluded_directory("/".join(parts[: i + 1]), parts[i], excludes) for i in range(len(parts)))


def _excluded_directory(relative: str, name: str, excludes: _Patterns) -> bool:
    """Whether a directory (its path relative to the config root, and its own name) is excluded."""
    return excludes.match_file(relative + "/") or excludes.match_file(name + "/")


def is_force_excluded(file: SourceFile, config: Config) -> bool:
    """A file named explicitly (or stdin's --stdin-filename) that `force-exclude` leaves out."""
    return config.force_exclude and _excluded(file.relative, _excludes(config))


def named_file(filename: str, config: Config) -> SourceFile:
    """The file a source that is not read from disk stands for (stdin's --stdin-filename)."""
    path = Path(filename)
    return SourceFile(path, os.path.normpath(filename), _relative(safe_resolve(path), config.root))


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _walk(
    base: Path, excludes: _Patterns, gitignores: Optional[_GitIgnores], top: Path, root: Path, problems: list[PathProblem]
) -> Iterator[SourceFile]:
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        directory = Path(dirpath)
        resolved_dir = directory.resolve()
        kept = []
        for name in sorted(dirnames):
            resolved = resolved_dir / name
            if _excluded_directory(_relative(resolved, root), name, excludes):
                continue
            if gitignores is not None and gitignores.ignored(resolved, True, top):
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            resolved = resolved_dir / name
            rel = _relative(resolved, root)
            if excludes.match_file(rel) or (gitignores is not None and gitignores.ignored(resolved, False, top)):
                continue
            shown = os.path.normpath(os.path.join(dirpath, name))
            if _leads_nowhere(directory / name):
                problems.append(PathProblem(shown, "a symlink that leads nowhere (dangling, or a loop)", error=False))
                continue
            yield SourceFile(directory / name, shown, rel)


def module_name(path: Path, relative: Optional[str] = None) -> tuple[str, bool]:
    """Dotted module name, and whether the file is a package's `__init__.py`.

    From the path relative to the project root when there is one (`src/app/models/user.py` →
    `src.app.models.user`: namespace packages without `__init__.py` included; the index
    matches imports such as `app.models.user` by suffix), else from `__init__.py` files.
    """
    if relative and not relative.startswith("/") and relative.endswith(".py") and ".." not in relative:
        parts = relative[:-3].split("/")
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        # directories that cannot be package names (`my-project/`) are above the import root
        while parts and not all(p.isidentifier() for p in parts):
            parts = parts[1:]
        if parts:
            return ".".join(parts), is_package
    path = path.resolve()
    is_package = path.name == "__init__.py"
    package = _package_of(path.parent)
    if is_package:
        return package or path.parent.name, True
    return (f"{package}.{path.stem}" if package else path.stem), False


@lru_cache(maxsize=4096)
def _package_of(directory: Path) -> str:
    """The dotted package a directory is ("" when it has no __init__.py), cached per directory."""
    if directory.parent == directory or not (directory / "__init__.py").is_file():
        return ""
    parent = _package_of(directory.parent)
    return f"{parent}.{directory.name}" if parent else directory.name


def decode_source(data: bytes) -> str:
    """The file's text, honouring a PEP 263 coding cookie and a BOM."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    return data.decode(encoding, errors="replace")
