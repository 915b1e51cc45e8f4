"""Find and validate `[tool.fastapi-review]` in the nearest pyproject.toml → a frozen Config."""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from fastapi_review.facts import ROLES as ROLES  # re-exported: the vocabulary of roles.<role>
from fastapi_review.semantics.sessions import DEFAULT_SESSION_NAMES

DEFAULT_SERVICES = (
    "**/services/**", "**/service.py", "**/services.py", "**/*_service.py", "**/crud/**", "**/crud.py",
)
DEFAULT_MODELS = ("**/models/**", "**/models.py")
# File roles (roles.py decides them): the files each role's globs match, before the checks by
# content (generated-code headers, the Alembic revision shape, test code in test_*.py).
DEFAULT_ROLE_GLOBS: dict[str, tuple[str, ...]] = {
    "tests": ("**/tests/**", "**/test/**", "test_*.py", "*_test.py", "conftest.py"),
    # an Alembic tree, a migrations/ package, or a migrations.py of hand-written migrations
    "migrations": ("**/alembic/versions/**", "**/migrations/**", "**/alembic/env.py", "migrations.py"),
    "generated": ("*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py", "*_pb2_grpc.pyi"),
    # one-off and operations scripts: run by hand, not served (no application rule by default);
    # also demo, documentation and benchmark code
    "scripts": ("**/scripts/**", "tools/**", "**/examples/**", "docs/**", "docs_src/**", "benchmarks/**", "benches/**", ".github/**"),
}
_ROLE_KEYS = ("globs", "extend-globs", "select", "markers")

_LIST_KEYS = ("select", "extend-select", "ignore", "exclude", "extend-exclude", "services", "models", "session-names")
_GLOB_KEYS = ("exclude", "extend-exclude", "services", "models")  # globs relative to the project (`./` allowed)
_BOOL_KEYS = ("force-exclude", "respect-gitignore", "learn-conventions")
_VERSION_KEYS = ("pydantic-version", "sqlalchemy-version")
KNOWN_KEYS = (*_LIST_KEYS, *_BOOL_KEYS, *_VERSION_KEYS, "time-budget", "line-length", "per-file-ignores", "rules", "roles")
DEFAULT_TIME_BUDGET = 10.0  # seconds per file; generous: real files check in well under one
DEFAULT_LINE_LENGTH = 88  # ruff's and black's default
MAX_LINE_LENGTH = 320  # ruff's upper bound


class ConfigError(Exception):
    """Bad configuration: the message names the file and the key."""


@dataclass(frozen=True)
class Config:
    """The effective settings of a run (file settings, then command-line overrides)."""

    root: Path
    source: Optional[Path] = None
    select: Optional[tuple[str, ...]] = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: Optional[tuple[str, ...]] = None
    extend_exclude: tuple[str, ...] = ()
    # exclude / extend-exclude hold for files named on the command line too (pre-commit names them)
    force_exclude: bool = False
    # leave out what .gitignore files and .git/info/exclude ignore
    respect_gitignore: bool = True
    services: tuple[str, ...] = DEFAULT_SERVICES
    models: tuple[str, ...] = DEFAULT_MODELS
    session_names: tuple[str, ...] = DEFAULT_SESSION_NAMES
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    # per role (tests, migrations, generated): its globs, and the rules that also run there
    role_globs: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_ROLE_GLOBS))
    role_select: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # recognise generated code by its header ("auto-generated", "@generated", "DO NOT EDIT")
    generated_markers: bool = True
    # convention rules report only where the project mostly follows the convention
    learn_conventions: bool = True
    # the library majors the project runs on, when detection must be overridden
    pydantic_version: Optional[int] = None
    sqlalchemy_version: Optional[int] = None
    # seconds one file's check may take before it is abandoned with FR003 (0: no budget)
    time_budget: float = DEFAULT_TIME_BUDGET
    # the longest line a fix may write (own line-length, else ruff's, else black's)
    line_length: int = DEFAULT_LINE_LENGTH


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml with a [tool.fastapi-review] table, walking up from `start`."""
    here = safe_resolve(start)
    if here.is_file() or not here.exists():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                data = _read_toml(candidate)
            except ConfigError:
                raise
            if "fastapi-review" in data.get("tool", {}):
                return candidate
    return None


PROJECT_MARKERS = ("pyproject.toml", ".git", "setup.py", "setup.cfg")


def project_directory(start: Path) -> Optional[Path]:
    """The nearest directory at or above `start` that holds a project marker (a pyproject.toml
    without our table, .git, setup.py, setup.cfg): the root of a project with no configuration."""
    here = safe_resolve(start)
    if here.is_file() or not here.exists():
        here = here.parent
    return next((directory for directory in (here, *here.parents) if is_project_directory(directory)), None)


def safe_resolve(path: Path) -> Path:
    """`path.resolve()`, or the absolute path when a symlink loop stops the resolution."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return path.absolute()


def is_project_directory(directory: Path) -> bool:
    """Whether `directory` holds a project marker (pyproject.toml, .git, setup.py, setup.cfg)."""
    return any((directory / marker).exists() for marker in PROJECT_MARKERS)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (TOML files must be): byte {exc.object[exc.start]:#04x} at offset {exc.start}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def load_config(path: Optional[Path], start: Path) -> Config:
    """Config from `path` (explicit --config) or the nearest pyproject.toml above `start`."""
    if path is None:
        path = find_pyproject(start)
        if path is None:
            root = project_directory(start) or Path.cwd()
            return Config(root=root, line_length=formatter_line_length(root))
    elif not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    data = _read_toml(path)
    table = data.get("tool", {}).get("fastapi-review", {}) if path.name == "pyproject.toml" else data
    if path.name != "pyproject.toml" and "tool" in data:
        table = data["tool"].get("fastapi-review", {})
    config = parse_table(table, path)
    if "line-length" in table:
        return config
    return replace(config, line_length=formatter_line_length(path.parent, data if path.name == "pyproject.toml" else None))


def formatter_line_length(directory: Path, pyproject: Optional[dict[str, Any]] = None) -> int:
    """The line length the project's formatter keeps, as ruff finds it (`.ruff.toml`, `ruff.toml`,
    then `[tool.ruff]` of pyproject.toml), else black's `[tool.black]`, else 88.  A setting that
    is not a whole number in range is the formatter's to reject: it is passed over."""
    if pyproject is None:
        try:
            pyproject = _read_toml(directory / "pyproject.toml") if (directory / "pyproject.toml").is_file() else {}
        except ConfigError:
            pyproject = {}
    tools = pyproject.get("tool", {}) if isinstance(pyproject.get("tool"), dict) else {}
    candidates: list[Any] = []
    for name in (".ruff.toml", "ruff.toml"):
        if (directory / name).is_file():
            try:
                candidates.append(_read_toml(directory / name).get("line-length"))
            except ConfigError:
                pass
    candidates += [table.get("line-length") for table in (tools.get("ruff"), tools.get("black")) if isinstance(table, dict)]
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_LINE_LENGTH:
            return value
    return DEFAULT_LINE_LENGTH


def parse_table(table: Any, source: Path) -> Config:
    """Validate the [tool.fastapi-review] table; unknown keys and wrong types are errors."""
    prefix = f"{source}: [tool.fastapi-review]"
    if not isinstance(table, dict):
        raise ConfigError(f"{prefix} must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KNOWN_KEYS:
            raise ConfigError(f"{prefix}: unknown key {key!r}{did_you_mean(key, KNOWN_KEYS)}")
        if key in _LIST_KEYS:
            values[key.replace("-", "_")] = _string_list(value, f"{prefix}.{key}")
            if key in _GLOB_KEYS:
                values[key.replace("-", "_")] = tuple(normalize_glob(g) for g in values[key.replace("-", "_")])
        elif key in _VERSION_KEYS:
            if not isinstance(value, int) or isinstance(value, bool) or value not in (1, 2):
                raise ConfigError(f"{prefix}.{key} must be the major version, 1 or 2, not {value!r}")
            values[key.replace("-", "_")] = value
        elif key == "line-length":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_LINE_LENGTH:
                raise ConfigError(f"{prefix}.{key} must be a whole number from 1 to {MAX_LINE_LENGTH}, not {value!r}")
            values["line_length"] = value
        elif key == "time-budget":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{prefix}.{key} must be a number of seconds (0: no budget), not {value!r}")
            values["time_budget"] = float(value)
        elif key in _BOOL_KEYS:
            if not isinstance(value, bool):
                raise ConfigError(f"{prefix}.{key} must be true or false, not {value!r}")
            values[key.replace("-", "_")] = value
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{prefix}.per-file-ignores must be a table of glob = [codes]")
    values["per_file_ignores"] = tuple(
        (glob, _string_list(codes, f"{prefix}.per-file-ignores.{glob!r}")) for glob, codes in per_file.items()
    )
    rules = table.get("rules", {})
    if not isinstance(rules, dict) or not all(isinstance(v, dict) for v in rules.values()):
        raise ConfigError(f"{prefix}.rules must contain one table per rule, e.g. [tool.fastapi-review.rules.FR202]")
    values["rule_options"] = {code: dict(opts) for code, opts in rules.items()}
    values.update(_parse_roles(table.get("roles", {}), f"{prefix}.roles"))
    return Config(root=source.parent.resolve(), source=source, **values)


def _parse_roles(roles: Any, where: str) -> dict[str, Any]:
    """[tool.fastapi-review.roles.<role>] tables: globs (replace the defaults), extend-globs,
    select (rules that also run on the role's files), markers (generated only)."""
    if not isinstance(roles, dict):
        raise ConfigError(f"{where} must contain one table per role, e.g. [tool.fastapi-review.roles.tests]")
    globs = dict(DEFAULT_ROLE_GLOBS)
    select: dict[str, tuple[str, ...]] = {}
    markers = True
    for role, settings in roles.items():
        if role not in DEFAULT_ROLE_GLOBS:
            known = tuple(DEFAULT_ROLE_GLOBS)
            raise ConfigError(f"{where}: unknown role {role!r} (one of {', '.join(known)}){did_you_mean(role, known)}")
        if not isinstance(settings, dict):
            raise ConfigError(f"{where}.{role} must be a table, e.g. select = [\"FR101\"]")
        for key, value in settings.items():
            if key not in _ROLE_KEYS or (key == "markers" and role != "generated"):
                raise ConfigError(f"{where}.{role}: unknown key {key!r}{did_you_mean(key, _ROLE_KEYS)}")
            if key == "markers":
                if not isinstance(value, bool):
                    raise ConfigError(f"{where}.{role}.markers must be true or false, not {value!r}")
                markers = value
        if "globs" in settings:
            globs[role] = _string_list(settings["globs"], f"{where}.{role}.globs")
        if "extend-globs" in settings:
            globs[role] = globs[role] + _string_list(settings["extend-globs"], f"{where}.{role}.extend-globs")
        if "select" in settings:
            select[role] = _string_list(settings["select"], f"{where}.{role}.select")
    return {"role_globs": globs, "role_select": select, "generated_markers": markers}


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ConfigError(f"{where} must be a list of strings, e.g. [{value!r}]")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings, not {value!r}")
    return tuple(value)


def normalize_glob(glob: str) -> str:
    """A glob written relative to the project (`./app/*.py`, `./conftest.py`) as gitignore-style
    matching reads it: anchored at the project directory (`/app/*.py`, `/conftest.py`)."""
    if not glob.startswith("./"):
        return glob
    while glob.startswith("./"):
        glob = glob[2:]
    return "/" + glob.lstrip("/") if glob else ""


def did_you_mean(word: str, choices: Any) -> str:
    """'; did you mean X?' for the closest choice, or ''."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""
