"""Route-handler detection (RULES.md "Shared vocabulary": Route handler)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import libcst as cst

from fastapi_review.facts import Requirement
from fastapi_review.syntax import dotted_name, keyword_arg, keyword_is, positional_arg, string_value

if TYPE_CHECKING:
    from fastapi_review.semantics.scope import Scope

ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "trace", "api_route", "websocket"}
)
APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI"})
# Other frameworks whose objects also have .get("/path") / .post("/path") decorators.
_OTHER_FRAMEWORKS = frozenset(
    {"flask", "quart", "sanic", "slack_bolt", "aiohttp", "litestar", "bottle", "ninja", "falcon",
     "django", "tornado", "robyn", "blacksheep", "aiocache", "cachetools", "celery", "typer", "click"}
)
ROUTER_CLASSES = frozenset({"fastapi.APIRouter", "fastapi.routing.APIRouter"})


@dataclass(frozen=True)
class Route:
    """One route a handler serves: `@<router>.<method>(<path>, ...)` or `add_api_route(...)`."""

    router: str  # the router expression, e.g. "router", "app", "api.router"
    method: str  # "get", "post", ..., "api_route", "websocket", "add_api_route"
    path: Optional[str]  # the literal path, when it is one
    call: cst.Call  # the decorator call (or the add_api_route call): its keywords
    http_methods: frozenset[str]  # {"GET"}, {"POST", "PUT"}, {"WEBSOCKET"}
    kind: Optional[str]  # "app" / "router" when bound in this module, else None
    hidden: bool  # include_in_schema=False on the decorator or router, or an app without OpenAPI
    # set when the decorator's router is imported and the path is not a literal: the
    # project index must confirm the router before findings about this route count
    requirement: Optional[Requirement] = None


def _may_be_router(router: str, scope: "Scope") -> bool:
    """False when the name is bound in this module to an object that is not a FastAPI router:
    an instance of a local non-router class, or of another web framework's class."""
    callee = scope.facts.call_bindings.get(router)
    if callee is None:
        return True
    if callee.split(".", 1)[0] in _OTHER_FRAMEWORKS:
        return False
    local_class = any(c.qualname == callee for c in scope.facts.classes)
    return not local_class  # local router subclasses are already in facts.routers


def schema_requirement(route: "Route", scope: "Scope") -> Requirement:
    """The index check that the route's router is not included with include_in_schema=False."""
    qualified = scope.imports.resolve_dotted(route.router) or f"{scope.facts.module}.{route.router}"
    return ("shown_in_schema", qualified)


_SEGMENT_PARAM = re.compile(r"{[^}]*}")


def path_matches(route_path: str, requested: str) -> bool:
    """Whether a requested path (with `*` for interpolated parts) reaches a route path; the
    route's prefix may be unknown, so the request only has to end with the route's segments."""
    route = [s for s in route_path.strip("/").split("/") if s]
    request = [s for s in requested.strip("/").split("/") if s]
    if len(request) < len(route):
        return False
    tail = request[len(request) - len(route):] if route else []
    return all(
        _SEGMENT_PARAM.fullmatch(r) is not None or "*" in q or r == q
        for r, q in zip(route, tail)
    )


# Parameter markers that make a parameter something other than the JSON body.
NOT_BODY_MARKERS = frozenset({"Depends", "Security", "Query", "Header", "Path", "Cookie", "Form", "File"})


def marked_not_body(param: cst.Param, scope: "Scope") -> bool:
    """`x: T = Depends(...)` / `Annotated[T, Query()]`: a FastAPI marker says it is not the body."""
    markers: list[cst.BaseExpression] = []
    if isinstance(param.default, cst.Call):
        markers.append(param.default.func)
    annotation = param.annotation.annotation if param.annotation else None
    if isinstance(annotation, cst.Subscript) and (scope.qualify(annotation.value) or "").endswith("Annotated"):
        for element in annotation.slice[1:]:
            if isinstance(element.slice, cst.Index) and isinstance(element.slice.value, cst.Call):
                markers.append(element.slice.value.func)
    for marker in markers:
        qualified = scope.imports.resolve(marker) or ""
        if qualified.startswith("fastapi") and qualified.rsplit(".", 1)[-1] in NOT_BODY_MARKERS:
            return True
    return False


def _http_methods(method: str, call: cst.Call) -> frozenset[str]:
    if method == "websocket":
        return frozenset({"WEBSOCKET"})
    if method in ("api_route", "add_api_route"):
        methods = keyword_arg(call, "methods")
        if methods is None:
            return frozenset({"GET"})
        if isinstance(methods.value, (cst.List, cst.Tuple, cst.Set)):
            values = [string_value(e.value) for e in methods.value.elements if isinstance(e, cst.Element)]
            if all(values):
                return frozenset(v.upper() for v in values if v)
        return frozenset({"*"})  # not a literal: any method
    return frozenset({method.upper()})


def route_from_decorator(decorator: cst.Decorator, scope: "Scope") -> Optional[Route]:
    """The route this decorator declares, or None."""
    call = decorator.decorator
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return None
    method = call.func.attr.value
    if method not in ROUTE_METHODS:
        return None
    return _route(call.func.value, method, call, scope, path_index=0)


def route_from_add_api_route(call: cst.Call, scope: "Scope") -> Optional[tuple[str, Route]]:
    """`router.add_api_route("/path", endpoint, ...)` → (endpoint name, route)."""
    if not isinstance(call.func, cst.Attribute) or call.func.attr.value != "add_api_route":
        return None
    endpoint = positional_arg(call, 1) or keyword_arg(call, "endpoint")
    if endpoint is None or not isinstance(endpoint.value, cst.Name):
        return None
    route = _route(call.func.value, "add_api_route", call, scope, path_index=0)
    return (endpoint.value.value, route) if route is not None else None


def _route(router_expr: cst.BaseExpression, method: str, call: cst.Call, scope: "Scope", path_index: int) -> Optional[Route]:
    router = dotted_name(router_expr)
    if router is None:
        return None
    path_arg = positional_arg(call, path_index) or keyword_arg(call, "path")
    path = string_value(path_arg.value) if path_arg is not None else None
    kind, hidden = scope.router_kind(router)
    hidden = hidden or keyword_is(call, "include_in_schema", "False")
    if kind is None and not _may_be_router(router, scope):
        return None
    requirement: Optional[Requirement] = None
    # Starlette requires paths to start with "/": `cache.get("key")` is not a route.
    looks_like_path = path is not None and (path == "" or path.startswith("/"))
    if not looks_like_path and kind is None:
        imported = scope.imports.resolve_dotted(router)
        if imported is None:
            return None  # `cache.get(key)`: not a route
        requirement = ("router_binding", imported)
    return Route(router, method, path, call, _http_methods(method, call), kind, hidden, requirement)
