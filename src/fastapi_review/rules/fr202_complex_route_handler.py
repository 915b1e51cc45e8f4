"""FR202 complex-route-handler: too many statements or branches in a route handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import libcst as cst

from fastapi_review.rule import Rule
from fastapi_review.semantics.routes import in_schema_requirements


@dataclass(frozen=True)
class ComplexRouteHandlerOptions:
    """Options of FR202."""

    max_statements: int = 15
    max_branches: int = 4


def count_statements_and_branches(body: Sequence[cst.BaseStatement]) -> tuple[int, int]:
    """Statements (recursively; nested defs count as one) and branches (if/elif/for/while/except/case)."""
    statements = branches = 0
    stack: list[cst.CSTNode] = list(body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, cst.SimpleStatementLine):
            statements += len(stmt.body)
            continue
        statements += 1
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        if isinstance(stmt, (cst.If, cst.For, cst.While)) and not _is_guard_clause(stmt):
            branches += 1
        if isinstance(stmt, (cst.Try, cst.TryStar)):
            branches += len(stmt.handlers)
            stack.extend(s for h in stmt.handlers for s in _block(h.body))
            if stmt.finalbody is not None:
                stack.extend(_block(stmt.finalbody.body))
        if isinstance(stmt, cst.Match):
            branches += len(stmt.cases)
            stack.extend(s for case in stmt.cases for s in _block(case.body))
        body_attr = getattr(stmt, "body", None)
        if isinstance(body_attr, cst.BaseSuite):
            stack.extend(_block(body_attr))
        orelse = getattr(stmt, "orelse", None)
        if isinstance(orelse, cst.If):
            stack.append(orelse)  # elif: a statement and a branch of its own
        elif isinstance(orelse, cst.Else):
            stack.extend(_block(orelse.body))
    return statements, branches


def _is_guard_clause(stmt: cst.CSTNode) -> bool:
    """`if not allowed: raise HTTPException(...)`: validation, not a branch of the logic."""
    if not isinstance(stmt, cst.If) or stmt.orelse is not None:
        return False
    body = _block(stmt.body)
    return len(body) == 1 and isinstance(body[0], cst.SimpleStatementLine) and all(
        isinstance(small, cst.Raise) for small in body[0].body
    )


def _block(suite: cst.BaseSuite) -> Sequence[cst.BaseStatement]:
    if isinstance(suite, cst.IndentedBlock):
        return suite.body
    return [cst.SimpleStatementLine(body=suite.body)] if isinstance(suite, cst.SimpleStatementSuite) else []


def _without_docstring(body: Sequence[cst.BaseStatement]) -> Sequence[cst.BaseStatement]:
    first = body[0] if body else None
    if (
        isinstance(first, cst.SimpleStatementLine)
        and len(first.body) == 1
        and isinstance(first.body[0], cst.Expr)
        and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    ):
        return body[1:]
    return body


class ComplexRouteHandler(Rule):
    """Business logic in the handler: more statements or branches than a thin handler needs."""

    code = "FR202"
    name = "complex-route-handler"
    summary = "a route handler with too many statements or branches (business logic in the API layer)"
    message = "route handler '{handler}' has {detail}; move the business logic into a service"
    Options = ComplexRouteHandlerOptions

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None:
            return
        statements, branches = count_statements_and_branches(_without_docstring(_block(node.body)))
        problems = []
        if statements > self.options.max_statements:
            problems.append(f"{statements} statements (max {self.options.max_statements})")
        if branches > self.options.max_branches:
            problems.append(f"{branches} branches (max {self.options.max_branches})")
        if problems:
            # a handler hidden from the API schema (an HTML back office, an internal hook) is no
            # part of the API layer the checklist keeps thin
            documented = in_schema_requirements(function.routes, self.ctx.scope)
            if documented is None:
                return
            requires = (function.route_requirement, *documented)
            self.report(node.name, requires=requires, handler=node.name.value, detail=" and ".join(problems))
