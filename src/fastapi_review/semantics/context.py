"""What the traversal knows at a point of a file — the classes and functions around it, the
routes a function serves — and `Context`, the interface through which the per-file knowledge
modules (routes, sessions, types, …) read it.  `Scope` is the implementation; declaring the
interface here keeps those modules below the Scope that calls them (no import circle)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Protocol

import libcst as cst

from fastapi_review.facts import ClassFacts, FileFacts
from fastapi_review.project import Requirement
from fastapi_review.semantics.names import ImportMap


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


@dataclass
class ClassInfo:
    """A class being visited."""

    node: cst.ClassDef
    facts: ClassFacts
    # attributes that hold a session: `session: AsyncSession` in the class body, or set in
    # `__init__` from a parameter (`self._db = db`) or a factory call; → the parameter's name
    # when only that name says "session" (checked against `session-names`), else None.
    # Worked out on the first question about a `self.` attribute (sessions.is_session_expr).
    session_attrs: Optional[dict[str, Optional[str]]] = None


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
    # locals bound to an instance of a class named by its call: `repo = UserRepository(session)`,
    # `repository = ProductRepository.from_session(session)` → the class's qualified name
    instances: dict[str, str] = field(default_factory=dict)
    hidden_routers: list[str] = field(default_factory=list)

    @property
    def route_requirement(self) -> Optional[Requirement]:
        """None when this is certainly a route handler; else what the index must confirm."""
        if any(r.requirement is None for r in self.routes):
            return None
        return self.routes[0].requirement if self.routes else None



class Context(Protocol):
    """The traversal context as the knowledge modules see it (implemented by `Scope`)."""

    facts: FileFacts
    imports: ImportMap
    classes: list[ClassInfo]
    functions: list[FunctionInfo]
    units: list[tuple[int, cst.CSTNode]]
    session_factories: dict[str, str]
    session_aliases: dict[str, str]
    module_sessions: set[str]

    @property
    def function(self) -> Optional[FunctionInfo]:
        """The innermost enclosing function."""

    @property
    def in_class_body(self) -> bool:
        """Directly in a class body (not inside one of its methods)."""

    def qualify(self, node: cst.BaseExpression) -> Optional[str]:
        """Qualified name of a Name/Attribute chain: through imports, else module-local."""

    def callee(self, call: cst.Call) -> Optional[str]:
        """The qualified name of the called function (through imports)."""

    def call_target(self, call: cst.Call) -> Optional[str]:
        """The qualified name a call names, as the project phase knows functions."""

    def class_qualname(self, name: str) -> str:
        """Module-qualified name of a class defined at this point."""

    def router_kind(self, name: str) -> tuple[Optional[str], bool]:
        """("app"/"router"/None, hidden from the schema) of a router name at this point."""
