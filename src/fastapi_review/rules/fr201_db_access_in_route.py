"""FR201 db-access-in-route: a route handler that queries the database itself."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.project import Requirement
from fastapi_review.rule import Rule
from fastapi_review.semantics.names import ORM_LIBRARIES, in_library
from fastapi_review.semantics.routes import in_schema_requirements
from fastapi_review.semantics.sessions import SESSION_IO_METHODS, is_session_expr, session_alias_requirement
from fastapi_review.syntax import dotted_name

_STATEMENTS = frozenset({"select", "insert", "update", "delete"})


def is_statement_constructor(qualified: Optional[str]) -> bool:
    """`select` / `insert` / `update` / `delete` from SQLAlchemy or SQLModel."""
    if not qualified:
        return False
    module, _, last = qualified.rpartition(".")
    return last in _STATEMENTS and in_library(module, *ORM_LIBRARIES)


class DbAccessInRoute(Rule):
    """Queries in the handler instead of a service (business logic in the API layer)."""

    code = "FR201"
    name = "db-access-in-route"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR201.md
    summary = "a route handler that queries the database itself instead of calling a service"
    message = "route handler '{handler}' accesses the database itself ({what}); move the query into a service and call it"
    convention = True

    def setup(self) -> None:
        # per handler: the first certain access, and the first one the index must confirm
        self._found: dict[int, list[tuple[cst.Call, str, Optional[Requirement]]]] = {}

    def visit_Call(self, node: cst.Call) -> None:
        function = self.ctx.scope.route_function
        if function is None:
            return
        found = self._found.setdefault(id(function.node), [])
        if found and found[0][2] is None:
            return  # already have the first certain access
        access = self._access(node)
        if access is not None:
            found.append((node, *access))
            found.sort(key=lambda item: item[2] is not None)

    def _access(self, node: cst.Call) -> Optional[tuple[str, Optional[Requirement]]]:
        scope = self.ctx.scope
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in SESSION_IO_METHODS:
            receiver = func.value
            label = f"{dotted_name(receiver) or 'session'}.{func.attr.value}()"
            if is_session_expr(receiver, scope, self.ctx.session_names):
                return label, None
            requirement = session_alias_requirement(receiver, scope)
            if requirement is not None:
                return label, requirement
        qualified = scope.callee(node)
        if is_statement_constructor(qualified):
            return f"{qualified.rsplit('.', 1)[-1]}() statement", None  # type: ignore[union-attr]
        return None

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        found = self._found.pop(id(node), None)
        if not found:
            function = self.ctx.scope.function
            if function is not None and function.routes:
                self.conforms()  # a handler that leaves the database to others
            return
        call, what, requirement = found[0]
        function = self.ctx.scope.function
        route_requirement = function.route_requirement if function is not None else None
        documented = in_schema_requirements(function.routes, self.ctx.scope) if function is not None else []
        if documented is None:
            return  # hidden from the API schema: an HTML back office or an internal hook
        self.report(call, requires=(requirement, route_requirement, *documented), handler=node.name.value, what=what)
