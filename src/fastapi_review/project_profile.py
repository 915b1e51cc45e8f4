"""What a file's project runs on: library majors (semantics/versions.py reads the declarations)
and, with the configuration's overrides, the Profile rules see (rule.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

from fastapi_review.config import Config
from fastapi_review.rule import Profile
from fastapi_review.semantics.versions import declared_dialects, declared_majors, mentions


@lru_cache(maxsize=4096)
def _declarations(directory: Path) -> tuple[frozenset[str], tuple[tuple[str, int], ...]]:
    return frozenset(mentions(directory)), tuple(sorted(declared_majors(directory).items()))


@lru_cache(maxsize=4096)
def _nearest(directory: Path, library: str) -> tuple[Optional[int], Optional[Path]]:
    """The major declared by the nearest directory at or above `directory` that names the
    library (a directory naming only fastapi counts for pydantic when its pin decides it); the
    search ends at the repository root (a directory holding .git)."""
    for current in (directory, *directory.parents):
        named, majors = _declarations(current)
        decided = dict(majors)
        if library in named or library in decided:
            return decided.get(library), current
        if (current / ".git").exists():
            break
    return None, None


@lru_cache(maxsize=4096)
def _dialects(directory: Path) -> frozenset[str]:
    """The dialects of the drivers declared nearest to `directory` (up to the repository root)."""
    for current in (directory, *directory.parents):
        found = declared_dialects(current)
        if found:
            return frozenset(found)
        if (current / ".git").exists():
            break
    return frozenset()


class ProfileResolver:
    """Profiles per file for one configuration (cached per directory)."""

    def __init__(self, config: Config) -> None:
        self._pydantic = config.pydantic_version
        self._sqlalchemy = config.sqlalchemy_version

    def for_file(self, path: Optional[Path]) -> Profile:
        directory = path.absolute().parent if path is not None else Path.cwd()
        pydantic = self._pydantic if self._pydantic is not None else _nearest(directory, "pydantic")[0]
        sqlalchemy = self._sqlalchemy if self._sqlalchemy is not None else _nearest(directory, "sqlalchemy")[0]
        return Profile(pydantic=pydantic, sqlalchemy=sqlalchemy, dialects=_dialects(directory))

    def explain(self, path: Path) -> dict[str, str]:
        """Where each value of the file's profile comes from (for `fastapi-review explain`)."""
        directory = path.absolute().parent
        sources = {}
        for library, configured in (("pydantic", self._pydantic), ("sqlalchemy", self._sqlalchemy)):
            if configured is not None:
                sources[library] = f"{configured} (configuration: {library}-version)"
                continue
            major, where = _nearest(directory, library)
            if where is None:
                sources[library] = "not declared"
            elif major is None:
                sources[library] = f"not decided by the declarations in {where}"
            else:
                sources[library] = f"{major} (declared in {where})"
        return sources
