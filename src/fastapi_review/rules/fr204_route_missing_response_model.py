"""FR204 route-missing-response-model: a route with no Pydantic response type."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.dispatch import NESTED_SCOPES, descendants
from fastapi_review.rule import Rule
from fastapi_review.semantics.context import Route
from fastapi_review.semantics.http import is_response_class, status_code_value
from fastapi_review.semantics.routes import schema_requirement
from fastapi_review.semantics.types import untyped_container
from fastapi_review.syntax import keyword_arg


class RouteMissingResponseModel(Rule):
    """Without a response model the OpenAPI schema says nothing and nothing filters the output."""

    code = "FR204"
    name = "route-missing-response-model"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR204.md
    summary = "a route handler with no Pydantic response model (none, dict or Any)"
    message = (
        "route handler '{handler}' has no Pydantic response model ({reason}): declare "
        "response_model= or return a schema type, so the response is validated and documented"
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None:
            return
        if not all(self._needs_model(route) for route in function.routes):
            return
        reason = self._annotation_problem(node.returns.annotation if node.returns else None)
        if reason == "no return annotation" and not self._returns_a_body(node):
            return  # returns nothing, or only Response objects: there is no JSON body to model
        if reason is not None:
            requirements = [function.route_requirement, *(schema_requirement(r, self.ctx.scope) for r in function.routes)]
            self.report(node.name, requires=requirements, handler=node.name.value, reason=reason)

    def _returns_a_body(self, node: cst.FunctionDef) -> bool:
        """Whether the handler returns a value that becomes a JSON body (not None, not a Response)."""
        scope = self.ctx.scope
        for child in descendants(node.body, skip=NESTED_SCOPES):
            if not isinstance(child, cst.Return) or child.value is None:
                continue
            value = child.value
            if isinstance(value, cst.Name) and value.value == "None":
                continue
            if isinstance(value, cst.Call) and is_response_class(scope.callee(value) or ""):
                continue
            return True
        return False

    def _needs_model(self, route: Route) -> bool:
        if route.method == "websocket" or route.hidden:
            return False
        if keyword_arg(route.call, "response_model") or keyword_arg(route.call, "response_class"):
            return False
        status = keyword_arg(route.call, "status_code")
        return status is None or status_code_value(status.value, self.ctx.scope) != 204

    def _annotation_problem(self, annotation: Optional[cst.BaseExpression]) -> Optional[str]:
        if annotation is None:
            return "no return annotation"
        scope = self.ctx.scope
        untyped = untyped_container(annotation, scope)
        if untyped is not None:
            return f"returns {untyped}"
        qualified = scope.imports.resolve(annotation)
        if qualified is not None and qualified.rsplit(".", 1)[-1] == "JSONResponse" and is_response_class(qualified):
            return "returns JSONResponse"
        return None
