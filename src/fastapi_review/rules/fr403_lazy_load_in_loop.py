"""FR403 lazy-load-in-loop: a lazy relationship read per row of a query result (queries linked to their models)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.dispatch import descendants
from fastapi_review.rule import Rule
from fastapi_review.semantics.loops import statement_root
from fastapi_review.semantics.relationships import LazyRelationship
from fastapi_review.semantics.sessions import is_session_expr
from fastapi_review.semantics.sqlalchemy_facts import LOADER_OPTIONS
from fastapi_review.syntax import dotted_name

_EAGER_OPTIONS = frozenset(o for o in LOADER_OPTIONS if o in ("selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager", "noload", "raiseload"))
_RESULTS = frozenset({"all", "scalars", "unique", "fetchall", "partitions"})


class LazyLoadInLoop(Rule):
    """Reading a lazy relationship per row is N+1 (and MissingGreenlet under asyncio)."""

    code = "FR403"
    name = "lazy-load-in-loop"
    summary = "(project-wide) a lazy relationship read in a loop over query results without a loader option"
    message = "'{read}' loads the lazy relationship '{attribute}' once per row (N+1): add .options(selectinload({model}.{attribute})) to the query, or lazy='selectin'"

    def setup(self) -> None:
        # local names holding a select(M) statement: name → (M qualified, eager-loaded attributes)
        self._statements: dict[str, tuple[str, frozenset[str]]] = {}
        self._results: dict[str, tuple[str, frozenset[str]]] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._statements.clear()
        self._results.clear()

    def visit_Assign(self, node: cst.Assign) -> None:
        names = [t.target.value for t in node.targets if isinstance(t.target, cst.Name)]
        statement = self._select_entity(node.value)
        if statement is not None:
            self._statements.update(dict.fromkeys(names, statement))
            return
        result = self._query_result(node.value)
        if result is not None:
            self._results.update(dict.fromkeys(names, result))

    def _select_entity(self, expr: cst.BaseExpression) -> Optional[tuple[str, frozenset[str]]]:
        root = statement_root(expr, self.ctx.scope)
        if root is None or root[0] != "select" or not root[1].args:
            return None
        first = root[1].args[0].value
        if not isinstance(first, cst.Name):
            return None
        model = self.ctx.scope.qualify(first)
        return (model, _eager_attributes(expr)) if model is not None else None

    def _query_result(self, expr: cst.BaseExpression) -> Optional[tuple[str, frozenset[str]]]:
        """`(await session.scalars(stmt)).all()`, `result.scalars()`, `session.execute(select(M))`."""
        node = expr.expression if isinstance(expr, cst.Await) else expr
        legacy = self._legacy_query(node)
        if legacy is not None:
            return legacy
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            receiver = node.func.value
            if method in ("scalars", "execute", "stream_scalars") and is_session_expr(receiver, self.ctx.scope, self.ctx.session_names) and node.args:
                statement = node.args[0].value
                if method == "execute":
                    return None  # rows of tuples, not entities
                if isinstance(statement, cst.Name):
                    return self._statements.get(statement.value)
                return self._select_entity(statement)
            if method not in _RESULTS:
                return None
            node = receiver.expression if isinstance(receiver, cst.Await) else receiver
            if isinstance(node, cst.Name):
                return self._results.get(node.value)
        return None

    def _legacy_query(self, expr: cst.BaseExpression) -> Optional[tuple[str, frozenset[str]]]:
        root = _legacy_root(expr)
        if root is None or len(root.args) != 1 or not isinstance(root.args[0].value, cst.Name):
            return None
        if not is_session_expr(root.func.value, self.ctx.scope, self.ctx.session_names):  # type: ignore[attr-defined]
            return None
        model = self.ctx.scope.qualify(root.args[0].value)
        return (model, _eager_attributes(expr)) if model is not None else None

    def visit_For(self, node: cst.For) -> None:
        if not isinstance(node.target, cst.Name):
            return
        iterable = node.iter
        source = self._results.get(iterable.value) if isinstance(iterable, cst.Name) else self._query_result(iterable)
        if source is None:
            return
        model, eager = source
        variable = node.target.value
        unit = self.ctx.current_unit
        reported: set[str] = set()
        for read in _attribute_reads(node.body, variable):
            attribute = read.attr.value
            if attribute in eager or attribute in reported:
                continue
            reported.add(attribute)
            self.report(
                read,
                unit=unit,
                requires=LazyRelationship(model, attribute),
                read=f"{variable}.{attribute}",
                attribute=attribute,
                model=model.rsplit(".", 1)[-1],
            )


_QUERY_CHAIN = frozenset({"all", "filter", "filter_by", "order_by", "limit", "offset", "options", "join", "outerjoin",
                          "distinct", "where", "yield_per", "execution_options"})


def _legacy_root(expr: cst.BaseExpression) -> Optional[cst.Call]:
    """The `session.query(M)` call at the root of `session.query(M).filter(...).all()`."""
    node = expr
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        if node.func.attr.value == "query":
            return node
        if node.func.attr.value not in _QUERY_CHAIN:
            return None
        node = node.func.value
    return None


def _eager_attributes(expr: cst.BaseExpression) -> frozenset[str]:
    """Attributes named in `.options(selectinload(M.a), joinedload(M.b).selectinload(...))`."""
    found: set[str] = set()
    for current in descendants(expr):
        if isinstance(current, cst.Call) and (dotted_name(current.func) or "").rsplit(".", 1)[-1] in _EAGER_OPTIONS:
            for arg in current.args:
                name = dotted_name(arg.value)
                if name is not None:
                    found.add(name.rsplit(".", 1)[-1])
    return frozenset(found)


def _attribute_reads(body: cst.CSTNode, variable: str) -> list[cst.Attribute]:
    """`variable.x` attribute reads in a loop body (not inside nested functions)."""
    return [
        n for n in descendants(body, (cst.FunctionDef, cst.Lambda, cst.ClassDef))
        if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name) and n.value.value == variable
    ]
