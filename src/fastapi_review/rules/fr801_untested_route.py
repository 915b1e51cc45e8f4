"""FR801 untested-route: a route no test requests."""

from __future__ import annotations

import libcst as cst

from fastapi_review.rule import Rule
from fastapi_review.semantics.routes import NoTestRequests, handler_key


class UntestedRoute(Rule):
    """An endpoint no test calls is an endpoint nobody knows still works."""

    code = "FR801"
    name = "untested-route"
    summary = "(project-wide) a route whose path no test under tests/ requests"
    message = "route '{handler}' ({path}) is not requested by any test: add a test-client call for it"
    default_enabled = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None or self.ctx.is_test_module:
            return
        route = function.routes[0]
        if route.path is None or route.method == "websocket":
            return
        handler = handler_key(node, self.ctx.scope)
        self.report(node.name, requires=[NoTestRequests(handler), function.route_requirement], handler=node.name.value, path=route.path or "/")
