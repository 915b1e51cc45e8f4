"""Import-alias resolution: local names → qualified names."""

from __future__ import annotations

import sys
from typing import Optional

import libcst as cst

from fastapi_review.syntax import dotted_name

# Libraries whose names never resolve to project code: the standard library, the frameworks.
_NOT_PROJECT_CODE = frozenset(sys.stdlib_module_names) | {
    "fastapi", "starlette", "pydantic", "pydantic_core", "typing_extensions",
}


def module_dotted(node: Optional[cst.BaseExpression]) -> str:
    """The dotted text of an ImportFrom module (`a.b`), or '' for `from . import x`."""
    if node is None:
        return ""
    return dotted_name(node) or ""


def resolve_relative(module: str, is_package: bool, level: int, target: str) -> str:
    """Absolute module for `from <level dots><target> import ...` written in `module`."""
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    if target:
        parts.append(target)
    return ".".join(parts)


class ImportMap:
    """Local name → fully qualified name, from the file's import statements (any scope).

    `import sqlalchemy as sa` maps `sa` → `sqlalchemy`; `from sqlalchemy.orm import
    relationship as rel` maps `rel` → `sqlalchemy.orm.relationship`; `import a.b` maps `a`.
    """

    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.is_package = is_package
        self.aliases: dict[str, str] = {}
        self.module_level: set[str] = set()  # the local names imports outside classes and functions bind

    def add_import(self, node: cst.Import, module_level: bool = False) -> None:
        """Record `import a.b as c` / `import a.b`."""
        for alias in node.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
                self.aliases[local] = full
            else:
                local = full.split(".", 1)[0]
                self.aliases[local] = local
            self._bound(local, module_level)

    def _bound(self, local: str, module_level: bool) -> None:
        if module_level:
            self.module_level.add(local)
        else:
            self.module_level.discard(local)

    def add_import_from(self, node: cst.ImportFrom, module_level: bool = False) -> None:
        """Record `from m import a as b` (relative imports resolved against this module)."""
        if isinstance(node.names, cst.ImportStar):
            return
        base = module_dotted(node.module)
        level = len(node.relative)
        if level:
            base = resolve_relative(self.module, self.is_package, level, base)
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            local = alias.name.value
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.aliases[local] = f"{base}.{alias.name.value}" if base else alias.name.value
            self._bound(local, module_level)

    def resolve(self, node: cst.BaseExpression) -> Optional[str]:
        """The qualified name of an imported Name/Attribute chain, else None."""
        name = dotted_name(node)
        if name is None:
            return None
        return self.resolve_dotted(name)

    def resolve_dotted(self, name: str) -> Optional[str]:
        """Qualify a dotted local name through the import aliases, else None."""
        head, _, rest = name.partition(".")
        target = self.aliases.get(head)
        if target is None:
            return None
        return f"{target}.{rest}" if rest else target


def may_be_project_name(qualified: str) -> bool:
    """Whether an imported name could be defined in the project — a session alias or factory the
    project index may resolve — rather than in SQLAlchemy/SQLModel, the standard library or the
    web frameworks (candidates for cross-file checks; the others can never be confirmed)."""
    top = qualified.split(".", 1)[0]
    return top not in _NOT_PROJECT_CODE and not top.startswith(("sqlalchemy", "sqlmodel"))


def names_a_class(qualified: str) -> bool:
    """The last part of a qualified name is capitalised (`app.repos.UserRepository`): by Python's
    naming convention a class, so calling it constructs an object."""
    return qualified.rsplit(".", 1)[-1][:1].isupper()


def in_library(qualified: Optional[str], *libraries: str) -> bool:
    """Whether a qualified name (or module) is one of `libraries` or inside it:
    `in_library("sqlalchemy.orm.relationship", "sqlalchemy", "sqlmodel")`."""
    return bool(qualified) and qualified.partition(".")[0] in libraries  # type: ignore[union-attr]


ORM_LIBRARIES = ("sqlalchemy", "sqlmodel")
