"""FR209 error-returned-not-raised: a route handler that returns an error instead of raising."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.rule import Rule
from fastapi_review.semantics.http import (
    RESPONSE_BASES,
    is_response_class,
    status_code_value,
)
from fastapi_review.semantics.context import FunctionInfo
from fastapi_review.semantics.routes import is_operational
from fastapi_review.semantics.types import unwrap_annotation
from fastapi_review.syntax import keyword_arg, positional_arg, string_value

_ERROR_KEYS = frozenset({"error", "errors"})
# an error envelope is small: {"error": msg}, {"status": "error", "error": msg, "code": 404}
_ENVELOPE_KEYS = 3


class ErrorReturnedNotRaised(Rule):
    """An error returned as data is a 200 (or an undocumented status) that clients must sniff."""

    code = "FR209"
    name = "error-returned-not-raised"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR209.md
    summary = "a route handler returning an error ({'error': ...}, a 4xx/5xx response) instead of raising"
    message = "route handler '{handler}' {detail}: raise HTTPException (or a domain exception with a handler) instead"

    def visit_Return(self, node: cst.Return) -> None:
        function = self.ctx.scope.route_function
        if function is None or node.value is None:
            return
        error = self._error_value(node.value)
        if error is None:
            return
        detail, code = error
        if code is not None and (
            (code >= 500 and _is_probe(function))
            or all(code in _documented_statuses(route.call) for route in function.routes)
        ):
            return  # a probe's 503, or `responses={409: {...}}`: the route documents this answer
        self.report(node, requires=function.route_requirement, handler=function.node.name.value, detail=detail)

    def _error_value(self, value: cst.BaseExpression) -> Optional[tuple[str, Optional[int]]]:
        """What the returned value says wrong, and the status it answers with (None: a 2xx dict)."""
        if isinstance(value, cst.Dict):
            if len(value.elements) > _ENVELOPE_KEYS:
                return None  # a payload that carries an "errors" field, not an error envelope
            for element in value.elements:
                if isinstance(element, cst.DictElement) and string_value(element.key) in _ERROR_KEYS:
                    return f"returns an {string_value(element.key)!r} dict with a success status", None
            return None
        if isinstance(value, cst.Call) and is_response_class(self.ctx.scope.callee(value)):
            status = keyword_arg(value, "status_code") or positional_arg(value, 1)
            code = status_code_value(status.value, self.ctx.scope) if status is not None else None
            if code is not None and code >= 400:
                return f"returns a {code} response", code
        return None

    def visit_Assign(self, node: cst.Assign) -> None:
        function = self.ctx.scope.route_function
        if function is None:
            return
        for target in node.targets:
            attr = target.target
            if not (isinstance(attr, cst.Attribute) and attr.attr.value == "status_code" and isinstance(attr.value, cst.Name)):
                continue
            annotation = function.params.get(attr.value.value)
            if annotation is None or not any(
                self.ctx.scope.imports.resolve(t) in RESPONSE_BASES for t in unwrap_annotation(annotation, self.ctx.scope)
            ):
                continue
            code = status_code_value(node.value, self.ctx.scope)
            if code is not None and code >= 400 and not (code >= 500 and _is_probe(function)):
                self.report(
                    node, requires=function.route_requirement, handler=function.node.name.value,
                    detail=f"sets {attr.value.value}.status_code = {code} and returns",
                )


def _is_probe(function: FunctionInfo) -> bool:
    """A health or readiness probe: answering 503 is its contract, not an error returned."""
    return bool(function.routes) and all(is_operational(r, function.node.name.value) for r in function.routes)


def _documented_statuses(call: cst.Call) -> set[int]:
    """The integer keys of a literal `responses={404: ..., 409: ...}` on the route decorator."""
    arg = keyword_arg(call, "responses")
    if arg is None or not isinstance(arg.value, cst.Dict):
        return set()
    found = set()
    for element in arg.value.elements:
        if isinstance(element, cst.DictElement) and isinstance(element.key, cst.Integer):
            found.add(int(element.key.value))
    return found
