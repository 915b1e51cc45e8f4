"""FR210 shadowed-route: a route that an earlier route on the same router always matches first."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator, Optional

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


def _pattern(template: str) -> Optional[str]:
    """Starlette's regular expression for a path template (or one segment of it); None for
    unknown converters."""
    parts, position = [], 0
    for match in _PARAM.finditer(template):
        parts.append(re.escape(template[position:match.start()]))
        converter = _CONVERTERS.get(match.group(2) or "str")
        if converter is None:
            return None
        # a parameter of a later route is matched only by parameters that accept anything
        parts.append(f"(?:{converter}|{_ANY})" if converter in ("[^/]+", ".*") else converter)
        position = match.end()
    parts.append(re.escape(template[position:]))
    return "^" + "".join(parts) + "$"


def path_regex(path: str) -> Optional[re.Pattern[str]]:
    """Starlette's compiled form of a path template; None for unknown converters."""
    pattern = _pattern(path)
    return None if pattern is None else re.compile(pattern)


@lru_cache(maxsize=4096)
def _segment_regex(segment: str) -> Optional[re.Pattern[str]]:
    """One segment's compiled pattern (segments repeat across routes: `{item_id}`)."""
    pattern = _pattern(segment)
    return None if pattern is None else re.compile(pattern)


def _representative(path: str) -> str:
    return _PARAM.sub(_ANY, path)


def _methods(route: Route) -> frozenset[str]:
    methods = route.http_methods
    return methods | {"HEAD"} if "GET" in methods else methods  # Starlette serves HEAD for GET


def _same_methods(earlier: Route, later: Route) -> bool:
    """Whether a request `later` serves could reach `earlier` by its method."""
    if "WEBSOCKET" in earlier.http_methods or "WEBSOCKET" in later.http_methods:
        return earlier.http_methods == later.http_methods
    return "*" in earlier.http_methods or "*" in later.http_methods or bool(_methods(earlier) & later.http_methods)


def shadows(earlier: Route, later: Route) -> bool:
    """Whether `earlier` matches every request `later` would, by a parameter over a literal."""
    if earlier.path is None or later.path is None or not _same_methods(earlier, later):
        return False
    regex = path_regex(earlier.path)
    representative = _representative(later.path)
    if regex is None or not regex.match(representative):
        return False
    # a duplicate path (parameters in the same places) is not this rule's business
    return _representative(earlier.path) != representative


_Seen = tuple[int, Route, LineOf]  # (declaration order, route, its handler's line)


class _Node:
    """One segment depth of the trie: children by literal segment and by segment with a
    parameter, and the routes that end here."""

    __slots__ = ("literal", "param", "routes")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.param: dict[str, _Node] = {}
        self.routes: list[_Seen] = []


class _RouteIndex:
    """The routes declared so far on one router, so that a new route meets only the earlier
    routes that could match it (keeps the rule near-linear in the number of routes).

    A parameter that is not a `:path` converter never matches a `/`, so an earlier route can
    match a later one only with as many segments, and segment by segment only where its segment
    equals the later one's or holds a parameter: routes are kept in a trie of their segments
    (literal segments looked up, segments with a parameter all followed).  `:path` routes match
    across segments and are compared with every later route.
    """

    def __init__(self) -> None:
        self.root = _Node()
        self.spanning: list[_Seen] = []  # routes with a `:path` parameter
        self.count = 0

    def add(self, route: Route, line: LineOf) -> None:
        if route.path is None:
            return
        seen = (self.count, route, line)
        self.count += 1
        if any(converter == "path" for _, converter in _PARAM.findall(route.path)):
            self.spanning.append(seen)
            return
        node = self.root
        for segment in route.path.split("/"):
            children = node.param if _PARAM.search(segment) else node.literal
            child = children.get(segment)
            if child is None:
                child = children[segment] = _Node()
            node = child
        node.routes.append(seen)

    def shadowing(self, route: Route) -> Optional[_Seen]:
        """The first earlier route that shadows `route`, if any."""
        if route.path is None:
            return None
        representative = _representative(route.path)
        # the trie reaches only routes whose every segment matches: what is left to compare
        # is the methods, and that the paths are not duplicates
        found = [
            seen for seen in _walk(self.root, representative.split("/"), 0)
            if _same_methods(seen[1], route) and _representative(seen[1].path or "") != representative
        ]
        found += [seen for seen in self.spanning if shadows(seen[1], route)]
        return min(found, key=lambda seen: seen[0]) if found else None


def _walk(node: _Node, segments: list[str], depth: int) -> Iterator[_Seen]:
    if depth == len(segments):
        yield from node.routes
        return
    literal = node.literal.get(segments[depth])
    if literal is not None:
        yield from _walk(literal, segments, depth + 1)
    for template, child in node.param.items():
        regex = _segment_regex(template)
        if regex is not None and regex.match(segments[depth]):
            yield from _walk(child, segments, depth + 1)


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
        self._seen: dict[str, _RouteIndex] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None:
            return
        decorated = [r for r in function.routes if r.method != "add_api_route"]
        for route in decorated:
            index = self._seen.get(route.router)
            shadowing = index.shadowing(route) if index is not None else None
            if shadowing is not None:
                _, earlier, line = shadowing
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
        line = LineOf(node.name, self.ctx.current_unit)
        for route in decorated:
            self._seen.setdefault(route.router, _RouteIndex()).add(route, line)
