"""The facts visitor: routes, functions, schema fields and test requests for the ProjectIndex.

It runs right after the context visitor, whatever rules are selected, so a file's facts do not
depend on the configuration that checked it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional

import libcst as cst

from fastapi_review.dispatch import iter_children
from fastapi_review.facts import FunctionFacts, RouteFacts
from fastapi_review.semantics.exceptions import HTTP_EXCEPTIONS
from fastapi_review.semantics.http import status_code_value
from fastapi_review.syntax import dotted_name, keyword_arg, positional_arg
from fastapi_review.semantics.routes import marked_not_body
from fastapi_review.semantics.scope import Scope
from fastapi_review.semantics.sessions import is_session_expr
from fastapi_review.semantics.types import type_refs


_PATH_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)")
_QUERY_RESULTS = frozenset({"get", "get_one", "scalar", "scalars", "execute", "scalar_one", "scalar_one_or_none",
                            "one", "one_or_none", "first", "all", "unique", "merge", "refresh"})
_FILTERS = frozenset({"where", "filter", "filter_by", "order_by"})
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


class ProjectFactsCollector:
    """See the module docstring."""

    def __init__(self, scope: Scope, is_test: bool, session_names: tuple[str, ...], locate: Callable[[cst.CSTNode, Callable[[int], None]], None]) -> None:
        self.scope = scope
        self.facts = scope.facts
        self.is_test = is_test
        self.session_names = session_names
        self.locate = locate
        self._frames: list[_Frame] = []

    # -- functions and routes ----------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope = self.scope
        outer = ".".join(c.facts.name for c in scope.classes) if scope.classes and scope.functions[-1].is_method else ""
        local = f"{outer}.{node.name.value}" if outer else node.name.value
        qualname = f"{self.facts.module}.{local}"
        returns = type_refs(node.returns.annotation, scope, False) if node.returns else []
        facts = FunctionFacts(qualname=qualname, return_refs=tuple(returns))
        if len(scope.functions) == 1 or (len(scope.functions) == 2 and scope.functions[-1].is_method and len(scope.classes) == 1):
            self.facts.functions[qualname] = facts
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
            elif callee is not None and not callee.startswith(("builtins.", "typing.")):
                frame.calls.append(callee)
            elif callee is None and isinstance(node.func, (cst.Name, cst.Attribute)):
                local = dotted_name(node.func)
                if local is not None and "." not in local:
                    frame.calls.append(f"{self.facts.module}.{local}")
        if self.is_test:
            self._test_request(node)
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _FILTERS:
            self._query_site(node, func)
        elif isinstance(func, cst.Attribute) and func.attr.value == "include_router" and node.args:
            parent = self.scope.qualify(func.value)
            child = self.scope.qualify(node.args[0].value)
            if parent is not None and child is not None:
                keys = _response_keys(node, self.scope)
                self.facts.router_includes.append((parent, child, tuple(keys or ()), keys is None))

    def _query_site(self, node: cst.Call, func: cst.Attribute) -> None:
        """`where(User.email == x)`, `order_by(User.created_at)`, `filter_by(email=x)`."""
        columns: set[tuple[str, str]] = set()
        if func.attr.value == "filter_by":
            model = _chain_entity(func.value, self.scope)
            if model is not None:
                columns = {(model, a.keyword.value) for a in node.args if a.keyword is not None}
        else:
            stack: list[cst.CSTNode] = [a.value for a in node.args]
            while stack:
                current = stack.pop()
                if isinstance(current, cst.Attribute) and isinstance(current.value, cst.Name) and current.value.value[:1].isupper():
                    qualified = self.scope.qualify(current.value)
                    if qualified is not None:
                        columns.add((qualified, current.attr.value))
                    continue
                if isinstance(current, (cst.Lambda, cst.FunctionDef)):
                    continue
                stack.extend(iter_children(current))
        if not columns:
            return
        sites = self.facts.query_sites
        start = len(sites)
        for model, column in sorted(columns):
            sites.append((model, column, 0))

        def on_line(line: int) -> None:
            for i in range(start, start + len(columns)):
                model, column, _ = sites[i]
                sites[i] = (model, column, line)

        self.locate(node, on_line)

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

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._frames and self._is_session_query(node.value, self._frames[-1].orm_names):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._frames[-1].orm_names.add(target.target.value)

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
        if scope.in_class_body and isinstance(node.target, cst.Name) and not node.target.value.startswith("_"):
            cls = scope.classes[-1].facts
            cls.field_refs = cls.field_refs + tuple(type_refs(node.annotation.annotation, scope, True))



def route_key(qualname: str, scope: object) -> str:
    """The RouteFacts key of the handler being visited (its def's ordinal disambiguates)."""
    return f"{qualname}@{scope.units[-1][0]}"  # type: ignore[attr-defined]


def handler_key(node: cst.FunctionDef, scope: Scope) -> str:
    """`route_key` of the route handler `node`, from inside `visit_FunctionDef(node)`."""
    path = ".".join([*(c.facts.name for c in scope.classes), node.name.value])
    return route_key(f"{scope.facts.module}.{path}", scope)


def _chain_entity(expr: cst.BaseExpression, scope: object) -> Optional[str]:
    """The entity of `select(M)...` / `session.query(M)...`: M, qualified."""
    node = expr
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, (cst.Name, cst.Attribute)):
            name = node.func.attr.value if isinstance(node.func, cst.Attribute) else node.func.value
            if name in ("select", "query") and node.args:
                first = node.args[0].value
                return scope.qualify(first) if isinstance(first, (cst.Name, cst.Attribute)) else None  # type: ignore[attr-defined]
            if isinstance(node.func, cst.Attribute):
                node = node.func.value
                continue
        return None


def _response_keys(call: cst.Call, scope: object) -> Optional[list[int]]:
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
            code = status_code_value(element.key, scope)  # type: ignore[arg-type]
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


def router_responses(call: cst.Call, scope: object) -> Optional[tuple[int, ...]]:
    """Statuses declared by `APIRouter(responses={...})`; None when not a literal dict."""
    keys = _response_keys(call, scope)
    return tuple(keys) if keys is not None else None
