"""The per-file facts writer: the one visitor that records a file's FileFacts and ClassFacts
(classes and their ORM/schema markers, module-level bindings, routers, exception handlers,
functions, routes, query sites, test requests) for the ProjectIndex.

It runs right after the context visitor (`Scope`) at each node, before the rules, whatever
rules are selected, so a file's facts do not depend on the configuration that checked it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional

import libcst as cst

from fastapi_review.dispatch import iter_children
from fastapi_review.facts import APP, MIGRATIONS, ClassFacts, FunctionFacts, RouteFacts
from fastapi_review.semantics.columns import datetime_mapping, declared_table_columns, names_by_lowered_class, string_length
from fastapi_review.semantics.exceptions import HTTP_EXCEPTIONS, qualify_exception
from fastapi_review.semantics.http import status_code_value
from fastapi_review.semantics.indexes import flags_index, indexed_annotation, leading_columns
from fastapi_review.semantics.migrations import UNREADABLE, revision_ids, upgrade_operations
from fastapi_review.semantics.models import DECLARATIVE_FACTORIES
from fastapi_review.semantics.names import ORM_LIBRARIES, in_library
from fastapi_review.semantics.relationships import relationship_declaration
from fastapi_review.semantics.routes import marked_not_body, route_key, router_binding
from fastapi_review.semantics.schemas import annotated_with_description
from fastapi_review.semantics.scope import Scope
from fastapi_review.semantics.sessions import (
    SESSION_READ_METHODS,
    SESSIONMAKERS,
    is_session_annotation,
    is_session_expr,
    session_class_name,
    session_io_method,
    sessionmaker_kind,
)
from fastapi_review.semantics.types import type_refs
from fastapi_review.syntax import dotted_name, keyword_arg, keyword_is, positional_arg, source_text, string_value

_PATH_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)")
_QUERY_RESULTS = frozenset({"get", "get_one", "scalar", "scalars", "execute", "scalar_one", "scalar_one_or_none",
                            "one", "one_or_none", "first", "all", "unique", "merge", "refresh"})
_FILTERS = frozenset({"where", "filter", "filter_by", "order_by"})
# Column operators a plain b-tree index does not serve (pattern search, NULL tests): such a
# filter is no evidence that the column needs an index (FR504)
_UNINDEXABLE_OPERATORS = frozenset({
    "like", "ilike", "notlike", "notilike", "not_like", "not_ilike", "contains", "icontains", "endswith",
    "iendswith", "match", "regexp_match", "is_", "isnot", "is_not",
})
_CLIENT_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})


@dataclass
class _Frame:
    facts: FunctionFacts
    route: Optional[RouteFacts]
    statuses: list[int] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    orm_names: set[str] = field(default_factory=set)  # locals assigned from session queries
    returned_calls: list[str] = field(default_factory=list)
    returns_orm: bool = False


class FileFactsWriter:
    """See the module docstring."""

    def __init__(self, scope: Scope, is_test: bool, session_names: tuple[str, ...], locate: Callable[[cst.CSTNode, Callable[[int], None]], None]) -> None:
        self.scope = scope
        self.facts = scope.facts
        self.facts.imports = scope.imports.aliases  # filled in as the walk meets imports
        self.is_test = is_test
        self.session_names = session_names
        self.locate = locate
        self._frames: list[_Frame] = []

    # -- imports and classes -----------------------------------------------------------------
    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = dotted_name(node.module) if node.module is not None else None
        if module is not None and module.endswith("ext.asyncio") and in_library(module, *ORM_LIBRARIES):
            self.facts.uses_async_sqlalchemy = True
        if module is not None and in_library(module, *UPDATED_AT_LIBRARIES):
            self.facts.writes_updated_at = True
        if module == "sqlalchemy.dialects.postgresql" and not isinstance(node.names, cst.ImportStar):
            if any(isinstance(a.name, cst.Name) and a.name.value == "JSONB" for a in node.names):
                self.facts.uses_jsonb = True

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        scope = self.scope
        facts = scope.classes[-1].facts  # the Scope has just entered the class
        _read_class_markers(node, facts, scope)
        if len(scope.classes) == 1 and not scope.functions:
            self.facts.classes.append(facts)

    # -- module-level bindings -----------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        scope = self.scope
        if scope.functions and any(_names_updated_at(t.target) for t in node.targets):
            self.facts.writes_updated_at = True
        if self._frames and self._is_session_query(node.value, self._frames[-1].orm_names):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._frames[-1].orm_names.add(target.target.value)
        if not scope.functions:
            if not scope.classes:
                for target in node.targets:
                    if isinstance(target.target, cst.Name):
                        self._bind(target.target.value, node.value)
        elif (
            isinstance(node.value, cst.Call)
            and keyword_arg(node.value, "exception_handlers") is not None
            and not scope.in_class_body
            and any(isinstance(t.target, cst.Name) for t in node.targets)
        ):
            # an app built inside a factory function: its exception_handlers= still count
            bound = router_binding(node.value, scope.qualify(node.value.func) or "", scope)
            if bound is not None and bound[0] == "app":
                self._app_exception_handlers(node.value)

    def _bind(self, name: str, value: cst.BaseExpression) -> None:
        scope = self.scope
        facts = self.facts
        if facts.role == MIGRATIONS and name in ("revision", "down_revision"):
            ids = revision_ids(value)
            if name == "revision":
                facts.revision = ids[0] if ids is not None and len(ids) == 1 else UNREADABLE
            else:
                facts.down_revisions = ids if ids is not None else (UNREADABLE,)
        if not isinstance(value, cst.Call):
            if isinstance(value, cst.Subscript) and indexed_annotation(value, scope):
                facts.indexed_aliases.append(name)
            if isinstance(value, cst.Subscript) and annotated_with_description(value, scope):
                facts.described_aliases.append(name)
            elif isinstance(value, cst.Subscript) and (scope.imports.resolve(value.value) or "").endswith("Annotated"):
                inner = value.slice[0].slice.value if isinstance(value.slice[0].slice, cst.Index) else None
                if isinstance(inner, cst.Name) and inner.value in facts.described_aliases:
                    facts.described_aliases.append(name)  # an alias of a documented alias
                elif isinstance(inner, (cst.Name, cst.Attribute)):
                    qualified = scope.qualify(inner)
                    if qualified is not None:
                        facts.annotated_aliases[name] = qualified
            if isinstance(value, cst.Subscript) and is_session_annotation(value, scope):
                facts.session_aliases[name] = session_class_name(value, scope) or "AsyncSession"
            return
        callee = scope.qualify(value.func) or ""
        facts.call_bindings[name] = callee
        last = callee.rsplit(".", 1)[-1]
        if in_library(callee, "sqlalchemy") and last in DECLARATIVE_FACTORIES:
            facts.declarative_bases.append(name)
            if keyword_arg(value, "cls") is not None:
                facts.custom_declarative_bases.append(name)
        elif last == "generate_base":
            facts.declarative_bases.append(name)
            facts.custom_declarative_bases.append(name)
        elif in_library(callee, "sqlalchemy") and last in SESSIONMAKERS:
            facts.session_factories[name] = sessionmaker_kind(value, last, scope)
        else:
            bound = router_binding(value, callee, scope)
            if bound is None:
                return
            facts.routers[name] = bound[0]
            if bound[1]:
                facts.hidden_routers.append(name)
            if bound[0] == "app":
                self._app_exception_handlers(value)
                return
            declared = _response_keys(value, scope)
            if declared is None:
                facts.routers_with_unknown_responses.append(name)
            elif declared:
                facts.router_responses[name] = tuple(declared)
            prefix = keyword_arg(value, "prefix")
            if prefix is not None and isinstance(prefix.value, cst.SimpleString) and isinstance(prefix.value.evaluated_value, str):
                facts.router_prefixes[name] = prefix.value.evaluated_value

    def _app_exception_handlers(self, call: cst.Call) -> None:
        handlers = keyword_arg(call, "exception_handlers")
        if handlers is not None and isinstance(handlers.value, cst.Dict):  # FastAPI(exception_handlers={ValueError: handler})
            for element in handlers.value.elements:
                if isinstance(element, cst.DictElement):
                    self._exception_handler(element.key)

    def _exception_handler(self, expr: cst.BaseExpression) -> None:
        qualified = qualify_exception(expr, self.scope)
        if qualified is not None:
            self.facts.exception_handlers.append(qualified)

    # -- functions and routes ----------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope = self.scope
        for decorator in node.decorators:  # `@app.exception_handler(T)`
            call = decorator.decorator
            if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "exception_handler" and call.args:
                self._exception_handler(call.args[0].value)
        outer = ".".join(c.facts.name for c in scope.classes) if scope.classes and scope.functions[-1].is_method else ""
        local = f"{outer}.{node.name.value}" if outer else node.name.value
        qualname = f"{self.facts.module}.{local}"
        returns = type_refs(node.returns.annotation, scope, False) if node.returns else []
        facts = FunctionFacts(qualname=qualname, return_refs=tuple(returns), is_async=node.asynchronous is not None)
        if len(scope.functions) == 1 or (len(scope.functions) == 2 and scope.functions[-1].is_method and len(scope.classes) == 1):
            self.facts.functions[qualname] = facts
        if self.facts.role == MIGRATIONS and len(scope.functions) == 1 and not scope.classes and node.name.value == "upgrade":
            self.facts.migration_ops = upgrade_operations(node, scope)
        route = self._route_facts(node, qualname)
        self._frames.append(_Frame(facts, route))

    def _route_facts(self, node: cst.FunctionDef, qualname: str) -> Optional[RouteFacts]:
        function = self.scope.handler_being_visited(node)
        if function is None:
            return None
        route = function.routes[0]
        scope = self.scope
        response_expr: Optional[cst.BaseExpression] = None
        for r in function.routes:
            arg = keyword_arg(r.call, "response_model")
            if arg is not None:
                response_expr = None if isinstance(arg.value, cst.Name) and arg.value.value == "None" else arg.value
                break
        else:
            response_expr = node.returns.annotation if node.returns else None
        path_params = set(_PATH_PARAM.findall(route.path or ""))
        body: list[str] = []
        p = node.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            if param.annotation is None or param.name.value in path_params or marked_not_body(param, scope):
                continue
            body.extend(type_refs(param.annotation.annotation, scope, False))
        declared: list[int] = []
        unknown = False
        for r in function.routes:
            keys = _response_keys(r.call, scope)
            unknown = unknown or keys is None or r.router in self.facts.routers_with_unknown_responses
            declared.extend(keys or ())
            declared.extend(self.facts.router_responses.get(r.router, ()))
        facts = RouteFacts(
            handler=qualname,
            key=route_key(qualname, self.scope),
            method=route.method,
            path=None if route.path is None else self.facts.router_prefixes.get(route.router, "") + route.path,
            response_refs=tuple(type_refs(response_expr, scope, False)) if response_expr is not None else (),
            response_nested=tuple(type_refs(response_expr, scope, True)) if response_expr is not None else (),
            body_refs=tuple(body),
            declared=tuple(declared),
            declared_unknown=unknown,
            router=scope.imports.resolve_dotted(route.router) or f"{self.facts.module}.{route.router}",
        )
        self.facts.routes.append(facts)
        return facts

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = self._frames.pop()
        frame.facts.statuses = tuple(sorted(set(frame.statuses)))
        frame.facts.calls = tuple(dict.fromkeys(frame.calls))
        if frame.route is not None:
            frame.route.statuses = frame.facts.statuses
            frame.route.calls = frame.facts.calls
            frame.route.returns_orm = frame.returns_orm
            frame.route.returned_calls = tuple(dict.fromkeys(frame.returned_calls))

    # -- inside functions --------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        if self._frames:
            frame = self._frames[-1]
            callee = self.scope.callee(node)
            if callee in HTTP_EXCEPTIONS:
                status = keyword_arg(node, "status_code") or positional_arg(node, 0)
                code = status_code_value(status.value, self.scope) if status is not None else None
                if code is not None:
                    frame.statuses.append(code)
            else:
                target = self.scope.call_target(node)
                if target is not None:
                    frame.calls.append(target)
                method = session_io_method(node, self.scope, self.session_names)
                if method in SESSION_READ_METHODS:
                    frame.facts.db_reads = True
                elif method is not None:  # `add` too: no round trip until a flush, but it creates
                    frame.facts.db_writes = True
                    if method == "commit":
                        frame.facts.commits = True
        if self.is_test:
            self._test_request(node)
        elif self._frames and not self.facts.writes_updated_at and _writes_updated_at(node):
            self.facts.writes_updated_at = True
        func = node.func
        if self.facts.role == APP and not self.facts.creates_tables and _creates_all(node):
            self.facts.creates_tables = True
        if isinstance(func, cst.Attribute) and func.attr.value == "add_exception_handler" and node.args:
            self._exception_handler(node.args[0].value)
        if isinstance(func, cst.Attribute) and func.attr.value in _FILTERS:
            self._query_site(node, func)
        elif isinstance(func, cst.Attribute) and func.attr.value == "include_router" and node.args:
            parent = self.scope.qualify(func.value)
            child = self.scope.qualify(node.args[0].value)
            if parent is not None and child is not None:
                keys = _response_keys(node, self.scope)
                self.facts.router_includes.append((parent, child, tuple(keys or ()), keys is None))
            if keyword_is(node, "include_in_schema", "False") and child is not None:
                self.facts.hidden_includes.append(child)

    def _query_site(self, node: cst.Call, func: cst.Attribute) -> None:
        """`where(User.email == x)`, `order_by(User.created_at)`, `filter_by(email=x)`, with the
        columns the same statement filters on besides (its other conditions, and the
        where/filter calls earlier in the chain): an index on one of those may serve it."""
        columns = self._filtered_columns(node, func)
        if not columns:
            return
        chained: set[tuple[str, str]] = set()
        receiver = func.value
        while isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute):
            if receiver.func.attr.value in ("where", "filter", "filter_by"):
                chained |= self._filtered_columns(receiver, receiver.func)
            receiver = receiver.func.value
        sites = self.facts.query_sites
        start = len(sites)
        for model, column in sorted(columns):
            others = tuple(sorted(f"{m}|{c}" for m, c in (columns | chained) - {(model, column)}))
            sites.append((model, column, 0, others))

        def on_line(line: int) -> None:
            for i in range(start, start + len(columns)):
                model, column, _, others = sites[i]
                sites[i] = (model, column, line, others)

        self.locate(node, on_line)

    def _filtered_columns(self, node: cst.Call, func: cst.Attribute) -> set[tuple[str, str]]:
        columns: set[tuple[str, str]] = set()
        if func.attr.value == "filter_by":
            model = _chain_entity(func.value, self.scope)
            if model is not None:
                columns = {(model, a.keyword.value) for a in node.args if a.keyword is not None}
            return columns
        stack: list[cst.CSTNode] = [a.value for a in node.args]
        while stack:
            current = stack.pop()
            if (
                isinstance(current, cst.Call)
                and isinstance(current.func, cst.Attribute)
                and current.func.attr.value in _UNINDEXABLE_OPERATORS
            ):
                stack.extend(a.value for a in current.args)  # `User.name.ilike(q)`: no b-tree helps
                continue
            if isinstance(current, cst.Comparison) and all(
                isinstance(c.comparator, cst.Name) and c.comparator.value == "None" for c in current.comparisons
            ):
                continue  # `Model.deleted_at == None`: an IS NULL test, as `.is_(None)`
            if isinstance(current, cst.Attribute) and isinstance(current.value, cst.Name) and current.value.value[:1].isupper():
                qualified = self.scope.qualify(current.value)
                if qualified is not None:
                    columns.add((qualified, current.attr.value))
                continue
            if isinstance(current, (cst.Lambda, cst.FunctionDef)):
                continue
            stack.extend(iter_children(current))
        return columns

    def _test_request(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _CLIENT_METHODS or not node.args:
            return
        base = func.value.func if isinstance(func.value, cst.Call) else func.value  # `make_client().get(...)`
        receiver = (dotted_name(base) or "").lower()
        if "client" not in receiver and "app" not in receiver:
            return
        path = _path_pattern(node.args[0].value)
        if path is not None:
            self.facts.test_requests.append((func.attr.value.upper(), path))

    def visit_Return(self, node: cst.Return) -> None:
        if not self._frames or node.value is None:
            return
        frame = self._frames[-1]
        value = node.value.expression if isinstance(node.value, cst.Await) else node.value
        if self._is_session_query(value, frame.orm_names):
            frame.returns_orm = True
        elif isinstance(value, cst.Call):
            callee = self.scope.callee(value)
            if callee is not None:
                frame.returned_calls.append(callee)

    def _is_session_query(self, expr: cst.BaseExpression, results: set[str]) -> bool:
        """`await session.get(M, id)`, `(await session.scalars(q)).all()`, `result.scalar_one()`
        where `result` (in `results`) holds a query result."""
        node = expr.expression if isinstance(expr, cst.Await) else expr
        if isinstance(node, cst.Name):
            return node.value in results
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if node.func.attr.value not in _QUERY_RESULTS:
                return False
            receiver = node.func.value
            if is_session_expr(receiver, self.scope, self.session_names):
                return True
            node = receiver.expression if isinstance(receiver, cst.Await) else receiver
            if isinstance(node, cst.Name):
                return node.value in results
        return False

    # -- schema fields and routers -----------------------------------------------------------
    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        scope = self.scope
        if scope.at_module_level and isinstance(node.target, cst.Name) and node.value is not None:
            self._bind(node.target.value, node.value)  # `SessionDep: TypeAlias = Annotated[...]`
            return
        if scope.in_class_body and isinstance(node.target, cst.Name) and not node.target.value.startswith("_"):
            cls = scope.classes[-1].facts
            cls.field_refs = cls.field_refs + tuple(type_refs(node.annotation.annotation, scope, True))


UPDATED_AT = "updated_at"
# CRUD libraries whose update helpers set `updated_at` themselves
UPDATED_AT_LIBRARIES = ("fastcrud",)


def _names_updated_at(target: cst.BaseExpression) -> bool:
    """`obj.updated_at` or `data["updated_at"]` as an assignment target."""
    if isinstance(target, cst.Attribute):
        return target.attr.value == UPDATED_AT
    if isinstance(target, cst.Subscript) and len(target.slice) == 1:
        index = target.slice[0].slice
        return isinstance(index, cst.Index) and string_value(index.value) == UPDATED_AT
    return False


def _writes_updated_at(call: cst.Call) -> bool:
    """`update(M).values(updated_at=…)`, `M(updated_at=…)`, `setattr(o, "updated_at", …)`,
    `.values({"updated_at": …})`: the code itself writes the column."""
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value == UPDATED_AT:
                return True
        elif isinstance(arg.value, cst.Dict):
            if any(isinstance(e, cst.DictElement) and string_value(e.key) == UPDATED_AT for e in arg.value.elements):
                return True
    func = call.func
    return (
        isinstance(func, cst.Name) and func.value == "setattr" and len(call.args) >= 2
        and string_value(call.args[1].value) == UPDATED_AT
    )


def _chain_entity(expr: cst.BaseExpression, scope: Scope) -> Optional[str]:
    """The entity of `select(M)...` / `session.query(M)...`: M, qualified."""
    node = expr
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, (cst.Name, cst.Attribute)):
            name = node.func.attr.value if isinstance(node.func, cst.Attribute) else node.func.value
            if name in ("select", "query") and node.args:
                first = node.args[0].value
                return scope.qualify(first) if isinstance(first, (cst.Name, cst.Attribute)) else None
            if isinstance(node.func, cst.Attribute):
                node = node.func.value
                continue
        return None


def _response_keys(call: cst.Call, scope: Scope) -> Optional[list[int]]:
    """Statuses of a literal `responses={404: ...}`; None when it is not one (a helper call, a
    `**spread`, a variable): then what is declared is unknown."""
    arg = keyword_arg(call, "responses")
    if arg is None:
        return []
    if not isinstance(arg.value, cst.Dict):
        return None
    keys = []
    for element in arg.value.elements:
        if isinstance(element, cst.StarredDictElement):
            return None
        if isinstance(element, cst.DictElement):
            code = status_code_value(element.key, scope)
            if code is None and isinstance(element.key, cst.SimpleString):
                text = element.key.evaluated_value
                code = int(text) if isinstance(text, str) and text.isdigit() else None
            if code is not None:
                keys.append(code)
    return keys


def _path_pattern(expr: cst.BaseExpression) -> Optional[str]:
    """`"/users/1"` → "/users/1"; `f"/users/{uid}"` → "/users/*"; query strings dropped."""
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value.split("?", 1)[0] if isinstance(value, str) else None
    if isinstance(expr, cst.FormattedString):
        parts = []
        for part in expr.parts:
            parts.append(part.value if isinstance(part, cst.FormattedStringText) else "*")
        return "".join(parts).split("?", 1)[0]
    return None


def _creates_all(call: cst.Call) -> bool:
    """`Base.metadata.create_all(engine)` or `conn.run_sync(Base.metadata.create_all)`."""
    if isinstance(call.func, cst.Attribute) and call.func.attr.value == "create_all":
        return True
    return any(isinstance(arg.value, cst.Attribute) and arg.value.attr.value == "create_all" for arg in call.args)


def _read_class_markers(node: cst.ClassDef, facts: ClassFacts, scope: Scope) -> None:
    """`__tablename__` / `__table__` / `__abstract__ = True`, bound names, type_annotation_map."""
    body = node.body
    if not isinstance(body, cst.IndentedBlock):
        return
    attributes: list[str] = []
    indexed: set[str] = set()
    for stmt in body.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            attributes.append(stmt.name.value)
            if stmt.name.value == "__table_args__":
                indexed.add("*")  # computed (declared_attr)
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__tablename__" and names_by_lowered_class(stmt):
                facts.derived_tablename = "lower"
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
                if target.value == "__table_args__" and value is not None:
                    leading = leading_columns(value, scope)
                    indexed.update(leading if leading is not None else {"*"})
                elif isinstance(value, cst.Call) and flags_index(value):
                    indexed.add(target.value)
                relationship = relationship_declaration(small.annotation.annotation if isinstance(small, cst.AnnAssign) else None, value, scope)
                if relationship is not None:
                    facts.relationships[target.value] = relationship.strategy
                length = string_length(value, scope)
                if length is not None:
                    facts.string_lengths[target.value] = length
                if target.value in ("__tablename__", "__table__") and value is not None and not (
                    target.value == "__table__" and isinstance(value, cst.SimpleString)  # a query builder's table name
                ):
                    facts.has_tablename = True
                    facts.table_assigned = facts.table_assigned or target.value == "__table__"
                    facts.tablename = string_value(value) or "" if target.value == "__tablename__" else ""
                elif target.value == "__abstract__":
                    facts.abstract = isinstance(value, cst.Name) and value.value == "True"
                elif target.value in ("type_annotation_map", "registry") and value is not None:
                    facts.datetime_map = datetime_mapping(value, scope)
                elif target.value == "model_config" and value is not None:
                    facts.model_config.update(_config_literals(value))
    facts.attributes = tuple(attributes)
    facts.indexed_columns = tuple(sorted(indexed))
    facts.table_columns = declared_table_columns(body.body, scope)


_V1_RENAMED = {"orm_mode": "from_attributes"}


def _config_literals(value: cst.BaseExpression) -> dict[str, str]:
    """`ConfigDict(from_attributes=True)` / `{"from_attributes": True}` → {"from_attributes": "True"}."""
    if isinstance(value, cst.Call):
        return {a.keyword.value: source_text(a.value) for a in value.args if a.keyword is not None}
    if isinstance(value, cst.Dict):
        result = {}
        for element in value.elements:
            if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                key = element.key.evaluated_value
                if isinstance(key, str):
                    result[key] = source_text(element.value)
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
                    config[_V1_RENAMED.get(key, key)] = source_text(small.value)
    return config



