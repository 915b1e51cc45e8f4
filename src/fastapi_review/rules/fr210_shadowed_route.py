"""FR210 shadowed-route: a route that an earlier route on the same router always matches first."""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from fastapi_review.rule import LineOf, Rule
from fastapi_review.semantics.context import Route

# Starlette's path converters (starlette.convertors) as regular expressions.
_CONVERTERS = {
    "str": "[^/]+",
    "path": ".*",
    "int": "[0-9]+",
    "float": r"[0-9]+(?:\.[0-9]+)?",
    "uuid": "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
}
_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-zA-Z_][a-zA-Z0-9_]*))?}")
# Stands for "any value" of a later route's parameter: only a parameter can match it.
_ANY = "\x00"


def path_regex(path: str) -> Optional[re.Pattern[str]]:
    """Starlette's compiled form of a path template; None for unknown converters."""
    parts, position = [], 0
    for match in _PARAM.finditer(path):
        parts.append(re.escape(path[position:match.start()]))
        converter = _CONVERTERS.get(match.group(2) or "str")
        if converter is None:
            return None
        # a parameter of a later route is matched only by parameters that accept anything
        parts.append(f"(?:{converter}|{_ANY})" if converter in ("[^/]+", ".*") else converter)
        position = match.end()
    parts.append(re.escape(path[position:]))
    return re.compile("^" + "".join(parts) + "$")


def _representative(path: str) -> str:
    return _PARAM.sub(_ANY, path)


def _methods(route: Route) -> frozenset[str]:
    methods = route.http_methods
    return methods | {"HEAD"} if "GET" in methods else methods  # Starlette serves HEAD for GET


def shadows(earlier: Route, later: Route) -> bool:
    """Whether `earlier` matches every request `later` would, by a parameter over a literal."""
    if earlier.path is None or later.path is None:
        return False
    if "WEBSOCKET" in earlier.http_methods or "WEBSOCKET" in later.http_methods:
        if earlier.http_methods != later.http_methods:
            return False
    elif not ("*" in earlier.http_methods or "*" in later.http_methods or _methods(earlier) & later.http_methods):
        return False
    regex = path_regex(earlier.path)
    representative = _representative(later.path)
    if regex is None or not regex.match(representative):
        return False
    # a duplicate path (parameters in the same places) is not this rule's business
    return _representative(earlier.path) != representative


class ShadowedRoute(Rule):
    """Starlette matches routes in declaration order: `/users/{id}` before `/users/me` hides the latter."""

    code = "FR210"
    name = "shadowed-route"
    summary = "a route hidden by an earlier route whose path parameter matches its literal segment"
    message = (
        "route {method} {path} ('{handler}') can never be reached: {earlier_method} {earlier_path} "
        "(line {line}) on '{router}' is declared first and matches it; declare this route before it"
    )

    def setup(self) -> None:
        self._seen: dict[str, list[tuple[Route, LineOf]]] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None:
            return
        decorated = [r for r in function.routes if r.method != "add_api_route"]
        for route in decorated:
            for earlier, line in self._seen.get(route.router, []):
                if shadows(earlier, route):
                    self.report(
                        node.name,
                        requires=route.requirement,
                        method="/".join(sorted(route.http_methods)),
                        path=route.path,
                        handler=node.name.value,
                        earlier_method="/".join(sorted(earlier.http_methods)),
                        earlier_path=earlier.path,
                        line=line,
                        router=route.router,
                    )
                    break
        line = LineOf(node.name, self.ctx.current_unit)
        for route in decorated:
            self._seen.setdefault(route.router, []).append((route, line))
