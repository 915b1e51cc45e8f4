"""The context visitor: runs first in the traversal and keeps what every rule asks about.

It records imports (alias map), the enclosing classes and functions (stacks instead of
ParentNodeProvider), module-level bindings (routers, declarative bases, session factories)
and the file's ClassFacts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from fastapi_review.facts import ClassFacts, FileFacts
from fastapi_review.semantics import models
from fastapi_review.semantics.names import ImportMap, dotted_name

_UPPER_CASE = re.compile(r"^_*[A-Z][A-Z0-9_]*$")
_SESSIONMAKERS = frozenset({"sessionmaker", "async_sessionmaker"})
_APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI"})
_ROUTER_CLASSES = frozenset({"fastapi.APIRouter", "fastapi.routing.APIRouter"})


def is_constant_name(name: str) -> bool:
    """UPPER_CASE names are module-level constants by convention."""
    return bool(_UPPER_CASE.match(name))


@dataclass
class ClassInfo:
    """A class being visited."""

    node: cst.ClassDef
    facts: ClassFacts


@dataclass
class FunctionInfo:
    """A function being visited, with the parameter annotations rules ask about."""

    node: cst.FunctionDef
    is_method: bool  # defined directly in a class body
    params: dict[str, Optional[cst.BaseExpression]] = field(default_factory=dict)
    # local names bound by `async with <session factory>() as s` / `s: AsyncSession = ...`
    session_locals: set[str] = field(default_factory=set)


class Scope:
    """The context visitor (see module docstring)."""

    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts
        self.imports = ImportMap(facts.module, facts.is_package)
        facts.imports = self.imports.aliases
        self.classes: list[ClassInfo] = []
        self.functions: list[FunctionInfo] = []
        self.session_factories: set[str] = set()  # module-level names bound to *sessionmaker()
        self._containers: list[str] = []  # "class" / "function", innermost last
        # (ordinal in source order, node) of the enclosing defs/classes: positions.py's units
        self.units: list[tuple[int, cst.CSTNode]] = []
        self._def_count = 0

    # -- queries -------------------------------------------------------------------------
    @property
    def function(self) -> Optional[FunctionInfo]:
        """The innermost enclosing function."""
        return self.functions[-1] if self.functions else None

    @property
    def in_class_body(self) -> bool:
        """Directly in a class body (not inside one of its methods)."""
        return bool(self._containers) and self._containers[-1] == "class"

    @property
    def at_module_level(self) -> bool:
        """Outside every class and function."""
        return not self.classes and not self.functions

    def qualify(self, node: cst.BaseExpression) -> Optional[str]:
        """Qualified name of a Name/Attribute chain: through imports, else module-local."""
        name = dotted_name(node)
        if name is None:
            return None
        resolved = self.imports.resolve_dotted(name)
        if resolved is not None:
            return resolved
        return f"{self.facts.module}.{name}" if self.facts.module else name

    def class_qualname(self, name: str) -> str:
        """Module-qualified name of a class defined at this point."""
        outer = ".".join(c.facts.name for c in self.classes)
        local = f"{outer}.{name}" if outer else name
        return f"{self.facts.module}.{local}" if self.facts.module else local

    # -- imports ---------------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        self.imports.add_import(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.imports.add_import_from(node)

    # -- classes ---------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = tuple(self.qualify(_unsubscript(arg.value)) or "?" for arg in node.bases)
        keywords = {
            arg.keyword.value: _literal_text(arg.value)
            for arg in node.keywords
            if arg.keyword is not None
        }
        decorators = tuple(
            q for d in node.decorators if (q := self.qualify(_callee(d.decorator))) is not None
        )
        facts = ClassFacts(
            qualname=self.class_qualname(node.name.value),
            name=node.name.value,
            bases=bases,
            keywords=keywords,
            decorators=decorators,
        )
        _read_class_markers(node, facts)
        if not self.classes and not self.functions:
            self.facts.classes.append(facts)
        self.classes.append(ClassInfo(node, facts))
        self._enter("class", node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.pop()
        self._leave()

    # -- functions -------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        info = FunctionInfo(node, is_method=bool(self._containers) and self._containers[-1] == "class")
        p = node.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            info.params[param.name.value] = param.annotation.annotation if param.annotation else None
        for star in (p.star_arg, p.star_kwarg):
            if isinstance(star, cst.Param):
                info.params[star.name.value] = star.annotation.annotation if star.annotation else None
        self.functions.append(info)
        self._enter("function", node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.pop()
        self._leave()

    def _enter(self, kind: str, node: cst.CSTNode) -> None:
        self._containers.append(kind)
        self.units.append((self._def_count, node))
        self._def_count += 1

    def _leave(self) -> None:
        self._containers.pop()
        self.units.pop()

    # -- bindings --------------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.at_module_level or not isinstance(node.value, cst.Call):
            return
        callee = self.qualify(node.value.func) or ""
        last = callee.rsplit(".", 1)[-1]
        for target in node.targets:
            if not isinstance(target.target, cst.Name):
                continue
            name = target.target.value
            if models.is_sqlalchemy(callee) and last in models.DECLARATIVE_FACTORIES:
                self.facts.declarative_bases.append(name)
            elif last == "generate_base":
                self.facts.declarative_bases.append(name)
            elif models.is_sqlalchemy(callee) and last in _SESSIONMAKERS:
                self.session_factories.add(name)
            elif callee in _APP_CLASSES:
                self.facts.routers[name] = "app"
            elif callee in _ROUTER_CLASSES:
                self.facts.routers[name] = "router"

    def visit_AsyncWith(self, node: cst.With) -> None:
        self._bind_with_items(node)

    def visit_With(self, node: cst.With) -> None:
        self._bind_with_items(node)

    def _bind_with_items(self, node: cst.With) -> None:
        from fastapi_review.semantics.sessions import is_session_factory_call

        function = self.function
        if function is None:
            return
        for item in node.items:
            if (
                item.asname is not None
                and isinstance(item.asname.name, cst.Name)
                and is_session_factory_call(item.item, self)
            ):
                function.session_locals.add(item.asname.name.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        from fastapi_review.semantics.sessions import is_session_annotation

        function = self.function
        if function is not None and isinstance(node.target, cst.Name) and is_session_annotation(node.annotation.annotation, self):
            function.session_locals.add(node.target.value)


def _unsubscript(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`RootModel[list[int]]` → `RootModel`: a generic base is its origin class."""
    return expr.value if isinstance(expr, cst.Subscript) else expr


def _callee(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.func if isinstance(expr, cst.Call) else expr


def _literal_text(expr: cst.BaseExpression) -> str:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, (cst.SimpleString, cst.Integer)):
        return expr.value
    return "?"


def _read_class_markers(node: cst.ClassDef, facts: ClassFacts) -> None:
    """`__tablename__` / `__table__` / `__abstract__ = True` in the class body."""
    body = node.body
    if not isinstance(body, cst.IndentedBlock):
        return
    for stmt in body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign):
                targets = [t.target for t in small.targets]
                value: Optional[cst.BaseExpression] = small.value
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                targets = [small.target]
                value = small.value
            else:
                continue
            for target in targets:
                if not isinstance(target, cst.Name):
                    continue
                if target.value in ("__tablename__", "__table__"):
                    facts.has_tablename = True
                elif target.value == "__abstract__":
                    facts.abstract = isinstance(value, cst.Name) and value.value == "True"
