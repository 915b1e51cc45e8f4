"""FR205 untyped-request-body: a request body that FastAPI cannot validate."""

from __future__ import annotations

import libcst as cst

from fastapi_review.dispatch import NESTED_SCOPES, descendants
from fastapi_review.rule import Rule
from fastapi_review.semantics.http import REQUEST_CLASSES
from fastapi_review.semantics.routes import in_schema_requirements, marked_not_body
from fastapi_review.semantics.types import untyped_container, unwrap_annotation
from fastapi_review.syntax import keyword_arg


class UntypedRequestBody(Rule):
    """`payload: dict` or `await request.json()`: the body is neither validated nor documented."""

    code = "FR205"
    name = "untyped-request-body"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR205.md
    summary = "a request body typed dict/Any, or read with request.json() / request.form()"
    message = "{detail}: the request body is not validated nor documented; declare a Pydantic model parameter"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None:
            return
        if all(route.method == "websocket" for route in function.routes):
            return
        documented = in_schema_requirements(function.routes, self.ctx.scope)
        if documented is None:
            return
        p = node.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            if param.annotation is None or marked_not_body(param, self.ctx.scope):
                continue
            untyped = untyped_container(param.annotation.annotation, self.ctx.scope)
            if untyped is not None:
                self.report(
                    param.name,
                    requires=(function.route_requirement, *documented),
                    detail=f"parameter '{param.name.value}' of '{node.name.value}' is {untyped}",
                )

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
        documented = in_schema_requirements(function.routes, self.ctx.scope)
        if documented is None:
            return
        if not any(self.ctx.scope.imports.resolve(t) in REQUEST_CLASSES for t in unwrap_annotation(annotation, self.ctx.scope)):
            return
        if self._reads_raw_body(function.node, func.value.value) or self._declares_body(function.node):
            return  # a signed webhook (verified on the raw bytes), or a body already declared
        if any(keyword_arg(route.call, "openapi_extra") is not None for route in function.routes):
            return  # the body is documented by hand (and parsed by the handler's own code)
        if self._validates(function.node):
            return  # read, then validated: `Model.model_validate(await request.json())`
        self.report(node, requires=(function.route_requirement, *documented), detail=f"'{func.value.value}.{func.attr.value}()' reads the raw body")

    @staticmethod
    def _validates(handler: cst.FunctionDef) -> bool:
        """The handler validates what it reads: `model_validate`, `TypeAdapter(...).validate_python`,
        `parse_obj` (Pydantic 1)."""
        return any(
            isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in _VALIDATORS
            for n in descendants(handler.body, skip=NESTED_SCOPES)
        )

    @staticmethod
    def _reads_raw_body(handler: cst.FunctionDef, request: str) -> bool:
        """`await request.body()` in the handler too: the raw bytes are read for a signature
        check (a webhook whose sender fixes the payload), the JSON after."""
        for child in descendants(handler.body, skip=NESTED_SCOPES):
            if (
                isinstance(child, cst.Call) and isinstance(child.func, cst.Attribute) and child.func.attr.value == "body"
                and isinstance(child.func.value, cst.Name) and child.func.value.value == request
            ):
                return True
        return False

    def _declares_body(self, handler: cst.FunctionDef) -> bool:
        """A `Form(...)` / `File(...)` / `Body(...)` parameter: the body is declared (and validated);
        `request.form()` only re-reads it (for a library that wants the raw form)."""
        p = handler.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            for expr in (param.default, param.annotation.annotation if param.annotation else None):
                for node in descendants(expr) if expr is not None else ():
                    if isinstance(node, cst.Call) and (self.ctx.scope.imports.resolve(node.func) or "") in _BODY_MARKERS:
                        return True
        return False


_VALIDATORS = frozenset({"model_validate", "model_validate_json", "validate_python", "validate_json", "parse_obj", "parse_raw"})
_BODY_MARKERS = frozenset({"fastapi.Form", "fastapi.File", "fastapi.Body", "fastapi.params.Form", "fastapi.params.File", "fastapi.params.Body"})
