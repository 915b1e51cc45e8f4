"""FR207 route-on-app: a route declared on the FastAPI() application instead of an APIRouter."""

from __future__ import annotations

import libcst as cst

from fastapi_review.rule import Rule
from fastapi_review.semantics.routes import AppBinding, AppWithRouters, is_operational


class RouteOnApp(Rule):
    """Routes on the app object cannot be grouped, prefixed, tagged or tested per router."""

    code = "FR207"
    name = "route-on-app"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR207.md
    summary = "a route declared on the FastAPI() app instead of an APIRouter"
    message = "route '{handler}' is declared on the application '{app}': declare it on an APIRouter and include_router() it"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None:
            return
        for route in function.routes:
            if is_operational(route, node.name.value):
                return  # `/`, `/health`, `/version`: conventionally on the app
            if route.kind == "app":
                app = f"{self.ctx.facts.module}.{route.router}"
                self.report(node.name, requires=AppWithRouters(app), handler=node.name.value, app=route.router)
                return
            if route.kind is None:
                imported = self.ctx.scope.imports.resolve_dotted(route.router)
                if imported is not None:
                    requirements = (AppBinding(imported), AppWithRouters(imported))
                    self.report(node.name, requires=requirements, handler=node.name.value, app=route.router)
                    return
