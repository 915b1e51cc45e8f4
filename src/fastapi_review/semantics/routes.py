"""Routes: route-handler detection (RULES.md "Shared vocabulary": Route handler) and routers in
a file; across the project, which names are routers and apps, which routes the OpenAPI
document shows, which error statuses they declare and whether tests request them."""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from fastapi_review.facts import FileFacts, RouteFacts
from fastapi_review.project import MAX_HOPS, ProjectIndex, Requirement
from fastapi_review.semantics.context import Context, Route
from fastapi_review.syntax import dotted_name, keyword_arg, keyword_is, positional_arg, string_value

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


def _may_be_router(router: str, scope: Context) -> bool:
    """False when the name is bound in this module to an object that is not a FastAPI router:
    an instance of a local non-router class, or of another web framework's class."""
    callee = scope.facts.call_bindings.get(router)
    if callee is None:
        return True
    if callee.split(".", 1)[0] in _OTHER_FRAMEWORKS:
        return False
    local_class = any(c.qualname == callee for c in scope.facts.classes)
    return not local_class  # local router subclasses are already in facts.routers


def schema_requirement(route: Route, scope: Context) -> Requirement:
    """The index check that the route's router is not included with include_in_schema=False."""
    qualified = scope.imports.resolve_dotted(route.router) or f"{scope.facts.module}.{route.router}"
    return ShownInSchema(qualified)


def in_schema_requirements(routes: "list[Route]", scope: Context) -> Optional[list[Requirement]]:
    """For rules about the documented API: None when a route is hidden from the OpenAPI schema
    here (include_in_schema=False), else the index checks that no route's router is hidden
    (an HTML back office on FastAPI(openapi_url=None), an internal router)."""
    if any(route.hidden for route in routes):
        return None
    return [schema_requirement(route, scope) for route in routes]


def router_binding(call: cst.Call, callee: str, scope: Context) -> Optional[tuple[str, bool]]:
    """("app" / "router", hidden from the schema) when `call` (calling `callee`, qualified)
    makes a FastAPI app or an APIRouter (or an instance of a subclass), else None."""
    local = None if callee in APP_CLASSES or callee in ROUTER_CLASSES else _local_router_class(callee, scope.facts)
    if callee in APP_CLASSES or local == "app":
        return "app", keyword_is(call, "openapi_url", "None") or keyword_is(call, "include_in_schema", "False")
    if callee in ROUTER_CLASSES or local == "router" or callee.rsplit(".", 1)[-1].endswith("Router"):
        # `...Router` also covers project and third-party subclasses (polar.routing.APIRouter, InferringRouter)
        return "router", keyword_is(call, "include_in_schema", "False")
    return None


def _local_router_class(callee: str, facts: FileFacts) -> Optional[str]:
    """"app"/"router" for a subclass of FastAPI/APIRouter defined earlier in this module."""
    for cls in facts.classes:
        if cls.qualname == callee:
            if any(b in APP_CLASSES for b in cls.bases):
                return "app"
            if any(b in ROUTER_CLASSES for b in cls.bases):
                return "router"
    return None


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


def marked_not_body(param: cst.Param, scope: Context) -> bool:
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


def route_from_decorator(decorator: cst.Decorator, scope: Context) -> Optional[Route]:
    """The route this decorator declares, or None."""
    call = decorator.decorator
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return None
    method = call.func.attr.value
    if method not in ROUTE_METHODS:
        return None
    return _route(call.func.value, method, call, scope, path_index=0)


ROUTE_CLASSES = {"APIRoute": "api_route", "APIWebSocketRoute": "websocket"}


def endpoint_key(endpoint: cst.BaseExpression) -> Optional[str]:
    """How a registered endpoint names its handler, as `Scope` looks it up at the def: `name`;
    `self.name` (a class-based router's bound method); `factory()` (a function of this module
    that defines the handler and returns it)."""
    if isinstance(endpoint, cst.Name):
        return endpoint.value
    if isinstance(endpoint, cst.Attribute) and isinstance(endpoint.value, cst.Name) and endpoint.value.value == "self":
        return f"self.{endpoint.attr.value}"
    if isinstance(endpoint, cst.Call) and isinstance(endpoint.func, cst.Name):
        return f"{endpoint.func.value}()"
    return None


def route_from_add_api_route(call: cst.Call, scope: Context) -> Optional[tuple[str, Route]]:
    """`router.add_api_route("/path", endpoint, ...)`, `add_api_websocket_route(...)` and
    `APIRoute("/path", endpoint, ...)` (a route list's entry) → (endpoint key, route)."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in ("add_api_route", "add_api_websocket_route"):
        method = "websocket" if func.attr.value == "add_api_websocket_route" else "add_api_route"
    else:
        qualified = scope.callee(call) or ""
        if not qualified.startswith("fastapi") or qualified.rsplit(".", 1)[-1] not in ROUTE_CLASSES:
            return None
        method = ROUTE_CLASSES[qualified.rsplit(".", 1)[-1]]
    endpoint = positional_arg(call, 1) or keyword_arg(call, "endpoint")
    key = endpoint_key(endpoint.value) if endpoint is not None else None
    if key is None:
        return None
    if isinstance(func, cst.Attribute) and method != "api_route":
        route = _route(func.value, method, call, scope, path_index=0)
    else:  # APIRoute(...): the route object itself, whichever router's list it joins
        path_arg = positional_arg(call, 0) or keyword_arg(call, "path")
        path = string_value(path_arg.value) if path_arg is not None else None
        hidden = keyword_is(call, "include_in_schema", "False")
        route = Route("APIRoute", method, path, call, _http_methods(method, call), "router", hidden)
    return (key, route) if route is not None else None


def _route(router_expr: cst.BaseExpression, method: str, call: cst.Call, scope: Context, path_index: int) -> Optional[Route]:
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
        requirement = RouterBinding(imported)
    return Route(router, method, path, call, _http_methods(method, call), kind, hidden, requirement)


def route_key(qualname: str, scope: Context) -> str:
    """The RouteFacts key of the handler being visited (its def's ordinal disambiguates)."""
    return f"{qualname}@{scope.units[-1][0]}"


def handler_key(node: cst.FunctionDef, scope: Context) -> str:
    """`route_key` of the route handler `node`, from inside `visit_FunctionDef(node)`."""
    path = ".".join([*(c.facts.name for c in scope.classes), node.name.value])
    return route_key(f"{scope.facts.module}.{path}", scope)


# -- across the project ----------------------------------------------------------------------


def binding_kind(index: ProjectIndex, qualname: str) -> Optional[str]:
    """"app" / "router" for a name bound to FastAPI() / APIRouter() or a subclass call."""
    located = index.locate(qualname)
    if located is None:
        return None
    facts, name = located
    if name in facts.routers:
        return facts.routers[name]
    callee = facts.call_bindings.get(name)
    if callee is None:
        return None
    lineage = {callee, *index.ancestors(callee)}
    if lineage & APP_CLASSES:
        return "app"
    if lineage & ROUTER_CLASSES:
        return "router"
    return None


def hidden_routers(index: ProjectIndex) -> set[str]:
    """Canonical names of routers whose routes are not in the OpenAPI document: included with
    include_in_schema=False, created hidden, or included (transitively) into such a router or
    into an app without OpenAPI (`FastAPI(openapi_url=None)`)."""

    def compute() -> set[str]:
        hidden = {index.canonical(q) for f in index.files for q in f.hidden_includes}
        hidden |= {f"{f.module}.{name}" for f in index.files for name in f.hidden_routers}
        edges = [(index.canonical(parent), index.canonical(child)) for f in index.files for parent, child, _, _ in f.router_includes]
        changed = True
        while changed:
            changed = False
            for parent, child in edges:
                if parent in hidden and child not in hidden:
                    hidden.add(child)
                    changed = True
        return hidden

    return index.memo(hidden_routers, compute)


def route_by_key(index: ProjectIndex, key: str) -> Optional[RouteFacts]:
    """The route whose handler key (`RouteFacts.key`) is `key` (the first one declared)."""
    # one dict per index: a scan per question made the project phase quadratic in the routes
    by_key = index.memo(route_by_key, lambda: {r.key: r for r in reversed(list(index.routes()))})
    return by_key.get(key)


def raised_statuses(index: ProjectIndex, function: str) -> set[int]:
    """HTTPException statuses a function raises, directly or through project functions it calls."""
    seen: set[str] = set()
    statuses: set[int] = set()
    stack = [function]
    while stack:
        name = stack.pop()
        if name in seen or len(seen) > 200:
            continue
        seen.add(name)
        facts = index.function(name)
        if facts is None:
            continue
        statuses.update(facts.statuses)
        stack.extend(facts.calls)
    return statuses


def _router_declared(index: ProjectIndex, router: str, depth: int = 0) -> Optional[set[int]]:
    """Statuses a router's own responses= and its parents' (include_router) declare; None when
    some of them are not literal."""
    located = index.locate(router)
    if located is None or depth > MAX_HOPS:
        return set()
    facts, name = located
    if name in facts.routers_with_unknown_responses:
        return None
    declared = set(facts.router_responses.get(name, ()))
    canonical = f"{facts.module}.{name}"
    for f in index.files:
        for parent, child, statuses, unknown in f.router_includes:
            if index.canonical(child) != canonical:
                continue
            if unknown:
                return None
            above = _router_declared(index, parent, depth + 1)
            if above is None:
                return None
            declared |= set(statuses) | above
    return declared


def undocumented_statuses(index: ProjectIndex, handler: str) -> list[int]:
    """Raised statuses that the route, its router and the routers including it do not
    declare in responses= (never 422; nothing when a responses= is not a literal)."""
    route = route_by_key(index, handler)
    if route is None or route.declared_unknown:
        return []
    router_declared = _router_declared(index, route.router)
    if router_declared is None:
        return []
    raised = set(route.statuses)
    for callee in route.calls:
        raised |= raised_statuses(index, callee)
    declared = set(route.declared) | router_declared
    return sorted(s for s in raised if s not in declared and s != 422)


def is_tested(index: ProjectIndex, handler: str) -> bool:
    """Some test requests the route's path (parameters match any segment)."""
    route = route_by_key(index, handler)
    if route is None or route.path is None:
        return True
    requests = [req for f in index.files for req in f.test_requests]
    return any(path_matches(route.path, path) for _, path in requests)


# -- the questions deferred findings ask -------------------------------------------------------


class RouterBinding(Requirement, kind="router_binding"):
    """The imported name is bound to a FastAPI app or an APIRouter somewhere in the project."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return binding_kind(index, self.qualname) is not None


# Operational endpoints that conventionally live on the application itself.
OPERATIONAL_PATHS = re.compile(
    r"^/?$|^/(api/)?(health|healthz|healthcheck|health-check|ping|status|ready|readiness|live|liveness|"
    r"version|metrics|probe|livez|readyz|favicon\.ico|robots\.txt)/?$"
)


# A handler named for a probe, when its path is not a literal (`path=settings.health_path`)
_OPERATIONAL_HANDLER = re.compile(r"^_?(health|healthz|healthcheck|health_check|ping|ready|readiness|live|liveness|probe|livez|readyz)(_|$)")


def is_operational(route: Route, handler: str) -> bool:
    """A `/`, `/health`, `/ready`, `/version`-like route: operational, conventionally on the app,
    with nothing to document, and free to answer 503 to a probe.  An unknown path counts when
    the handler's name says probe."""
    if route.path is not None:
        return bool(OPERATIONAL_PATHS.match(route.path))
    return bool(_OPERATIONAL_HANDLER.match(handler))


class AppWithRouters(Requirement, kind="app_with_routers"):
    """The application includes routers somewhere in the project: it organises its routes in
    routers, so one declared on the app itself is an outlier."""

    app: str

    def holds(self, index: ProjectIndex) -> bool:
        app = index.canonical(self.app)
        parents = index.memo(AppWithRouters, lambda: {index.canonical(parent) for f in index.files for parent, *_ in f.router_includes})
        return app in parents


class AppBinding(Requirement, kind="app_binding"):
    """The imported name is bound to a FastAPI app (not a router)."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return binding_kind(index, self.qualname) == "app"


class ShownInSchema(Requirement, kind="shown_in_schema"):
    """The router's routes are in the OpenAPI document."""

    router: str

    def holds(self, index: ProjectIndex) -> bool:
        return index.canonical(self.router) not in hidden_routers(index)


class UndocumentedStatus(Requirement, kind="undocumented_status"):
    """The route raises statuses its responses= do not declare; the detail lists them."""

    handler: str  # RouteFacts.key

    def holds(self, index: ProjectIndex) -> bool:
        return bool(undocumented_statuses(index, self.handler))

    def detail(self, index: ProjectIndex) -> str:
        return ", ".join(map(str, undocumented_statuses(index, self.handler)))


class NoTestRequests(Requirement, kind="untested_route"):
    """No test of the project requests the route's path."""

    handler: str  # RouteFacts.key
    needs_whole_project = True

    def holds(self, index: ProjectIndex) -> bool:
        return not is_tested(index, self.handler)
