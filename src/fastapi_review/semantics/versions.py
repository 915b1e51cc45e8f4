"""Library versions: which Pydantic / SQLAlchemy major a project runs on.

From the project's own declarations (the nearest directory above a file that declares the
library wins: monorepos pin per service), in this order of trust:

1. lock files (exact versions): poetry.lock, uv.lock, pdm.lock, Pipfile.lock;
2. requirement specifiers: pyproject.toml (PEP 621 dependencies, optional-dependencies and
   dependency-groups; Poetry dependencies and groups; PDM / uv dev dependencies),
   requirements*.txt and requirements/*.txt, setup.cfg install_requires, setup.py's literal
   requirement strings.  A specifier decides a major when it allows only one (`>=2`, `^1.8`,
   `<2`, `==1.10.2`); `fastapi<0.100` means Pydantic 1 (FastAPI supports Pydantic 2 from 0.100).

and from the code: a v2-only API (`model_config`, `ConfigDict`, `field_validator`, …) in any
file of the project (see V2_MARKERS), when the declarations leave it open.
"""

from __future__ import annotations

import configparser
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

import libcst as cst

from fastapi_review.facts import APP
from fastapi_review.project import ProjectIndex, Requirement
from fastapi_review.syntax import dotted_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# Byte strings only Pydantic 2 code contains (a file mentioning one counts as v2 evidence).
V2_MARKERS = (
    b"model_config", b"ConfigDict", b"field_validator", b"model_validator", b"model_dump",
    b"model_validate", b"computed_field", b"TypeAdapter", b"pydantic.v1", b"pydantic_settings",
)
LIBRARIES = ("pydantic", "sqlalchemy")
_LATEST_MAJOR = 2  # of both libraries: `>=2` allows only 2
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")
_CLAUSE = re.compile(r"^(===|==|~=|!=|<=|>=|<|>|\^|~)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")
_VERSION_NAME = re.compile(r"(?i)(^|[._])(pydantic|sqlalchemy|sqla)?_?(v\d|version|major)|^(py(dantic)?|sqla(lchemy)?)_?v?\d$")
MajorRange = tuple[Optional[int], Optional[int]]  # (lowest, highest) possible major; None: open


def project_dialects(index: ProjectIndex) -> frozenset[str]:
    """The dialects of every database URL written in the project's files."""
    return index.memo("dialects", lambda: frozenset(d for m in index.modules.values() for d in m.dialects))


class DialectTarget(Requirement, kind="dialect_target"):
    """What the project's databases are — the dialects its nearest declaration's drivers speak,
    plus every database URL in its files — fits `want`: "postgresql" (PostgreSQL among them, or
    nothing known: the default), "postgresql-only", "mixed" (PostgreSQL and others; the
    detail names the others), or "not-sqlite-only" (an embedded SQLite file, one process's
    clock, is not the only one)."""

    declared: tuple[str, ...]
    want: str

    def _dialects(self, index: ProjectIndex) -> frozenset[str]:
        return frozenset(self.declared) | project_dialects(index)

    def holds(self, index: ProjectIndex) -> bool:
        dialects = self._dialects(index)
        if self.want == "mixed":
            return "postgresql" in dialects and len(dialects) > 1
        if self.want == "postgresql-only":
            return dialects <= {"postgresql"}
        if self.want == "not-sqlite-only":
            return not dialects or not dialects <= {"sqlite"}
        return not dialects or "postgresql" in dialects

    def detail(self, index: ProjectIndex) -> Optional[str]:
        others = ", ".join(sorted(self._dialects(index) - {"postgresql"}))
        return (
            f"the project also runs on {others}: use JSON().with_variant(JSONB(), \"postgresql\") "
            "to store JSONB on PostgreSQL (indexable, binary) and keep JSON elsewhere"
        )


class ProjectUsesJsonb(Requirement, kind="project_uses_jsonb"):
    """Some application module imports PostgreSQL's JSONB: the project stores JSONB where it
    runs on PostgreSQL, so a plain JSON column elsewhere is an outlier of its own choice."""

    def holds(self, index: ProjectIndex) -> bool:
        return index.memo(("uses_jsonb",), lambda: any(f.uses_jsonb and f.role == APP for f in index.files))


class PydanticV2Project(Requirement, kind="pydantic_v2_project"):
    """The project's code uses a Pydantic-2-only API somewhere (for projects whose declarations
    do not say which major they run on)."""

    def holds(self, index: ProjectIndex) -> bool:
        return index.memo(PydanticV2Project, lambda: any(m.pydantic_v2 for m in index.modules.values()))


def is_version_test(test: cst.BaseExpression) -> bool:
    """An `if` test on a version: `PYDANTIC_V2`, `not IS_PYDANTIC_V1`, `sys.version_info >= …`,
    `pydantic.VERSION.startswith("2")`, `PYDANTIC_VERSION >= (2,)`."""
    for node in _operands(test):
        name = dotted_name(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
        if name is not None and any(_VERSION_NAME.search(part) for part in name.split(".")):
            return True
    return False


def _operands(test: cst.BaseExpression) -> Iterable[cst.CSTNode]:
    stack: list[cst.CSTNode] = [test]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.UnaryOperation):
            stack.append(node.expression)
        elif isinstance(node, cst.BooleanOperation):
            stack += (node.left, node.right)
        elif isinstance(node, cst.Comparison):
            stack.append(node.left)
            stack += (c.comparator for c in node.comparisons)
        elif isinstance(node, cst.Call):
            stack.append(node.func)
        elif isinstance(node, cst.Subscript):
            stack.append(node.value)
        elif isinstance(node, cst.Attribute):
            yield node
            stack.append(node.value)
        else:
            yield node


def major_range(specifier: str) -> MajorRange:
    """The majors a version specifier allows: `>=1.10,<2` → (1, 1); `^2.5` → (2, 2); `` → open."""
    low: Optional[int] = None
    high: Optional[int] = None
    for clause in re.split(r"[,;]| and ", specifier.split(";")[0]):
        match = _CLAUSE.match(clause.strip())
        if match is None:
            continue
        operator, major = match.group(1) or "==", int(match.group(2))
        minor, patch = int(match.group(3) or 0), int(match.group(4) or 0)
        if operator in ("==", "===", "~=", "^", "~"):
            low, high = _tighten(low, high, major, major)
        elif operator in (">=", ">"):
            low, high = _tighten(low, high, major, None)
        elif operator == "<":
            low, high = _tighten(low, high, None, major - 1 if (minor, patch) == (0, 0) else major)
        elif operator == "<=":
            low, high = _tighten(low, high, None, major)
    return low, high


def _tighten(low: Optional[int], high: Optional[int], new_low: Optional[int], new_high: Optional[int]) -> MajorRange:
    if new_low is not None and (low is None or new_low > low):
        low = new_low
    if new_high is not None and (high is None or new_high < high):
        high = new_high
    return low, high


def decided(span: MajorRange) -> Optional[int]:
    """The one major a range allows, or None (open or empty)."""
    low, high = span
    if low is not None and low == high:
        return low
    if high is not None and low is None and high <= 1:
        return high
    if low is not None and high is None and low >= _LATEST_MAJOR:
        return low
    return None


def _requirement(line: str) -> Optional[tuple[str, str]]:
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith(("-", "git+", "http")):
        return None
    match = _NAME.match(line)
    if match is None:
        return None
    return match.group(1).lower().replace("_", "-"), match.group(2).strip()


@dataclass(frozen=True)
class Declarations:
    """What the declaration files of one directory say (each file read once)."""

    named: frozenset[str]  # of LIBRARIES and fastapi, those named at all
    majors: dict[str, int]  # library → major, the decided ones only
    dialects: frozenset[str]  # of the database drivers named


def read_declarations(directory: Path) -> Declarations:
    """Read the lock files and requirement specifiers in `directory`."""
    locked = _locked_versions(directory)
    specifiers = _specifiers(directory)
    specs: dict[str, list[str]] = {}
    for name, spec in specifiers:
        specs.setdefault(name, []).append(spec)
    return Declarations(
        named=frozenset((set(specs) | set(locked)) & {*LIBRARIES, "fastapi"}),
        majors=_majors(locked, specs),
        dialects=frozenset(DRIVERS[name] for name in specs if name in DRIVERS),
    )


def _majors(locked: dict[str, int], specs: dict[str, list[str]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for library in LIBRARIES:
        if library in locked:
            found[library] = locked[library]
            continue
        if library not in specs:
            continue
        span: MajorRange = (None, None)
        for spec in specs[library]:
            span = _tighten(*span, *major_range(spec))
        major = decided(span)
        if major is not None:
            found[library] = major
    if "pydantic" not in found and any(_fastapi_before_pydantic_2(spec) for spec in specs.get("fastapi", ())):
        found["pydantic"] = 1
    return found


# Database drivers a project declares → the dialect they speak.
DRIVERS = {
    "asyncpg": "postgresql", "psycopg2": "postgresql", "psycopg2-binary": "postgresql", "psycopg": "postgresql",
    "psycopg-binary": "postgresql", "pg8000": "postgresql", "aiosqlite": "sqlite", "pysqlite3": "sqlite",
    "pymysql": "mysql", "mysqlclient": "mysql", "aiomysql": "mysql", "asyncmy": "mysql",
    "mysql-connector-python": "mysql", "pyodbc": "mssql", "aioodbc": "mssql", "pymssql": "mssql",
    "oracledb": "oracle", "cx-oracle": "oracle",
}
# Database URLs in code and configuration: `postgresql+asyncpg://`, `sqlite:///`, …
DATABASE_URL = re.compile(rb"\b(postgres(?:ql)?|sqlite|mysql|mariadb|mssql|oracle)(?:\+\w+)?://")
_URL_DIALECT = {b"postgres": "postgresql", b"postgresql": "postgresql", b"mariadb": "mysql"}


def url_dialects(data: bytes) -> list[str]:
    """The dialects of the database URLs written in a file."""
    found = {_URL_DIALECT.get(m, m.decode()) for m in DATABASE_URL.findall(data)} if b"://" in data else set()
    return sorted(found)


def _fastapi_before_pydantic_2(spec: str) -> bool:
    """`fastapi==0.65.2`, `fastapi<0.100`, `^0.68`: only versions without Pydantic 2 support."""
    bound = None
    for clause in spec.split(","):
        match = re.match(r"\s*(==|<=|<|\^|~=|~)\s*0\.(\d+)", clause)
        if match:
            minor = int(match.group(2))
            bound = minor - 1 if match.group(1) == "<" else minor
    return bound is not None and bound < 100


def _specifiers(directory: Path) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    pyproject = _toml(directory / "pyproject.toml")
    if pyproject:
        project = pyproject.get("project", {})
        lines = list(project.get("dependencies", []))
        for group in (project.get("optional-dependencies", {}) or {}).values():
            lines += group
        for group in (pyproject.get("dependency-groups", {}) or {}).values():
            lines += [item for item in group if isinstance(item, str)]
        tool = pyproject.get("tool", {})
        lines += tool.get("uv", {}).get("dev-dependencies", [])
        for group in (tool.get("pdm", {}).get("dev-dependencies", {}) or {}).values():
            lines += group
        for line in lines:
            if isinstance(line, str) and (req := _requirement(line)):
                found.append(req)
        poetry = tool.get("poetry", {})
        tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
        tables += [g.get("dependencies", {}) for g in (poetry.get("group", {}) or {}).values() if isinstance(g, dict)]
        for table in tables:
            for name, value in (table or {}).items():
                spec = value.get("version", "") if isinstance(value, dict) else value
                if isinstance(spec, str):
                    found.append((name.lower().replace("_", "-"), spec))
    for path in sorted([*directory.glob("requirements*.txt"), *directory.glob("requirements/*.txt")]):
        for line in _text(path).splitlines():
            if req := _requirement(line):
                found.append(req)
    setup_cfg = _text(directory / "setup.cfg")
    if "install_requires" in setup_cfg:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(setup_cfg)
            block = parser.get("options", "install_requires", fallback="")
        except configparser.Error:
            block = ""
        for line in block.splitlines():
            if req := _requirement(line):
                found.append(req)
    setup_py = _text(directory / "setup.py")
    for literal in re.findall(r"[\"']((?:pydantic|sqlalchemy|fastapi)\b[^\"']*)[\"']", setup_py, re.IGNORECASE):
        if req := _requirement(literal):
            found.append(req)
    return found


def _locked_versions(directory: Path) -> dict[str, int]:
    locked: dict[str, int] = {}
    for name in ("poetry.lock", "uv.lock", "pdm.lock"):
        data = _toml(directory / name)
        for package in data.get("package", []) if data else []:
            if isinstance(package, dict) and isinstance(package.get("version"), str):
                library = str(package.get("name", "")).lower()
                if library in LIBRARIES and package["version"][:1].isdigit():
                    locked[library] = int(package["version"].split(".")[0])
    pipfile = _text(directory / "Pipfile.lock")
    if pipfile:
        try:
            data = json.loads(pipfile)
        except ValueError:
            data = {}
        for library in LIBRARIES:
            version = (data.get("default", {}).get(library) or {}).get("version", "")
            if isinstance(version, str) and (match := re.match(r"==\s*(\d+)", version)):
                locked[library] = int(match.group(1))
    return locked


def _toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
