"""FR301–FR304: errors in the API layer (generic exceptions, status literals, HTTPException use)."""

from __future__ import annotations

import libcst as cst

from fastapi_review.dispatch import NESTED_SCOPES, descendants

from fastapi_review.rule import Rule, RuleFix
from fastapi_review.semantics.edits import imported_name
from fastapi_review.semantics.routes import in_schema_requirements
from fastapi_review.semantics.exceptions import (
    HTTP_EXCEPTIONS,
    NoExceptionHandler,
    builtin_lineage,
    exception_type,
    is_http_exception,
    qualify_exception,
)
from fastapi_review.semantics.http import (
    STABLE_STATUS_CONSTANTS,
    STATUS_MODULES,
    is_response_class,
    status_code_value,
    status_constant,
)
from fastapi_review.syntax import keyword_arg, positional_arg

GENERIC_EXCEPTIONS = frozenset(
    f"builtins.{n}" for n in ("Exception", "ValueError", "RuntimeError", "KeyError", "TypeError", "LookupError")
)


class GenericExceptionInRoute(Rule):
    """A generic exception raised in a handler becomes a bare 500 Internal Server Error."""

    code = "FR301"
    name = "generic-exception-in-route"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR301.md
    summary = "raise Exception/ValueError/RuntimeError/... in a route handler (a bare 500)"
    message = (
        "route handler '{handler}' raises {exception}, which FastAPI turns into a bare 500: "
        "raise HTTPException with a status and detail, or a domain exception with a registered handler"
    )

    def setup(self) -> None:
        # raises in the body of a `try` of the handler, with the types its `except` clauses catch
        self._caught: dict[int, frozenset[str]] = {}

    def visit_Try(self, node: cst.Try) -> None:
        if self.ctx.scope.route_function is None:
            return
        caught: set[str] = set()
        for handler in node.handlers:
            if not self._answers(handler):
                continue  # it re-raises or logs: the exception still ends as a 500
            if handler.type is None:
                caught.add("builtins.BaseException")
                continue
            types = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
            caught.update(q for q in (qualify_exception(t, self.ctx.scope) for t in types) if q is not None)
        if not caught:
            return
        for child in descendants(node.body, skip=NESTED_SCOPES):
            if isinstance(child, cst.Raise):
                self._caught[id(child)] = self._caught.get(id(child), frozenset()) | frozenset(caught)

    def _answers(self, handler: cst.ExceptHandler) -> bool:
        """The except clause answers the request: it returns, or raises HTTPException or a
        project exception (not a bare `raise`, not another generic exception)."""
        for child in descendants(handler.body, skip=NESTED_SCOPES):
            if isinstance(child, cst.Return):
                return True
            if isinstance(child, cst.Raise):
                raised = exception_type(child.exc)
                if raised is not None and qualify_exception(raised, self.ctx.scope) not in GENERIC_EXCEPTIONS:
                    return True
        return False

    def visit_Raise(self, node: cst.Raise) -> None:
        function = self.ctx.scope.route_function
        raised = exception_type(node.exc)
        if function is None or raised is None:
            return
        qualified = qualify_exception(raised, self.ctx.scope)
        if qualified not in GENERIC_EXCEPTIONS:
            return
        if self._caught.get(id(node), frozenset()).intersection(builtin_lineage(qualified)):
            return  # the handler's own `except` catches it (and answers for it)
        self.report(
            node,
            requires=(NoExceptionHandler(builtin_lineage(qualified)), function.route_requirement),
            handler=function.node.name.value,
            exception=qualified.removeprefix("builtins."),
        )


class HttpStatusLiteral(Rule):
    """`404` says less than `status.HTTP_404_NOT_FOUND` and is easy to mistype."""

    code = "FR302"
    fix_safety = "safe"
    name = "http-status-literal"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR302.md
    summary = "an integer literal status code in HTTPException / responses / route decorators"
    message = "status code {code} written as a literal: use fastapi.status.{constant}"
    convention = True

    def visit_Call(self, node: cst.Call) -> None:
        scope = self.ctx.scope
        if scope.callee(node) in HTTP_EXCEPTIONS:
            self._check(keyword_arg(node, "status_code") or positional_arg(node, 0))
        elif is_response_class(scope.callee(node)):
            self._check(keyword_arg(node, "status_code") or positional_arg(node, 1))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None:
            return
        for route in function.routes:
            self._check(keyword_arg(route.call, "status_code"))

    def _check(self, arg: "cst.Arg | None") -> None:
        if arg is None:
            return
        if isinstance(arg.value, cst.Attribute):  # status.HTTP_404_NOT_FOUND, HTTPStatus.OK
            self.conforms()
            return
        if not isinstance(arg.value, cst.Integer):
            return
        code = status_code_value(arg.value, self.ctx.scope)
        constant = status_constant(code) if code is not None else None
        if constant is not None:
            self.report(arg.value, fix=self._fix(arg.value, code), code=code, constant=constant)

    def _fix(self, literal: cst.Integer, code: int) -> "RuleFix | None":
        constant = STABLE_STATUS_CONSTANTS.get(code)
        status = imported_name(self.ctx.scope.imports, self.ctx.data, "status", STATUS_MODULES)
        if constant is None or status is None:
            return None
        replacement = cst.Attribute(cst.Name(status), cst.Name(constant), lpar=literal.lpar, rpar=literal.rpar)
        imports = ((self._status_module(), "status"),) if status == "status" else ()  # an alias is imported already
        return RuleFix("safe", f"Use {status}.{constant}", ((literal, replacement),), imports)

    def _status_module(self) -> str:
        """`starlette` in a file that uses Starlette and not FastAPI (no new dependency), else `fastapi`."""
        packages = {target.split(".", 1)[0] for target in self.ctx.scope.imports.aliases.values()}
        return "starlette" if "starlette" in packages and "fastapi" not in packages else "fastapi"


class HttpExceptionMissingDetail(Rule):
    """Without `detail`, clients get only the status phrase and no reason."""

    code = "FR303"
    name = "http-exception-missing-detail"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR303.md
    summary = "HTTPException(...) without detail="
    message = "HTTPException without detail: say what went wrong (detail=...) so clients can act on it"
    convention = True

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.scope.callee(node) not in HTTP_EXCEPTIONS:
            return
        if any(arg.star for arg in node.args):
            return  # detail may come from **kwargs
        if keyword_arg(node, "detail") is not None or positional_arg(node, 1) is not None:
            self.conforms()
            return
        function = self.ctx.scope.route_function
        documented = in_schema_requirements(function.routes, self.ctx.scope) if function is not None else []
        if documented is not None:  # a handler hidden from the schema is no API contract
            self.report(node, requires=documented)


class HttpExceptionInService(Rule):
    """Services should not know HTTP: raise a domain exception and map it in the API layer."""

    code = "FR304"
    name = "http-exception-in-service"
    summary = "HTTPException raised in service code (an HTTP concern in business logic)"
    message = "HTTPException raised in service code: raise a domain exception and map it to a status in the API layer"
    default_enabled = False

    def visit_Raise(self, node: cst.Raise) -> None:
        ctx = self.ctx
        if not ctx.in_service_code:
            return
        raised = exception_type(node.exc)
        if raised is not None and is_http_exception(raised, ctx.scope):
            self.report(node)
