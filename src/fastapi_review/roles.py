"""File roles: what a file is to its project, decided once per file.

`app` (the default), `tests`, `migrations`, `generated` or `scripts`, from the configured globs (config.py
holds the defaults) and from the file itself:

- generated: a generated-code header in the first lines (`auto-generated`, `@generated`,
  `Code generated … DO NOT EDIT`, `DO NOT EDIT`), unless `roles.generated.markers = false`;
- migrations: an Alembic script directory (an `env.py` or `script.py.mako` beside `versions/`,
  or the `script_location` of the project's `alembic.ini`), or a module with the revision shape
  (`revision = …` and `down_revision = …` at the top level);
- tests: the tests globs, except that a `test_*.py` / `*_test.py` file outside any test directory
  is test code only when it holds a test (`def test_…`, `class Test…`, pytest or unittest): an
  `app/test_utils.py` helper module is app code;
- scripts: the scripts globs (`scripts/` directories: one-off and operations scripts; `examples/`,
  `docs/`, benchmarks, `.github/`), a Sphinx `conf.py` (beside an `index.rst`), and standalone scripts: a module with a top-level `if __name__ ==
  "__main__":` guard that is not part of a package (no `__init__.py` beside it) and builds no
  FastAPI app or router — a backfill or seed script kept next to the code.

The first that holds wins, in that order.  Rules declare the roles they run on (Rule.roles).
"""

from __future__ import annotations

import configparser
import re
from functools import lru_cache
from pathlib import Path
from typing import Optional

import pathspec

from fastapi_review.config import Config
from fastapi_review.facts import APP, GENERATED, MIGRATIONS, SCRIPTS, TESTS
from fastapi_review.semantics.migrations import has_revision_shape

_HEADER_LINES = 12
_GENERATED_MARKER = re.compile(rb"@generated\b|do not edit|auto-?generated\b|automatically generated\b", re.IGNORECASE)
_TEST_CODE = re.compile(rb"^\s*(?:async\s+)?def test_|^\s*class Test|^\s*(?:import|from) (?:pytest|unittest)\b", re.MULTILINE)
_TEST_DIRECTORIES = frozenset({"tests", "test", "testing"})
_MAIN_GUARD = re.compile(rb"^if\s+__name__\s*==\s*['\"]__main__['\"]\s*:", re.MULTILINE)
_SERVES_HTTP = re.compile(rb"\b(?:FastAPI|APIRouter)\s*\(")


def has_generated_header(data: bytes) -> bool:
    """A generated-code marker in a comment or the docstring among the file's first lines."""
    in_docstring = False
    for line in data.split(b"\n", _HEADER_LINES)[:_HEADER_LINES]:
        text = line.strip()
        starts_docstring = not in_docstring and text[:3] in (b'"""', b"'''")
        if (text.startswith(b"#") or in_docstring or starts_docstring) and _GENERATED_MARKER.search(text):
            return True
        if starts_docstring:
            in_docstring = not (len(text) >= 6 and text.endswith(text[:3]))
        elif in_docstring and (text.endswith(b'"""') or text.endswith(b"'''")):
            in_docstring = False
    return False


@lru_cache(maxsize=1024)
def is_alembic_script_directory(directory: Path) -> bool:
    """Alembic's layout, whatever the names: <script dir>/{env.py | script.py.mako, versions/}."""
    return (directory / "versions").is_dir() and (
        (directory / "env.py").is_file() or (directory / "script.py.mako").is_file()
    )


def _in_alembic_layout(path: Path) -> bool:
    parent = path.absolute().parent  # absolute: the cache must not mix directories of two cwds
    if parent.name == "versions" and is_alembic_script_directory(parent.parent):
        return True
    return path.name == "env.py" and is_alembic_script_directory(parent)


def script_locations(root: Path) -> tuple[Path, ...]:
    """The script directories named by `alembic.ini` files at the project root (`script_location`
    as a path, `%(here)s` expanded; `package:dir` resource forms are left to the layout check)."""
    found = []
    for ini in (root / "alembic.ini", *root.glob("*/alembic.ini")):
        if not ini.is_file():
            continue
        parser = configparser.ConfigParser(defaults={"here": str(ini.parent)})
        try:
            parser.read(ini, encoding="utf-8")
            location = parser.get("alembic", "script_location", fallback=None)
        except (configparser.Error, UnicodeDecodeError, OSError):
            continue
        if location and (":" not in location or re.match(r"[A-Za-z]:[\\/]", location)):
            found.append((ini.parent / location).resolve())
    return tuple(found)


@lru_cache(maxsize=1024)
def _is_package(directory: Path) -> bool:
    return (directory / "__init__.py").is_file()


def is_sphinx_conf(path: Path) -> bool:
    """A Sphinx documentation build's `conf.py` (beside the documentation's index)."""
    if path.name != "conf.py":
        return False
    parent = path.absolute().parent
    return any((parent / index).is_file() for index in ("index.rst", "index.md", "index.txt"))


def is_standalone_script(path: Path, data: bytes) -> bool:
    """A module run as a script and nothing else: a top-level `__main__` guard, outside any
    package, building no FastAPI app or router (a `main.py` that serves the app stays app code)."""
    return (
        b"__main__" in data
        and path.name != "__main__.py"
        and bool(_MAIN_GUARD.search(data))
        and not _SERVES_HTTP.search(data)
        and not _is_package(path.absolute().parent)
    )


class RoleResolver:
    """Decides file roles for one configuration."""

    def __init__(self, config: Config) -> None:
        self._specs = {
            role: pathspec.PathSpec.from_lines("gitignore", globs) for role, globs in config.role_globs.items()
        }
        self._markers = config.generated_markers
        self._script_dirs: Optional[tuple[Path, ...]] = None
        self._root = Path(config.root)

    def role(self, relative: str, path: Optional[Path], data: bytes) -> str:
        """The role of the file at `relative` (to the config root) with these bytes."""
        if self._specs[GENERATED].match_file(relative) or (self._markers and has_generated_header(data)):
            return GENERATED
        if self._specs[MIGRATIONS].match_file(relative) or has_revision_shape(data) or (
            path is not None and self._in_script_directory(path)
        ):
            return MIGRATIONS
        if self._specs[TESTS].match_file(relative) and self._is_test_code(relative, data):
            return TESTS
        if self._specs[SCRIPTS].match_file(relative) or (
            path is not None and (is_standalone_script(path, data) or is_sphinx_conf(path))
        ):
            return SCRIPTS
        return APP

    def _in_script_directory(self, path: Path) -> bool:
        if _in_alembic_layout(path):
            return True
        if self._script_dirs is None:
            self._script_dirs = script_locations(self._root)
        if not self._script_dirs:
            return False
        resolved = path.resolve()
        return any(directory in resolved.parents for directory in self._script_dirs)

    @staticmethod
    def _is_test_code(relative: str, data: bytes) -> bool:
        parts = relative.split("/")
        name = parts[-1]
        named_only = (name.startswith("test_") or name.endswith("_test.py")) and not _TEST_DIRECTORIES.intersection(parts[:-1])
        return not named_only or bool(_TEST_CODE.search(data))
