"""FR203 route-missing-docstring: a route handler without a docstring (OpenAPI description)."""

from __future__ import annotations

import libcst as cst

from fastapi_review.rule import Rule
from fastapi_review.semantics.routes import Route, keyword_arg


def excluded_from_schema(route: Route) -> bool:
    """`include_in_schema=False`: the route is not in the OpenAPI document."""
    arg = keyword_arg(route.call, "include_in_schema")
    return arg is not None and isinstance(arg.value, cst.Name) and arg.value.value == "False"


class RouteMissingDocstring(Rule):
    """The docstring is the operation's description in the OpenAPI docs."""

    code = "FR203"
    name = "route-missing-docstring"
    summary = "a route handler without a docstring (its OpenAPI description)"
    message = "route handler '{handler}' has no docstring: FastAPI uses it as the operation's description in the OpenAPI docs"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.route_function
        if function is None or function.node is not node or node.get_docstring() is not None:
            return
        for route in function.routes:
            if keyword_arg(route.call, "description") is not None or excluded_from_schema(route):
                return
        self.report(node.name, requires=function.route_requirement, handler=node.name.value)
