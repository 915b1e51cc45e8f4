"""Route-handler detection (RULES.md "Shared vocabulary": Route handler)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import libcst as cst

from fastapi_review.semantics.names import dotted_name

if TYPE_CHECKING:
    from fastapi_review.semantics.scope import Scope

ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "trace", "api_route", "websocket"}
)


@dataclass(frozen=True)
class RouteDecorator:
    """`@<router>.<method>(<path>, ...)` on a handler."""

    router: str  # the router expression, e.g. "router" or "app"
    method: str  # "get", "post", ..., "api_route", "websocket"
    path: Optional[str]  # the literal path, when it is one
    call: cst.Call


def string_value(expr: Optional[cst.BaseExpression]) -> Optional[str]:
    """The value of a plain (non-f) string literal, else None."""
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def keyword_arg(call: cst.Call, name: str) -> Optional[cst.Arg]:
    """The `name=` argument of a call, if present."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def route_decorator(decorator: cst.Decorator, scope: "Scope") -> Optional[RouteDecorator]:
    """The route this decorator declares, or None."""
    call = decorator.decorator
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return None
    method = call.func.attr.value
    if method not in ROUTE_METHODS:
        return None
    router = dotted_name(call.func.value)
    if router is None:
        return None
    path_arg = next((a for a in call.args if a.keyword is None and a.star == ""), None) or keyword_arg(call, "path")
    path = string_value(path_arg.value) if path_arg is not None else None
    if path is None and router not in scope.facts.routers:
        return None
    return RouteDecorator(router=router, method=method, path=path, call=call)


def is_route_handler(node: cst.FunctionDef, scope: "Scope") -> bool:
    """Decorated as a route of a FastAPI app or APIRouter."""
    return any(route_decorator(d, scope) is not None for d in node.decorators)
