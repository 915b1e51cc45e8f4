"""FR305 undocumented-error-status: a route raises a status its responses= does not declare."""

from __future__ import annotations

import libcst as cst

from fastapi_review.rule import Rule
from fastapi_review.semantics.routes import UndocumentedStatus, handler_key, schema_requirement


class UndocumentedErrorStatus(Rule):
    """Statuses missing from `responses=` are invisible in OpenAPI and to generated clients."""

    code = "FR305"
    name = "undocumented-error-status"
    summary = "(project-wide) a route raising an HTTPException status that responses= does not declare"
    message = "route '{handler}' can answer {statuses} (HTTPException, directly or through the functions it calls) but its responses= does not declare it"
    default_enabled = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None or any(route.hidden for route in function.routes):
            return  # not in the OpenAPI document at all
        scope = self.ctx.scope
        handler = handler_key(node, self.ctx.scope)
        undocumented = UndocumentedStatus(handler)
        requirements = [undocumented, function.route_requirement]
        requirements += [schema_requirement(route, scope) for route in function.routes]
        self.report(node.name, requires=requirements, handler=node.name.value, statuses=undocumented)
