"""What a file's project runs on: library majors (semantics/versions.py reads the declarations)
and, with the configuration's overrides, the Profile rules see (rule.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional

from fastapi_review.config import Config
from fastapi_review.rule import Profile
from fastapi_review.semantics.versions import Declarations, read_declarations


@lru_cache(maxsize=4096)
def _declarations(directory: Path) -> Declarations:
    return read_declarations(directory)


def _up_to_repository_root(directory: Path) -> Iterator[Path]:
    """`directory` and its parents, up to the repository root (a directory holding .git)."""
    for current in (directory, *directory.parents):
        yield current
        if (current / ".git").exists():
            return


@lru_cache(maxsize=4096)
def _nearest(directory: Path, library: str) -> tuple[Optional[int], Optional[Path]]:
    """The major declared by the nearest directory at or above `directory` that names the
    library (a directory naming only fastapi counts for pydantic when its pin decides it)."""
    for current in _up_to_repository_root(directory):
        declarations = _declarations(current)
        if library in declarations.named or library in declarations.majors:
            return declarations.majors.get(library), current
    return None, None


@lru_cache(maxsize=4096)
def _dialects(directory: Path) -> frozenset[str]:
    """The dialects of the drivers declared nearest to `directory`."""
    for current in _up_to_repository_root(directory):
        found = _declarations(current).dialects
        if found:
            return found
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
