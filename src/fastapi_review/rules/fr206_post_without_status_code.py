"""FR206 post-without-status-code: `@X.post(...)` without `status_code=`."""

from __future__ import annotations

import libcst as cst

from fastapi_review.rule import Rule
from fastapi_review.semantics.routes import keyword_arg


class PostWithoutStatusCode(Rule):
    """FastAPI answers 200 unless told otherwise; a create endpoint should answer 201."""

    code = "FR206"
    name = "post-without-status-code"
    summary = "@X.post(...) without an explicit status_code="
    message = "POST route '{handler}' has no status_code=: FastAPI answers 200; set status_code=status.HTTP_201_CREATED for a create (or the code it really returns)"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None:
            return
        for route in function.routes:
            if route.method == "post" and keyword_arg(route.call, "status_code") is None:
                self.report(node.name, requires=route.requirement, handler=node.name.value)
                return
