"""The context visitor: runs first in the traversal and keeps what every rule asks about.

It records imports (alias map), the enclosing classes and functions (stacks instead of
ParentNodeProvider), module-level bindings (routers, declarative bases, session factories)
and the file's ClassFacts.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import libcst as cst

from fastapi_review.facts import ClassFacts, FileFacts, Requirement
from fastapi_review.semantics import models
from fastapi_review.semantics.names import ImportMap
from fastapi_review.syntax import dotted_name, keyword_arg, keyword_is
from fastapi_review.semantics.routes import APP_CLASSES, ROUTER_CLASSES, Route, route_from_add_api_route, route_from_decorator

if TYPE_CHECKING:
    from fastapi_review.semantics.columns import ColumnDecl

_BUILTIN_NAMES = frozenset(dir(builtins))
_UPPER_CASE = re.compile(r"^_*[A-Z][A-Z0-9_]*$")
_SESSIONMAKERS = frozenset({"sessionmaker", "async_sessionmaker"})


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
    # the subset known to be async: `async with factory() as s`, `s: AsyncSession = ...`
    async_session_locals: dict[str, str] = field(default_factory=dict)  # name → "session"/"connection"
    routes: list[Route] = field(default_factory=list)  # empty unless a route handler
    routers: dict[str, str] = field(default_factory=dict)  # routers / apps bound in this function
    hidden_routers: list[str] = field(default_factory=list)

    @property
    def route_requirement(self) -> Optional[Requirement]:
        """None when this is certainly a route handler; else what the index must confirm."""
        if any(r.requirement is None for r in self.routes):
            return None
        return self.routes[0].requirement if self.routes else None


class Scope:
    """The context visitor (see module docstring)."""

    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts
        self.imports = ImportMap(facts.module, facts.is_package)
        facts.imports = self.imports.aliases
        self.classes: list[ClassInfo] = []
        self.functions: list[FunctionInfo] = []
        # module-level names bound to sessionmaker() / async_sessionmaker(): name → "sync"/"async"
        self.session_factories: dict[str, str] = {}
        # `SessionDep = Annotated[AsyncSession, Depends(...)]`: alias name → the session class name
        self.session_aliases: dict[str, str] = {}
        self.module_sessions: set[str] = set()  # module-level `session = SessionLocal()`
        self.api_routes: dict[str, list[Route]] = {}  # endpoint name → add_api_route routes
        self._containers: list[str] = []  # "class" / "function", innermost last
        # (ordinal in source order, node) of the enclosing defs/classes: positions.py's units
        self.units: list[tuple[int, cst.CSTNode]] = []
        self._def_count = 0
        self.def_names: list[str] = []  # every def/class in source order (positions.py anchors)
        # loops whose body is being visited, per function frame (module level first)
        self._loop_of_body: dict[int, cst.CSTNode] = {}
        self._loop_frames: list[list[cst.CSTNode]] = [[]]
        self._type_checking_bodies: set[int] = set()
        self._type_checking_depth = 0
        self._column_node: Optional[cst.CSTNode] = None
        self._column: Optional[ColumnDecl] = None
        self._callee_node: Optional[cst.Call] = None
        self._callee: Optional[str] = None

    # -- queries -------------------------------------------------------------------------
    @property
    def function(self) -> Optional[FunctionInfo]:
        """The innermost enclosing function."""
        return self.functions[-1] if self.functions else None

    @property
    def route_function(self) -> Optional[FunctionInfo]:
        """The innermost function when it is a route handler (code in nested defs is not)."""
        function = self.functions[-1] if self.functions else None
        return function if function is not None and function.routes else None

    def handler_being_visited(self, node: cst.FunctionDef) -> Optional[FunctionInfo]:
        """In `visit_FunctionDef(node)`: node's info when it is a route handler, else None."""
        function = self.route_function
        return function if function is not None and function.node is node else None

    @property
    def in_service_class(self) -> bool:
        """Inside a class whose name ends in `Service` (RULES.md: service code)."""
        return any(c.facts.name.endswith("Service") for c in self.classes)

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

    def callee(self, call: cst.Call) -> Optional[str]:
        """The qualified name of the called function (through imports), memoised for the call
        every rule is looking at: each Call is resolved once, not once per rule."""
        if call is not self._callee_node:
            self._callee_node = call
            self._callee = self.imports.resolve(call.func)
        return self._callee

    def class_column(self, node: "cst.Assign | cst.AnnAssign") -> "Optional[ColumnDecl]":
        """The column a statement directly in a class body declares (memoised per statement)."""
        if node is not self._column_node:
            self._column_node = node
            self._column = None
            if self.in_class_body:
                from fastapi_review.semantics.columns import column_declaration

                if isinstance(node, cst.Assign):
                    if len(node.targets) == 1:
                        self._column = column_declaration(node.targets[0].target, None, node.value, self)
                else:
                    self._column = column_declaration(node.target, node.annotation.annotation, node.value, self)
        return self._column

    @property
    def class_qualname_here(self) -> str:
        """Qualified name of the innermost class being visited."""
        return self.classes[-1].facts.qualname

    def _qualify_base(self, expr: cst.BaseExpression) -> str:
        """A base class's qualified name; builtins (`object`, `Exception`) as `builtins.X`."""
        if isinstance(expr, cst.Name) and expr.value in _BUILTIN_NAMES and self.imports.resolve_dotted(expr.value) is None:
            return f"builtins.{expr.value}"
        return self.qualify(expr) or "?"

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
        module = dotted_name(node.module) if node.module is not None else None
        if module is not None and module.endswith("ext.asyncio") and module.split(".")[0] in ("sqlalchemy", "sqlmodel"):
            self.facts.uses_async_sqlalchemy = True

    # -- classes ---------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = tuple(self._qualify_base(_unsubscript(arg.value)) for arg in node.bases)
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
        _read_class_markers(node, facts, self)
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
        info.routes = [r for d in node.decorators if (r := route_from_decorator(d, self)) is not None]
        for decorator in node.decorators:
            self._record_exception_handler_decorator(decorator.decorator)
        if node.name.value in self.api_routes:
            info.routes.extend(self.api_routes[node.name.value])
        self.functions.append(info)
        self._enter("function", node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.pop()
        self._leave()

    def _enter(self, kind: str, node: cst.CSTNode) -> None:
        self._containers.append(kind)
        if kind == "function":
            self._loop_frames.append([])
        self.units.append((self._def_count, node))
        self.def_names.append(node.name.value)  # type: ignore[attr-defined]
        self._def_count += 1

    def _leave(self) -> None:
        if self._containers[-1] == "function":
            self._loop_frames.pop()
        self._containers.pop()
        self.units.pop()

    # -- `if TYPE_CHECKING:` blocks ------------------------------------------------------
    def visit_If(self, node: cst.If) -> None:
        test = node.test
        name = dotted_name(test) if isinstance(test, (cst.Name, cst.Attribute)) else None
        if name is not None and name.rsplit(".", 1)[-1] == "TYPE_CHECKING":
            self._type_checking_bodies.add(id(node.body))

    @property
    def in_type_checking(self) -> bool:
        """Inside an `if TYPE_CHECKING:` body (code that never runs)."""
        return self._type_checking_depth > 0

    # -- loops -----------------------------------------------------------------------------
    @property
    def loops(self) -> list[cst.CSTNode]:
        """The For/While loops whose body encloses the current node, in this function only."""
        return self._loop_frames[-1]

    def visit_For(self, node: cst.For) -> None:
        self._loop_of_body[id(node.body)] = node

    def visit_While(self, node: cst.While) -> None:
        self._loop_of_body[id(node.body)] = node

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        loop = self._loop_of_body.get(id(node))
        if loop is not None:
            self._loop_frames[-1].append(loop)
        elif id(node) in self._type_checking_bodies:
            self._type_checking_depth += 1

    def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        if id(node) in self._loop_of_body:
            self._loop_frames[-1].pop()
        elif id(node) in self._type_checking_bodies:
            self._type_checking_depth -= 1

    visit_SimpleStatementSuite = visit_IndentedBlock  # type: ignore[assignment]
    leave_SimpleStatementSuite = leave_IndentedBlock  # type: ignore[assignment]

    # -- bindings --------------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        function = self.function
        if function is not None and not self.in_class_body and isinstance(node.value, cst.Call):
            # routers built inside factory functions: `router = APIRouter(...)` in `def get_router()`
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    callee = self.qualify(node.value.func) or ""
                    self._bind_router(target.target.value, node.value, callee, function.routers, function.hidden_routers)
            return
        if not self.at_module_level:
            return
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self._bind(target.target.value, node.value)

    def _bind(self, name: str, value: cst.BaseExpression) -> None:
        from fastapi_review.semantics.sessions import (
            is_session_annotation,
            is_session_factory_call,
        )

        if not isinstance(value, cst.Call):
            if isinstance(value, cst.Subscript) and _annotated_with_description(value, self):
                self.facts.described_aliases.append(name)
            elif isinstance(value, cst.Subscript) and (self.imports.resolve(value.value) or "").endswith("Annotated"):
                inner = value.slice[0].slice.value if isinstance(value.slice[0].slice, cst.Index) else None
                if isinstance(inner, cst.Name) and inner.value in self.facts.described_aliases:
                    self.facts.described_aliases.append(name)  # an alias of a documented alias
                elif isinstance(inner, (cst.Name, cst.Attribute)):
                    qualified = self.qualify(inner)
                    if qualified is not None:
                        self.facts.annotated_aliases[name] = qualified
            if isinstance(value, cst.Subscript) and is_session_annotation(value, self):
                from fastapi_review.semantics.sessions import session_class_name

                self.session_aliases[name] = session_class_name(value, self) or "AsyncSession"
                self.facts.session_aliases[name] = self.session_aliases[name]
            return
        callee = self.qualify(value.func) or ""
        self.facts.call_bindings[name] = callee
        if is_session_factory_call(value, self):
            self.module_sessions.add(name)
        last = callee.rsplit(".", 1)[-1]
        if models.is_sqlalchemy(callee) and last in models.DECLARATIVE_FACTORIES:
            self.facts.declarative_bases.append(name)
        elif last == "generate_base":
            self.facts.declarative_bases.append(name)
        elif models.is_sqlalchemy(callee) and last in _SESSIONMAKERS:
            self.session_factories[name] = "async" if last.startswith("async") else "sync"
            self.facts.session_factories[name] = self.session_factories[name]
        else:
            self._bind_router(name, value, callee, self.facts.routers, self.facts.hidden_routers)

    def _bind_router(self, name: str, call: cst.Call, callee: str, routers: dict[str, str], hidden: list[str]) -> None:
        """Record `name = FastAPI(...)` / `APIRouter(...)` (or a subclass) and its schema visibility."""
        last = callee.rsplit(".", 1)[-1]
        if callee in APP_CLASSES or self.router_classes_kind(callee) == "app":
            routers[name] = "app"
            if keyword_is(call, "openapi_url", "None") or keyword_is(call, "include_in_schema", "False"):
                hidden.append(name)
            handlers = next((a.value for a in call.args if a.keyword and a.keyword.value == "exception_handlers"), None)
            if isinstance(handlers, cst.Dict):  # FastAPI(exception_handlers={ValueError: handler})
                for element in handlers.elements:
                    if isinstance(element, cst.DictElement):
                        self._record_exception_handler(element.key)
        elif callee in ROUTER_CLASSES or self.router_classes_kind(callee) == "router" or last.endswith("Router"):
            # `...Router` also covers project and third-party subclasses (polar.routing.APIRouter, InferringRouter)
            routers[name] = "router"
            if routers is self.facts.routers:
                from fastapi_review.semantics.project_facts import router_responses

                declared = router_responses(call, self)
                if declared is None:
                    self.facts.routers_with_unknown_responses.append(name)
                elif declared:
                    self.facts.router_responses[name] = declared
                prefix = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "prefix"), None)
                if isinstance(prefix, cst.SimpleString) and isinstance(prefix.evaluated_value, str):
                    self.facts.router_prefixes[name] = prefix.evaluated_value
            if keyword_is(call, "include_in_schema", "False"):
                hidden.append(name)

    def _record_exception_handler_decorator(self, decorator: cst.BaseExpression) -> None:
        # `@app.exception_handler(T)`
        if (
            isinstance(decorator, cst.Call)
            and isinstance(decorator.func, cst.Attribute)
            and decorator.func.attr.value == "exception_handler"
            and decorator.args
        ):
            self._record_exception_handler(decorator.args[0].value)

    def _record_exception_handler(self, expr: cst.BaseExpression) -> None:
        from fastapi_review.semantics.exceptions import qualify_exception

        qualified = qualify_exception(expr, self)
        if qualified is not None:
            self.facts.exception_handlers.append(qualified)

    def router_kind(self, name: str) -> tuple[Optional[str], bool]:
        """("app"/"router"/None, hidden from the schema) of a router name at this point."""
        for function in reversed(self.functions):
            if name in function.routers:
                return function.routers[name], name in function.hidden_routers
        return self.facts.routers.get(name), name in self.facts.hidden_routers

    def router_classes_kind(self, callee: str) -> Optional[str]:
        """"app"/"router" for a subclass of FastAPI/APIRouter defined earlier in this module."""
        for cls in self.facts.classes:
            if cls.qualname == callee:
                if any(b in APP_CLASSES for b in cls.bases):
                    return "app"
                if any(b in ROUTER_CLASSES for b in cls.bases):
                    return "router"
        return None

    def prescan(self, module: cst.Module) -> None:
        """Collect `add_api_route(path, endpoint)` and `add_exception_handler(T, fn)` calls
        before the walk (only for files that mention them), so handlers defined anywhere in
        the file are known as routes when they are visited."""
        scope = self

        class _Collector:
            def visit_Import(self, node: cst.Import) -> None:
                scope.imports.add_import(node)

            def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
                scope.imports.add_import_from(node)

            def visit_Call(self, node: cst.Call) -> None:
                found = route_from_add_api_route(node, scope)
                if found is not None:
                    scope.api_routes.setdefault(found[0], []).append(found[1])
                func = node.func
                if isinstance(func, cst.Attribute) and func.attr.value == "add_exception_handler" and node.args:
                    scope._record_exception_handler(node.args[0].value)
                if (
                    isinstance(func, cst.Attribute)
                    and func.attr.value == "include_router"
                    and node.args
                    and keyword_is(node, "include_in_schema", "False")
                ):
                    included = scope.qualify(node.args[0].value)
                    if included is not None:
                        scope.facts.hidden_includes.append(included)

        from fastapi_review.dispatch import Dispatcher

        Dispatcher([_Collector()]).walk(module)

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
                and (is_session_factory_call(item.item, self) or _injected_factory_call(item.item, function))
            ):
                function.session_locals.add(item.asname.name.value)
                if isinstance(node, cst.With) and node.asynchronous is not None:
                    function.async_session_locals[item.asname.name.value] = "session"

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        from fastapi_review.semantics.sessions import is_session_annotation

        if self.at_module_level and isinstance(node.target, cst.Name) and node.value is not None:
            self._bind(node.target.value, node.value)  # `SessionDep: TypeAlias = Annotated[...]`
            return
        function = self.function
        if function is not None and isinstance(node.target, cst.Name) and is_session_annotation(node.annotation.annotation, self):
            function.session_locals.add(node.target.value)
            from fastapi_review.semantics.sessions import (
                ASYNC_KINDS,
                session_class_name,
            )

            kind = ASYNC_KINDS.get(session_class_name(node.annotation.annotation, self) or "")
            if kind is not None:
                function.async_session_locals[node.target.value] = kind


def _injected_factory_call(expr: cst.BaseExpression, function: FunctionInfo) -> bool:
    """`db()` / `sessionmaker()` where the factory is a parameter (`async with db() as session`)."""
    from fastapi_review.semantics.sessions import (
        DEFAULT_SESSION_NAMES,
        looks_like_session_factory,
    )

    if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in function.params):
        return False
    name = expr.func.value
    return name in DEFAULT_SESSION_NAMES or looks_like_session_factory(name)


def _annotated_with_description(value: cst.Subscript, scope: "Scope") -> bool:
    """`Annotated[T, Field(description=...)]` (a documented field type)."""
    if (scope.imports.resolve(value.value) or "").rsplit(".", 1)[-1] != "Annotated":
        return False
    for element in value.slice[1:]:
        metadata = element.slice.value if isinstance(element.slice, cst.Index) else None
        if isinstance(metadata, cst.Call) and carries_description(metadata):
            return True
    return False


def carries_description(call: cst.Call) -> bool:
    """`Field(description=...)`, or JSON-schema metadata such as `WithJsonSchema({"description": ...})`."""
    if keyword_arg(call, "description") is not None:
        return True
    for arg in call.args:
        if isinstance(arg.value, cst.Dict):
            for element in arg.value.elements:
                if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                    if element.key.evaluated_value == "description":
                        return True
    return False


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


def _read_class_markers(node: cst.ClassDef, facts: ClassFacts, scope: Scope) -> None:
    """`__tablename__` / `__table__` / `__abstract__ = True`, bound names, type_annotation_map."""
    body = node.body
    if not isinstance(body, cst.IndentedBlock):
        return
    attributes: list[str] = []
    for stmt in body.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            attributes.append(stmt.name.value)
            if isinstance(stmt, cst.ClassDef) and stmt.name.value == "Config":
                facts.model_config.update(_v1_config(stmt))
            continue
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign):
                targets = [t.target for t in small.targets]
                value: Optional[cst.BaseExpression] = small.value
            elif isinstance(small, cst.AnnAssign):
                targets = [small.target]
                value = small.value
            else:
                continue
            for target in targets:
                if not isinstance(target, cst.Name):
                    continue
                attributes.append(target.value)
                strategy = _relationship_strategy(small, value, scope)
                if strategy is not None:
                    facts.relationships[target.value] = strategy
                length = _string_length(value, scope)
                if length is not None:
                    facts.string_lengths[target.value] = length
                if target.value in ("__tablename__", "__table__") and value is not None:
                    facts.has_tablename = True
                    facts.table_assigned = facts.table_assigned or target.value == "__table__"
                elif target.value == "__abstract__":
                    facts.abstract = isinstance(value, cst.Name) and value.value == "True"
                elif target.value in ("type_annotation_map", "registry") and value is not None:
                    facts.datetime_map = _datetime_mapping(value, scope)
                elif target.value == "model_config" and value is not None:
                    facts.model_config.update(_config_literals(value))
    facts.attributes = tuple(attributes)


_V1_RENAMED = {"orm_mode": "from_attributes"}


def _literal_source(expr: cst.BaseExpression) -> str:
    return cst.Module([]).code_for_node(expr)


def _config_literals(value: cst.BaseExpression) -> dict[str, str]:
    """`ConfigDict(from_attributes=True)` / `{"from_attributes": True}` → {"from_attributes": "True"}."""
    if isinstance(value, cst.Call):
        return {a.keyword.value: _literal_source(a.value) for a in value.args if a.keyword is not None}
    if isinstance(value, cst.Dict):
        result = {}
        for element in value.elements:
            if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                key = element.key.evaluated_value
                if isinstance(key, str):
                    result[key] = _literal_source(element.value)
        return result
    return {}


def _v1_config(node: cst.ClassDef) -> dict[str, str]:
    """Pydantic v1 `class Config: orm_mode = True` → {"from_attributes": "True"} (v2 names)."""
    config: dict[str, str] = {}
    body = node.body
    if not isinstance(body, cst.IndentedBlock):
        return config
    for stmt in body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                    key = small.targets[0].target.value
                    config[_V1_RENAMED.get(key, key)] = _literal_source(small.value)
    return config


_LEGACY_LAZY = {"True": "select", "False": "joined", "None": "noload"}


def _relationship_strategy(statement: cst.BaseSmallStatement, value: Optional[cst.BaseExpression], scope: Scope) -> Optional[str]:
    """The loading strategy of a relationship declared by a class-body statement, else None."""
    if isinstance(statement, cst.AnnAssign):
        annotation = statement.annotation.annotation
        head = annotation.value if isinstance(annotation, cst.Subscript) else annotation
        kind = (scope.imports.resolve(head) or "").rsplit(".", 1)[-1]
        if kind == "DynamicMapped":
            return "dynamic"
        if kind == "WriteOnlyMapped":
            return "write_only"
    if not isinstance(value, cst.Call):
        return None
    callee = scope.callee(value) or ""
    module, _, last = callee.rpartition(".")
    if last == "relationship" and module.startswith("sqlalchemy"):
        args = value.args
    elif last == "Relationship" and module.startswith("sqlmodel"):
        kwargs = next((a.value for a in value.args if a.keyword and a.keyword.value == "sa_relationship_kwargs"), None)
        if kwargs is None:
            return "select"
        if not isinstance(kwargs, cst.Dict):
            return "?"
        for element in kwargs.elements:
            if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString) and element.key.evaluated_value == "lazy":
                lazy = element.value
                return lazy.evaluated_value if isinstance(lazy, cst.SimpleString) else "?"  # type: ignore[return-value]
        return "select"
    else:
        return None
    lazy_arg = next((a.value for a in args if a.keyword and a.keyword.value == "lazy"), None)
    if lazy_arg is None:
        return "?" if any(a.star for a in args) else "select"
    if isinstance(lazy_arg, cst.Name) and lazy_arg.value in _LEGACY_LAZY:
        return _LEGACY_LAZY[lazy_arg.value]
    if isinstance(lazy_arg, cst.SimpleString) and isinstance(lazy_arg.evaluated_value, str):
        return lazy_arg.evaluated_value
    return "?"


def _string_length(value: Optional[cst.BaseExpression], scope: Scope) -> Optional[int]:
    """n of `Column(String(n))` / `mapped_column(String(n))` (first positional type argument)."""
    if not isinstance(value, cst.Call):
        return None
    for arg in value.args:
        inner = arg.value
        if arg.keyword is None and isinstance(inner, cst.Call) and inner.args:
            from fastapi_review.semantics.columns import type_ancestors

            if "String" in type_ancestors(scope.imports.resolve(inner.func)) and isinstance(inner.args[0].value, cst.Integer):
                return int(inner.args[0].value.value)
    return None


def _datetime_mapping(value: cst.BaseExpression, scope: Scope) -> Optional[bool]:
    """How `type_annotation_map = {datetime: X}` (or `registry(type_annotation_map=...)`) maps datetime."""
    from fastapi_review.semantics.columns import is_timezone_aware, type_ancestors

    if isinstance(value, cst.Call):
        mapping = next((a.value for a in value.args if a.keyword and a.keyword.value == "type_annotation_map"), None)
        if mapping is None:
            return None
        value = mapping
    if not isinstance(value, cst.Dict):
        return None
    for element in value.elements:
        if not isinstance(element, cst.DictElement) or scope.imports.resolve(element.key) != "datetime.datetime":
            continue
        head = element.value.func if isinstance(element.value, cst.Call) else element.value
        if "DateTime" not in type_ancestors(scope.imports.resolve(head)):
            return None
        return is_timezone_aware(element.value)
    return None
