"""FR203 route-missing-docstring: a route handler without a docstring (OpenAPI description)."""

from __future__ import annotations

import libcst as cst

from fastapi_review.rule import Rule
from fastapi_review.semantics.routes import is_operational, schema_requirement
from fastapi_review.syntax import keyword_arg


class RouteMissingDocstring(Rule):
    """The docstring is the operation's description in the OpenAPI docs."""

    code = "FR203"
    name = "route-missing-docstring"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR203.md
    summary = "a route handler without a docstring (its OpenAPI description)"
    message = "route handler '{handler}' has no docstring: FastAPI uses it as the operation's description in the OpenAPI docs"
    convention = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None:
            return
        if node.get_docstring() is not None:
            self.conforms()
            return
        scope = self.ctx.scope
        for route in function.routes:
            if route.hidden or route.method == "websocket" or is_operational(route, node.name.value):
                return  # hidden, a websocket (not in OpenAPI), or `/health`-like: nothing to describe
            if keyword_arg(route.call, "description") is not None:
                self.conforms()
                return
        requirements = [function.route_requirement, *(schema_requirement(r, scope) for r in function.routes)]
        self.report(node.name, requires=requirements, handler=node.name.value)
