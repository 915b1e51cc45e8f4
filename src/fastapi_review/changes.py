"""`--diff-base REF`: the lines changed since REF, from git, to keep only the findings on them."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from fastapi_review.findings import Finding

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
WHOLE_FILE = None  # a new, untracked file: every line is changed


class ChangesError(Exception):
    """git is missing, the path is not in a repository, or REF is not a revision."""


@dataclass(frozen=True)
class Changes:
    """The files changed since a base revision and, for each, the changed lines."""

    root: Path  # the repository's top level
    base: str  # the revision the changes are counted from (the merge base of REF and HEAD)
    lines: dict[str, Optional[frozenset[int]]]  # root-relative `/` path → lines (None: all)

    def files(self, paths: Sequence[str] = ()) -> tuple[str, ...]:
        """The changed files that still exist, under `paths` when given (root-relative, sorted)."""
        prefixes = [self.relative(p) for p in paths]
        return tuple(
            name
            for name in sorted(self.lines)
            if (self.root / name).exists()
            and (not prefixes or any(p in ("", ".") or name == p or name.startswith(p.rstrip("/") + "/") for p in prefixes))
        )

    def relative(self, path: str) -> str:
        """A path as given (relative to the current directory, or absolute) relative to the root."""
        return os.path.relpath(os.path.realpath(path), os.path.realpath(self.root)).replace(os.sep, "/")

    def touches(self, finding: Finding) -> bool:
        """Whether any line of the finding's range was changed."""
        name = self.relative(finding.path)
        if name not in self.lines:
            return False
        lines = self.lines[name]
        return lines is WHOLE_FILE or any(line in lines for line in range(finding.line, max(finding.end_line, finding.line) + 1))


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        result = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=cwd,
            capture_output=True,
            env={**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"},
        )
    except OSError as exc:
        raise ChangesError(f"--diff-base needs git: {exc}") from exc
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ChangesError(f"git {args[0]} failed: {reason[-1] if reason else f'exit {result.returncode}'}")
    return result.stdout


def _path(raw: bytes) -> str:
    """A path of a diff header, unquoted when git quoted it (tabs, quotes, backslashes)."""
    text = raw.decode("utf-8", "surrogateescape")
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")
    return text


def changed_lines(diff: bytes) -> dict[str, Optional[frozenset[int]]]:
    """The lines each file has after a `git diff -U0` (a deletion counts the lines around it)."""
    result: dict[str, set[int]] = {}
    current: Optional[set[int]] = None
    for line in diff.splitlines():
        if line.startswith(b"+++ "):
            target = line[4:].rstrip(b"\t")  # git adds a tab after a name with a space
            if target == b"/dev/null":
                current = None  # a deleted file
            else:
                name = _path(target)
                current = result.setdefault(name[2:] if name.startswith("b/") else name, set())
        elif line.startswith(b"@@") and current is not None:
            match = _HUNK.match(line)
            if match:
                start, count = int(match.group(1)), int(match.group(2) or b"1")
                current.update(range(start, start + count) if count else (start, start + 1))
    return {name: frozenset(lines) for name, lines in result.items()}


def changes_since(ref: str, start: Path) -> Changes:
    """What changed since the merge base of `ref` and HEAD in the repository holding `start`:
    commits, staged and unstaged edits, and untracked files (not ignored ones)."""
    directory = start if start.is_dir() else start.parent
    root = Path(_git(["rev-parse", "--show-toplevel"], directory).decode("utf-8", "surrogateescape").strip())
    base = _git(["merge-base", ref, "HEAD"], root).decode().strip()
    lines: dict[str, Optional[frozenset[int]]] = dict(
        changed_lines(_git(["diff", "-U0", "-M", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/", base, "--"], root))
    )
    for name in _git(["ls-files", "--others", "--exclude-standard", "-z"], root).split(b"\0"):
        if name:
            lines[name.decode("utf-8", "surrogateescape")] = WHOLE_FILE
    return Changes(root=root, base=base, lines=lines)


def repository_root(start: Path) -> Optional[Path]:
    """The nearest directory at or above `start` holding `.git` (no git needed)."""
    here = start.resolve()
    return next((d for d in (here, *here.parents) if (d / ".git").exists()), None)
