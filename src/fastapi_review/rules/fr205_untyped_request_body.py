"""FR205 untyped-request-body: a request body that FastAPI cannot validate."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.rule import Rule
from fastapi_review.semantics.http import REQUEST_CLASSES
from fastapi_review.semantics.sessions import unwrap_annotation
from fastapi_review.semantics.types import untyped_container

# Parameter markers that make a parameter something other than the JSON body.
_NOT_BODY = frozenset({"Depends", "Security", "Query", "Header", "Path", "Cookie", "Form", "File"})


class UntypedRequestBody(Rule):
    """`payload: dict` or `await request.json()`: the body is neither validated nor documented."""

    code = "FR205"
    name = "untyped-request-body"
    summary = "a request body typed dict/Any, or read with request.json() / request.form()"
    message = "{detail}: the request body is not validated nor documented; declare a Pydantic model parameter"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None:
            return
        if all(route.method == "websocket" for route in function.routes):
            return
        p = node.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            if param.annotation is None or self._is_marked_not_body(param):
                continue
            untyped = untyped_container(param.annotation.annotation, self.ctx.scope)
            if untyped is not None:
                self.report(
                    param.name,
                    requires=function.route_requirement,
                    detail=f"parameter '{param.name.value}' of '{node.name.value}' is {untyped}",
                )

    def _is_marked_not_body(self, param: cst.Param) -> bool:
        markers: list[cst.BaseExpression] = []
        if isinstance(param.default, cst.Call):
            markers.append(param.default.func)
        annotation = param.annotation.annotation if param.annotation else None
        if isinstance(annotation, cst.Subscript) and (self.ctx.scope.qualify(annotation.value) or "").endswith("Annotated"):
            for element in annotation.slice[1:]:
                if isinstance(element.slice, cst.Index) and isinstance(element.slice.value, cst.Call):
                    markers.append(element.slice.value.func)
        return any(self._marker_name(m) in _NOT_BODY for m in markers)

    def _marker_name(self, expr: cst.BaseExpression) -> Optional[str]:
        qualified = self.ctx.scope.imports.resolve(expr)
        if qualified is None or not qualified.startswith("fastapi"):
            return None
        return qualified.rsplit(".", 1)[-1]

    def visit_Call(self, node: cst.Call) -> None:
        function = self.ctx.scope.route_function
        func = node.func
        if function is None or not isinstance(func, cst.Attribute) or func.attr.value not in ("json", "form"):
            return
        if not isinstance(func.value, cst.Name):
            return
        annotation = function.params.get(func.value.value)
        if annotation is None:
            return
        if any(self.ctx.scope.imports.resolve(t) in REQUEST_CLASSES for t in unwrap_annotation(annotation, self.ctx.scope)):
            self.report(node, requires=function.route_requirement, detail=f"'{func.value.value}.{func.attr.value}()' reads the raw body")
