"""FR206 post-without-status-code: `@X.post(...)` without `status_code=`."""

from __future__ import annotations

import re

import libcst as cst

from fastapi_review.dispatch import NESTED_SCOPES, descendants
from fastapi_review.rule import Rule, RuleFix
from fastapi_review.semantics.edits import add_keyword, imported_name
from fastapi_review.semantics.http import STATUS_MODULES, is_response_class
from fastapi_review.semantics.sessions import is_session_expr
from fastapi_review.syntax import keyword_arg


class PostWithoutStatusCode(Rule):
    """FastAPI answers 200 unless told otherwise; a create endpoint should answer 201."""

    code = "FR206"
    fix_safety = "unsafe"
    name = "post-without-status-code"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR206.md
    summary = "@X.post(...) without an explicit status_code="
    message = "POST route '{handler}' has no status_code=: FastAPI answers 200; set status_code=status.HTTP_201_CREATED for a create (or the code it really returns)"
    convention = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None:
            return
        creates: "bool | None" = None
        for route in function.routes:
            if route.method != "post":
                continue
            if creates is None:
                creates = self._creates(node) and not self._sets_own_status(node)
            if not creates:
                continue  # a login, a search, an action: 200 is right; or the handler answers itself
            if keyword_arg(route.call, "status_code") is not None:
                self.conforms()
                continue
            self.report(node.name, requires=route.requirement, fix=self._fix(route.call), handler=node.name.value)
            return

    def _creates(self, node: cst.FunctionDef) -> bool:
        if _CREATE_NAME.search(node.name.value):
            return True
        if _OTHER_NAME.search(node.name.value):
            return False
        for child in descendants(node.body):
            if isinstance(child, cst.Call) and isinstance(child.func, cst.Attribute) and child.func.attr.value in _CREATE_CALLS:
                if child.func.attr.value not in _SESSION_ADDS or is_session_expr(child.func.value, self.ctx.scope, self.ctx.session_names):
                    return True  # `.add()` counts on a session only: a set has one too
        return False

    def _sets_own_status(self, node: cst.FunctionDef) -> bool:
        """The handler decides its status itself: `response.status_code = …`, or it returns a
        `JSONResponse(...)` / `Response(...)` (the decorator's status_code= would not apply)."""
        scope = self.ctx.scope
        for child in descendants(node.body, skip=NESTED_SCOPES):
            if isinstance(child, cst.AssignTarget) and isinstance(child.target, cst.Attribute) and child.target.attr.value == "status_code":
                return True
            if isinstance(child, cst.Return) and isinstance(child.value, cst.Call) and is_response_class(scope.callee(child.value)):
                return True
        return False

    def _fix(self, call: cst.Call) -> "RuleFix | None":
        status = imported_name(self.ctx.scope.imports, self.ctx.data, "status", STATUS_MODULES)
        if any(arg.star for arg in call.args) or status is None:
            return None
        created = cst.Attribute(cst.Name(status), cst.Name("HTTP_201_CREATED"))
        fixed = add_keyword(call, "status_code", created)
        imports = (("fastapi", "status"),) if status == "status" else ()  # an alias is imported already
        return RuleFix("unsafe", f"Add status_code={status}.HTTP_201_CREATED", ((call, fixed),), imports)


# Evidence that a POST handler creates something (201 is then the right answer): its name says
# so, or it adds / creates / inserts / saves through some object.
_CREATE_NAME = re.compile(r"^(create|add|new|insert|register|signup|sign_up|upload|invite|issue|make)(_|$)|_create$")
_CREATE_CALLS = frozenset({"add", "add_all", "create", "insert", "save", "bulk_create", "create_one", "insert_one"})
_SESSION_ADDS = frozenset({"add", "add_all"})


# A name that says the handler does something else: a bulk delete that enqueues work through
# some `.add()`, a poll, a search
_OTHER_NAME = re.compile(
    r"^(bulk_)?(read|get|list|count|search|filter|find|query|delete|remove|update|patch|set|cancel|pause|resume"
    r"|poll|login|logout|refresh|validate|verify|check|preview|reset|sync|export|download|ping|health)(_|$)"
)



